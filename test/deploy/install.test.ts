// The install manifests (charts/install.ts, `npm run synth`) against the real API server of
// the test control plane (test/k8s/harness.ts): every object passes a server-side dry run
// and then applies for real, the operator Deployment rolls out, and its ServiceAccount can
// do what the operator does (operator/runtime/resources.ts) and nothing more; the topic-policy
// admission (on by default) refuses at `kubectl apply` a KafkaTopic that breaks its
// KafkaCluster's policy (examples/production) with the policy engine's message, admits the
// example's topics, and warns in Warn mode; the operator, started with the Deployment's args
// and env and that ServiceAccount's token only, reconciles examples/dev (the KafkaCluster;
// its KafkaTopics get the operator's finalizer); and the uninstall commands of
// docs/install.md remove the operator and the admission policy, keeping the CRDs and the data.
// Skipped when test/setup/k8s.sh has not built the binaries, except on CI (a failure).
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import net from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import type { Manifest } from "../../charts/install.ts";
import { crds, installManifests, installYaml } from "../../charts/install.ts";
import type { KafkaCluster, KafkaTopic } from "../../operator/api/types.ts";
import { clusterTopicDefaults } from "../../operator/lint.ts";
import { LEASE, OPERATOR_RESOURCES } from "../../operator/runtime/resources.ts";
import { checkTopic, describeViolations } from "../../policy/topic-policy.ts";
import { k8sUnavailable, startControlPlane, waitFor } from "../k8s/harness.ts";
import { createVolumes } from "../k8s/operator-fixtures.ts";
import type { ControlPlane } from "../k8s/harness.ts";
import { applyInOrder, dryRunThenApply as applyYaml, kubectlOk, monitoringCrds, toYaml } from "./fixtures.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

