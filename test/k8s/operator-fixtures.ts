// Shared setup of the operator's integration tests on the real control plane
// (harness.ts): the CRDs, the operator's ServiceAccount with the generated RBAC (tests
// never run the operator as cluster-admin), volumes for broker PVCs, and a stand-in for
// the brokers' admin API where a test needs brokers the harness does not run.
import { readdirSync } from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import type { KafkaCluster } from "../../operator/api/types.ts";
import type { ClusterView, KafkaAdmin, Reassignment } from "../../operator/cluster/kafka-admin.ts";
import { ReassignmentUnsupportedError } from "../../operator/cluster/kafka-admin.ts";
import type { PartitionInfo } from "../../operator/cluster/scale-down.ts";
import { operatorRbac } from "../../operator/rbac.ts";
import type { ControlPlane } from "./harness.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
export const OPERATOR_NAMESPACE = "capstan-system";
export const OPERATOR_SA = "capstan-operator";

/** kubectl as admin that must succeed; returns stdout. */
export async function kubectlOk(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

/** kubectl get … -o json, or undefined when the object does not exist. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function getJson<T = any>(cp: ControlPlane, args: string[]): Promise<T | undefined> {
  const r = await cp.kubectl(["get", ...args, "-o", "json"]);
  if (r.code !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(" ")}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as T;
}

export const apply = (cp: ControlPlane, obj: unknown) =>
  kubectlOk(
    cp,
    ["apply", "--server-side", "--field-manager=test", "--force-conflicts", "-f", "-"],
    JSON.stringify(obj),
  );

/**
 * Installs the CRDs (crds/*.yaml, as users would) and the operator's ServiceAccount with
 * the RBAC operatorRbac() generates; returns a kubeconfig authenticating as that
 * ServiceAccount.
 */
export async function installOperator(cp: ControlPlane, opts: { pvs?: number } = {}): Promise<string> {
  const crds = readdirSync(path.join(REPO, "crds")).filter((f) => f.endsWith(".yaml"));
  for (const f of crds) await kubectlOk(cp, ["apply", "--server-side", "-f", path.join(REPO, "crds", f)]);
  for (const f of crds) {
    await kubectlOk(cp, [
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      `crd/${f.replace(/\.yaml$/, "")}`,
    ]);
  }
  const kubeconfig = await cp.kubeconfigFor(OPERATOR_SA, OPERATOR_NAMESPACE);
  const rbac = operatorRbac({ serviceAccount: OPERATOR_SA, namespace: OPERATOR_NAMESPACE });
  await kubectlOk(cp, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }));
  await createVolumes(cp, opts.pvs ?? 0);
  return kubeconfig;
}

/** hostPath PersistentVolumes without a class, which broker PVCs (no class) bind to. */
export async function createVolumes(cp: ControlPlane, n: number, prefix = "pv"): Promise<void> {
  if (n === 0) return;
  const items = Array.from({ length: n }, (_, i) => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `${prefix}-${i}` },
    spec: {
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      hostPath: { path: `/tmp/capstan-${prefix}-${i}` },
    },
  }));
  await kubectlOk(cp, ["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));
}

export function loadKubeConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

export function kafkaCluster(
  namespace: string,
  name: string,
  spec: Partial<KafkaCluster["spec"]> = {},
): KafkaCluster {
  return {
    apiVersion: "kafka.capstan.dev/v1alpha1",
    kind: "KafkaCluster",
    metadata: { name, namespace },
    spec: { replicas: 3, storage: { size: "1Gi" }, ...spec },
  };
}

export type Condition = { type: string; status: string; reason: string; message: string };
export const condition = (obj: { status?: { conditions?: Condition[] } } | undefined, type: string) =>
  obj?.status?.conditions?.find((c) => c.type === type);

/**
 * The brokers' admin API as the operator sees it, for clusters whose pods run no broker
 * (kwok marks them Ready). Tests set the controller, the partitions and whether
 * reassignment is supported; reassign() moves partitions at once.
 */
export class FakeKafka implements KafkaAdmin {
  controllerId: number | null = 0;
  partitions: PartitionInfo[] = [];
  underReplicated = 0;
  reachable = true;
  reassignmentSupported = true;
  readonly reassignments: Reassignment[][] = [];

  async describe(_kc: KafkaCluster): Promise<ClusterView> {
    if (!this.reachable) throw new Error("connect ECONNREFUSED (fake)");
    const partitions = this.partitions.map((p, i) => ({
      ...p,
      isr: i < this.underReplicated ? p.replicas.slice(0, 1) : p.replicas,
    }));
    return { clusterId: "fake-cluster-id", controllerId: this.controllerId, brokers: [], partitions };
  }

  async ongoingReassignments(_kc: KafkaCluster): Promise<Reassignment[]> {
    if (!this.reassignmentSupported) throw new ReassignmentUnsupportedError("ListPartitionReassignments");
    return [];
  }

  async reassign(_kc: KafkaCluster, moves: readonly Reassignment[]): Promise<void> {
    if (!this.reassignmentSupported) throw new ReassignmentUnsupportedError("AlterPartitionReassignments");
    this.reassignments.push([...moves]);
    for (const m of moves) {
      const p = this.partitions.find((x) => x.topic === m.topic && x.partition === m.partition);
      if (p) {
        p.replicas = [...m.replicas];
        p.isr = [...m.replicas];
      }
    }
  }
}
