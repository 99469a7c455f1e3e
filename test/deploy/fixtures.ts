// Shared by the deploy tests: applying manifests to the harness's API server the way a user
// would (server-side dry run first, then for real; cluster-scoped objects and CRDs before
// what depends on them) and schema-less stand-ins for third-party CRDs (prometheus-operator,
// Argo CD, Flux) whose objects Capstan ships but whose controllers the harness does not run.
import assert from "node:assert/strict";
import { parseAllDocuments, stringify } from "yaml";
import type { ControlPlane } from "../k8s/harness.ts";

export type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "PersistentVolume",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

export const toYaml = (objs: readonly object[]) => objs.map((o) => stringify(o)).join("---\n");

/** The objects of a multi-document YAML stream (empty documents dropped). */
export function parseStream(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => {
      assert.equal(d.errors.length, 0, d.errors.join("\n"));
      return d.toJS() as Obj | null;
    })
    .filter((o): o is Obj => o !== null && typeof o === "object");
}

/** kubectl as admin that must succeed; returns stdout. */
export async function kubectlOk(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Server-side dry run, then server-side apply, of a YAML stream. */
export async function dryRunThenApply(cp: ControlPlane, yaml: string, dryRunOnly = false): Promise<void> {
  await kubectlOk(cp, ["apply", "--server-side", "--dry-run=server", "-f", "-"], yaml);
  if (!dryRunOnly) await kubectlOk(cp, ["apply", "--server-side", "-f", "-"], yaml);
}

/**
 * Applies objects as `kubectl apply` of a whole directory would end up: cluster-scoped objects
 * (namespaces, CRDs, cluster roles) first, then, once the CRDs are Established, the rest, so
 * the dry run of the second round can resolve the new kinds and namespaces.
 */
export async function applyInOrder(cp: ControlPlane, objs: readonly Obj[]): Promise<void> {
  const cluster = objs.filter((o) => CLUSTER_SCOPED.has(o.kind));
  const namespaced = objs.filter((o) => !CLUSTER_SCOPED.has(o.kind));
  if (cluster.length) await dryRunThenApply(cp, toYaml(cluster));
  const crdNames = cluster
    .filter((o) => o.kind === "CustomResourceDefinition")
    .map((o) => `crd/${o.metadata.name}`);
  if (crdNames.length)
    await kubectlOk(cp, ["wait", "--for=condition=Established", "--timeout=60s", ...crdNames]);
  if (namespaced.length) await dryRunThenApply(cp, toYaml(namespaced));
}

/** A CRD without a schema: the API server accepts any object of the kind. */
export function schemalessCrd(group: string, kind: string, plural: string, version = "v1"): Obj {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      scope: "Namespaced",
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  };
}

/** prometheus-operator's ServiceMonitor and PrometheusRule kinds. */
export const monitoringCrds = (): Obj[] => [
  schemalessCrd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
  schemalessCrd("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
];