const NS = "capstan-system";
const SA = `system:serviceaccount:${NS}:capstan-operator`;
describe("install manifests on a real API server", { skip: unavailable ?? false, timeout: 300_000 }, () => {
  let cp: ControlPlane;
  let tmp: string;

  before(async () => {
    cp = await startControlPlane({ nodes: 2 });
    tmp = await mkdtemp(path.join(os.tmpdir(), "capstan-install-"));
  });
  after(async () => {
    await cp?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const kubectl = (args: string[], input?: string) => kubectlOk(cp, args, input);
  const dryRunThenApply = (yaml: string) => applyYaml(cp, yaml);
  const install = (objs: Manifest[]) => applyInOrder(cp, objs);

  /** `kubectl auth can-i` as the operator's ServiceAccount. */
  const canI = async (verb: string, resource: string, namespace?: string): Promise<boolean> => {
    const [res, sub] = resource.split("/");
    const args = ["auth", "can-i", verb, res, `--as=${SA}`, ...(sub ? [`--subresource=${sub}`] : [])];
    args.push(...(namespace ? ["-n", namespace] : ["--all-namespaces"]));
    const r = await cp.kubectl(args);
    assert.ok(r.code === 0 || r.code === 1, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim() === "yes";
  };

  test("npm run synth writes the same manifests as installYaml()", async () => {
    const out = path.join(tmp, "install.yaml");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["charts/synth.ts", "--manifests-only", "--out", out],
      {
        cwd: REPO,
      },
    );
    assert.match(stdout, /wrote /);
    assert.equal(await readFile(out, "utf8"), installYaml());
  });

  test("the CRDs are the committed crds/*.yaml", () => {
    const objs = installManifests();
    assert.deepEqual(
      objs.filter((o) => o.kind === "CustomResourceDefinition"),
      crds(),
    );
  });

  test("every manifest (monitoring included) passes a server-side dry run, then applies", async () => {
    await dryRunThenApply(toYaml(monitoringCrds()));
    await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd/servicemonitors.monitoring.coreos.com",
      "crd/prometheusrules.monitoring.coreos.com",
    ]);
    const objs = installManifests({ serviceMonitor: true, prometheusRule: true, dashboard: true });
    await install(objs);
    for (const o of objs) {
      const ref = `${o.kind}.${o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : ""}`.replace(
        /\.$/,
        "",
      );
      const args = ["get", ref, o.metadata.name, "-o", "name"];
      if (o.metadata.namespace) args.push("-n", o.metadata.namespace);
      assert.notEqual((await kubectl(args)).trim(), "", `${o.kind} ${o.metadata.name} exists`);
    }
    const sm = JSON.parse(await kubectl(["get", "servicemonitors", "-n", NS, "-o", "json"])) as {
      items: Array<{ spec: { endpoints: Array<{ honorLabels: boolean; port: string }> } }>;
    };
    assert.equal(sm.items[0].spec.endpoints[0].honorLabels, true);
    const cm = JSON.parse(
      await kubectl(["get", "configmap", "capstan-dashboard-consumer-lag", "-n", NS, "-o", "json"]),
    ) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    assert.equal(cm.metadata.labels.grafana_dashboard, "1");
    assert.equal(JSON.parse(cm.data["capstan-lag.json"]).uid, "capstan-consumer-lag");
  });

  test("the operator Deployment rolls out as its ServiceAccount, non-root, read-only root filesystem", async () => {
    await kubectl(["rollout", "status", "deployment/capstan-operator", "-n", NS, "--timeout=90s"]);
    const pods = JSON.parse(
      await kubectl(["get", "pods", "-n", NS, "-l", "app.kubernetes.io/name=capstan-operator", "-o", "json"]),
    ) as {
      items: Array<{
        spec: {
          serviceAccountName: string;
          securityContext: { runAsNonRoot: boolean; runAsUser: number };
          containers: Array<{
            args: string[];
            env: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
            securityContext: { readOnlyRootFilesystem: boolean };
            readinessProbe: { httpGet: { path: string; port: string } };
            livenessProbe: { httpGet: { path: string; port: string } };
          }>;
        };
      }>;
    };
    assert.equal(pods.items.length, 2);
    for (const p of pods.items) {
      assert.equal(p.spec.serviceAccountName, "capstan-operator");
      assert.equal(p.spec.securityContext.runAsNonRoot, true);
      assert.equal(p.spec.securityContext.runAsUser, 10001);
      const c = p.spec.containers[0];
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.ok(c.args.includes("--leader-elect=true"));
      assert.deepEqual(Object.fromEntries(c.env.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])), {
        POD_NAME: "metadata.name",
        POD_NAMESPACE: "metadata.namespace",
      });
      assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "metrics", scheme: "HTTP" });
      assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "metrics", scheme: "HTTP" });
    }
  });

  test("the topic policy at admission: kubectl apply refuses a violating KafkaTopic with the policy's message (Enforce), admits compliant ones, warns (Warn)", async () => {
    const dir = path.join(REPO, "examples/production");
    const read = async (f: string) =>
      parseAllDocuments(await readFile(path.join(dir, f), "utf8")).map((d) => d.toJS() as unknown);
    const [kc] = (await read("kafka-cluster.yaml")) as KafkaCluster[];
    const topics = (await read("topics.yaml")) as KafkaTopic[];
    assert.equal(kc.metadata.name, "prod");
    assert.equal(kc.spec.topicPolicy?.mode, "Enforce");
    /** The policy engine's verdict ("" when the topic passes), as the operator and brokers give it. */
    const engine = (cluster: KafkaCluster, t: KafkaTopic) =>
      describeViolations(
        checkTopic(
          cluster.spec.topicPolicy,
          {
            name: t.spec.topicName ?? t.metadata.name ?? "",
            partitions: t.spec.partitions,
            replicationFactor: t.spec.replicationFactor,
            configs: new Map(Object.entries(t.spec.config ?? {})),
          },
          { brokerCount: cluster.spec.replicas, defaultConfig: clusterTopicDefaults(cluster) },
        ),
      );
    const bad: KafkaTopic = {
      apiVersion: "kafka.capstan.dev/v1alpha1",
      kind: "KafkaTopic",
      metadata: { name: "orders", labels: { "kafka.capstan.dev/cluster": "prod" } },
      spec: { topicName: "aws-kafka.prod.Orders.xml", partitions: 300, replicationFactor: 4 },
    };
    const expected = engine(kc, bad);
    assert.match(expected, /\[naming\].*\[replication-factor\].*\[max-partitions\]/);
    for (const t of topics) assert.equal(engine(kc, t), "", `${t.metadata.name} follows the policy`);
    const kubectlApply = (ns: string, obj: unknown, dryRun = false) =>
      cp.kubectl(["apply", "-n", ns, ...(dryRun ? ["--dry-run=server"] : []), "-f", "-"], {
        input: JSON.stringify(obj),
      });
    const DENIED = /denied request: (.*)$/m;

    for (const ns of ["kafka-prod", "kafka-warn"]) await kubectl(["create", "namespace", ns]);
    await kubectl(["apply", "-n", "kafka-prod", "-f", path.join(dir, "kafka-cluster.yaml")]);
    // The policies, their bindings and the new KafkaCluster reach the admission plugin through informers.
    await waitFor(
      "the Enforce policy to refuse",
      async () => DENIED.test((await kubectlApply("kafka-prod", bad, true)).stderr),
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    const refused = await kubectlApply("kafka-prod", bad);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /ValidatingAdmissionPolicy 'capstan-topic-policy-enforce'/);
    assert.equal(DENIED.exec(refused.stderr)?.[1], expected, refused.stderr);
    assert.equal(
      (await cp.kubectl(["get", "kafkatopic", "orders", "-n", "kafka-prod", "-o", "name"])).stdout.trim(),
      "",
      "nothing was stored",
    );
    const admitted = await cp.kubectl(["apply", "-n", "kafka-prod", "-f", path.join(dir, "topics.yaml")]);
    assert.equal(admitted.code, 0, admitted.stderr);
    assert.doesNotMatch(admitted.stderr, /Warning/);
    assert.equal(
      (await kubectl(["get", "kafkatopics", "-n", "kafka-prod", "-o", "name"])).trim().split("\n").length,
      topics.length,
    );

    // Warn: admitted, and kubectl prints the same message as a warning.
    const warnKc = { ...kc, spec: { ...kc.spec, topicPolicy: { ...kc.spec.topicPolicy, mode: "Warn" } } };
    assert.equal((await kubectlApply("kafka-warn", warnKc)).code, 0);
    await waitFor(
      "the Warn policy to warn",
      async () => /Warning: /.test((await kubectlApply("kafka-warn", bad, true)).stderr),
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    const warned = await kubectlApply("kafka-warn", bad);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(
      warned.stderr,
      /Warning: Validation failed for ValidatingAdmissionPolicy 'capstan-topic-policy-warn'/,
    );
    assert.ok(warned.stderr.includes(`: ${expected}\n`), warned.stderr);

    // Nothing here for the operator started by a later test to reconcile: no finalizers yet.
    for (const ns of ["kafka-prod", "kafka-warn"]) {
      await kubectl(["delete", "kafkatopics,kafkaclusters", "--all", "-n", ns, "--wait=true"]);
    }
  });

  test("the ServiceAccount can do what the operator does, cluster-wide", async () => {
    await kubectl(["create", "namespace", "kafka"]);
    for (const r of OPERATOR_RESOURCES.filter((x) => x !== LEASE)) {
      const resource = r.group ? `${r.plural}.${r.group}` : r.plural;
      for (const verb of r.verbs) {
        assert.ok(await canI(verb, resource), `${verb} ${resource} in all namespaces`);
        assert.ok(await canI(verb, resource, "kafka"), `${verb} ${resource} in kafka`);
      }
      for (const [sub, verbs] of Object.entries(r.subresources ?? {})) {
        for (const verb of verbs) {
          const subresource = r.group ? `${r.plural}.${r.group}/${sub}` : `${r.plural}/${sub}`;
          assert.ok(await canI(verb, subresource, "kafka"), `${verb} ${subresource}`);
        }
      }
    }
    for (const verb of LEASE.verbs) {
      assert.ok(await canI(verb, "leases.coordination.k8s.io", NS), `${verb} leases in ${NS}`);
    }
  });

  test("and nothing more", async () => {
    const denied: Array<[string, string, string?]> = [
      ["get", "secrets", "kafka"],
      ["list", "secrets"],
      ["create", "pods/exec", "kafka"],
      ["create", "clusterroles.rbac.authorization.k8s.io"],
      ["create", "rolebindings.rbac.authorization.k8s.io", "kafka"],
      ["delete", "namespaces"],
      ["delete", "customresourcedefinitions.apiextensions.k8s.io"],
      ["delete", "kafkaclusters.kafka.capstan.dev", "kafka"],
      ["create", "kafkaclusters.kafka.capstan.dev", "kafka"],
      ["patch", "leases.coordination.k8s.io", "kafka"],
      ["impersonate", "serviceaccounts"],
    ];
    for (const [verb, resource, ns] of denied) {
      assert.equal(await canI(verb, resource, ns), false, `${verb} ${resource} ${ns ?? "(all)"} is denied`);
    }
  });

  test("the operator runs with the Deployment's args and env as its ServiceAccount and reconciles examples/dev", async () => {
    // What the kubelet would run: the image's ENTRYPOINT (node /app/bin/capstan.ts, see
    // test/deploy/dockerfile.test.ts) with the container's args, the env with its field
    // references resolved, and the ServiceAccount's token (here a kubeconfig holding one).
    const dep = installManifests().find((o) => o.kind === "Deployment") as unknown as {
      spec: {
        template: {
          spec: {
            serviceAccountName: string;
            containers: Array<{
              args: string[];
              env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
              readinessProbe: { httpGet: { path: string } };
            }>;
          };
        };
      };
    };
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    const podName = "capstan-operator-7d9f8-abcde";
    const fields: Record<string, string> = { "metadata.name": podName, "metadata.namespace": NS };
    const env: Record<string, string> = {};
    for (const e of c.env) {
      const v = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ""];
      assert.ok(
        v !== undefined,
        `env ${e.name}: only values and metadata field references are resolved here`,
      );
      env[e.name] = v;
    }
    const port = await freePort();
    const args = c.args.map((a) => (a.startsWith("--metrics-port=") ? `--metrics-port=${port}` : a));
    assert.ok(args.length === c.args.length && args.includes(`--metrics-port=${port}`));
    const kubeconfig = await cp.kubeconfigFor(pod.serviceAccountName, NS);
    const child = spawn(
      process.execPath,
      [path.join(REPO, "bin/capstan.ts"), ...args, `--kubeconfig=${kubeconfig}`],
      {
        env: { ...process.env, ...env, CAPSTAN_LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor("the operator's readiness probe", async () => {
        return (await fetch(`${url}${c.readinessProbe.httpGet.path}`)).status === 200;
      });
      // The lease named in the args, in the pod's namespace, held by the pod's name.
      await waitFor("the leader lease", async () => {
        const lease = JSON.parse(await kubectl(["get", "lease", "capstan-operator", "-n", NS, "-o", "json"]));
        return lease.spec.holderIdentity === podName;
      });

      await kubectl(["create", "namespace", "kafka-dev"]);
      await createVolumes(cp, 2, "dev");
      const dir = path.join(REPO, "examples/dev");
      await kubectl(["apply", "--server-side", "--dry-run=server", "-n", "kafka-dev", "-f", dir]);
      await kubectl(["apply", "--server-side", "-n", "kafka-dev", "-f", dir]);
      const kc = await waitFor(
        "KafkaCluster dev Ready",
        async () => {
          const obj = JSON.parse(
            await kubectl(["get", "kafkacluster", "dev", "-n", "kafka-dev", "-o", "json"]),
          );
          const ready = (obj.status?.conditions ?? []).find((x: { type: string }) => x.type === "Ready");
          return ready?.status === "True" ? obj : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      assert.equal(kc.status.observedGeneration, kc.metadata.generation);
      assert.equal(kc.status.readyBrokers, 1);
      assert.match(kc.status.bootstrapServers, /kafka-dev\.svc:9092/);
      // The EXTERNAL listener: the bootstrap node port kind-config.yaml publishes, and broker 0's.
      const svcs = JSON.parse(await kubectl(["get", "services", "-n", "kafka-dev", "-o", "json"])) as {
        items: Array<{ spec: { type: string; ports: Array<{ nodePort?: number }> } }>;
      };
      const nodePorts = svcs.items
        .filter((s) => s.spec.type === "NodePort")
        .flatMap((s) => s.spec.ports.map((p) => p.nodePort))
        .sort();
      assert.deepEqual(nodePorts, [30092, 30093]);
      // The consumer-lag collector of the cluster, on the operator's own /metrics, polling at the
      // Deployment's --lag-poll-interval (no broker answers here, so it reports the polls only).
      const interval = Number(c.args.find((a) => a.startsWith("--lag-poll-interval="))?.split("=")[1]);
      assert.ok(c.args.includes("--consumer-lag=true") && interval > 0, c.args.join(" "));
      await waitFor("the consumer-lag series of cluster dev", async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        return new RegExp(
          `^capstan_lag_poll_interval_seconds\\{[^}]*cluster="dev"[^}]*\\} ${interval}$`,
          "m",
        ).test(text);
      });
      // The topic reconciler takes the example's KafkaTopics in hand: its finalizer goes on first
      // (through the admission policy, which never refuses an edit that leaves spec alone).
      // No broker runs in the harness's pods, so the topics themselves cannot be created here.
      await waitFor(
        "the topic finalizer on the example's KafkaTopics",
        async () => {
          const list = JSON.parse(await kubectl(["get", "kafkatopics", "-n", "kafka-dev", "-o", "json"])) as {
            items: Array<{ metadata: { finalizers?: string[] } }>;
          };
          return (
            list.items.length === 2 &&
            list.items.every((t) => t.metadata.finalizers?.includes("kafka.capstan.dev/topic-cleanup"))
          );
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      // SIGTERM, as the kubelet sends it: the operator releases the lease and exits 0.
      child.kill("SIGTERM");
      const code = await exited;
      assert.equal(code, 0, output);
    }
    const lease = JSON.parse(await kubectl(["get", "lease", "capstan-operator", "-n", NS, "-o", "json"]));
    assert.ok(!lease.spec.holderIdentity, `the lease is released: ${JSON.stringify(lease.spec)}`);
  });

  test("with watched namespaces: Roles in those only", async () => {
    await kubectl(["create", "namespace", "team-a"]);
    await kubectl(["create", "namespace", "team-b"]);
    const objs = installManifests({ namespace: "capstan-scoped", watchNamespaces: ["team-a"] });
    assert.ok(!objs.some((o) => o.kind === "ClusterRole"));
    await install(objs);
    const scopedSa = "system:serviceaccount:capstan-scoped:capstan-operator";
    const can = async (verb: string, resource: string, ns: string) =>
      (await cp.kubectl(["auth", "can-i", verb, resource, `--as=${scopedSa}`, "-n", ns])).stdout.trim() ===
      "yes";
    assert.ok(await can("patch", "statefulsets.apps", "team-a"));
    assert.ok(await can("watch", "kafkaclusters.kafka.capstan.dev", "team-a"));
    assert.ok(!(await can("patch", "statefulsets.apps", "team-b")));
    assert.ok(!(await can("list", "kafkaclusters.kafka.capstan.dev", "team-b")));
    assert.ok(await can("update", "leases.coordination.k8s.io", "capstan-scoped"));
    await kubectl([
      "rollout",
      "status",
      "deployment/capstan-operator",
      "-n",
      "capstan-scoped",
      "--timeout=90s",
    ]);
  });

  test("uninstalling by label as docs/install.md says keeps the CRDs, the clusters and their volumes", async () => {
    const doc = await readFile(path.join(REPO, "docs/install.md"), "utf8");
    const commands = [
      ...doc.matchAll(/^ {2}kubectl (delete .*-l app\.kubernetes\.io\/name=capstan-operator)$/gm),
    ].map((m) => m[1].split(/\s+/));
    assert.equal(commands.length, 3);
    for (const args of commands) await kubectl(args);
    assert.equal(
      (
        await kubectl([
          "get",
          "deployments,services,serviceaccounts,roles,rolebindings",
          "-n",
          NS,
          "-l",
          "app.kubernetes.io/name=capstan-operator",
          "-o",
          "name",
        ])
      ).trim(),
      "",
    );
    assert.equal(
      (
        await kubectl(["get", "clusterroles", "-l", "app.kubernetes.io/name=capstan-operator", "-o", "name"])
      ).trim(),
      "",
    );
    assert.equal((await kubectl(["get", "roles", "-n", "team-a", "-o", "name"])).trim(), "");
    assert.equal(
      (
        await kubectl([
          "get",
          "validatingadmissionpolicies,validatingadmissionpolicybindings",
          "-l",
          "app.kubernetes.io/name=capstan-operator",
          "-o",
          "name",
        ])
      ).trim(),
      "",
    );
    await kubectl(["get", "crd/kafkaclusters.kafka.capstan.dev", "crd/kafkatopics.kafka.capstan.dev"]);
    await kubectl(["get", "kafkacluster/dev", "statefulset/dev-broker", "-n", "kafka-dev"]);
    assert.notEqual((await kubectl(["get", "pvc", "-n", "kafka-dev", "-o", "name"])).trim(), "");
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
