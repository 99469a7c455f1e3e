// The operator against a real control plane (harness.ts: kube-apiserver, etcd,
// kube-controller-manager for StatefulSet pods and garbage collection, kube-scheduler and
// kwok for Running/Ready pods), always as its ServiceAccount with the generated RBAC.
// The pods run no broker, so where the operator must ask the brokers (rolling-restart and
// scale-down gates) the in-process operator gets a FakeKafka that plays their admin API;
// the operator processes use the real kafkajs client and find no brokers.
// Skipped when test/setup/k8s.sh has not built the binaries, except on CI (a failure).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { PAUSED_ANNOTATION } from "../../operator/cluster/reconciler.ts";
import { CONFIG_HASH_ANNOTATION } from "../../operator/cluster/desired.ts";
import type { RunningOperator } from "../../operator/cli.ts";
import { startOperator } from "../../operator/cli.ts";
import { operatorRbac } from "../../operator/rbac.ts";
import { createLogger } from "../../lib/logger.ts";
import { k8sUnavailable, startControlPlane, waitFor } from "./harness.ts";
import type { ControlPlane } from "./harness.ts";
import {
  FakeKafka,
  OPERATOR_NAMESPACE,
  apply,
  condition,
  getJson,
  installOperator,
  kafkaCluster,
  kubectlOk,
  loadKubeConfig,
} from "./operator-fixtures.ts";

const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);
process.env.CAPSTAN_LOG_LEVEL ??= "warn";

const REPO = path.resolve(import.meta.dirname, "../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe(
  "operator: KafkaCluster on a real API server",
  { skip: unavailable ?? false, timeout: 900_000 },
  () => {
    let cp: ControlPlane;
    let saKubeconfig: string;

    before(async () => {
      cp = await startControlPlane();
      saKubeconfig = await installOperator(cp, { pvs: 72 });
    });
    after(async () => {
      await cp?.stop();
    });

    const get = (args: string[]) => getJson<Obj>(cp, args);
    const kc = (ns: string, name: string) => get(["kafkacluster", name, "-n", ns]);
    const sts = (ns: string, name: string) => get(["statefulset", `${name}-broker`, "-n", ns]);
    const pods = async (ns: string, name: string): Promise<Obj[]> =>
      ((await get(["pods", "-n", ns, "-l", `kafka.capstan.dev/cluster=${name}`]))?.items ?? []) as Obj[];
    const events = async (ns: string, reason?: string): Promise<Obj[]> =>
      (((await get(["events.v1.events.k8s.io", "-n", ns]))?.items ?? []) as Obj[])
        .filter((e) => !reason || e.reason === reason)
        .sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
    const patch = (ns: string, kind: string, name: string, p: unknown, type = "merge") =>
      kubectlOk(cp, ["patch", kind, name, "-n", ns, "--type", type, "-p", JSON.stringify(p)]);
    const namespace = (ns: string) => kubectlOk(cp, ["create", "namespace", ns]);
    const waitCondition = (
      ns: string,
      name: string,
      type: string,
      status: string,
      reason?: string,
      timeoutMs = 60_000,
    ) =>
      waitFor(
        `${ns}/${name} ${type}=${status}${reason ? ` (${reason})` : ""}`,
        async () => {
          const obj = await kc(ns, name);
          const c = condition(obj, type);
          return c && c.status === status && (!reason || c.reason === reason) ? obj : undefined;
        },
        { timeoutMs, intervalMs: 300 },
      );
    /** Creates the namespace and a KafkaCluster, and waits until it is Ready. */
    const readyCluster = async (ns: string, name: string, spec: Obj = {}) => {
      await namespace(ns);
      await apply(cp, kafkaCluster(ns, name, spec));
      return waitCondition(ns, name, "Ready", "True");
    };

    test("the CRDs install and the API server refuses invalid resources with the CEL messages", async () => {
      await namespace("cel");
      const refused = async (obj: Obj, message: RegExp) => {
        const r = await cp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj) });
        assert.notEqual(r.code, 0, `accepted: ${JSON.stringify(obj)}`);
        assert.match(r.stderr, message);
      };
      const topic = (name: string, spec: Obj) => ({
        apiVersion: "kafka.capstan.dev/v1alpha1",
        kind: "KafkaTopic",
        metadata: { name, namespace: "cel", labels: { "kafka.capstan.dev/cluster": "demo" } },
        spec,
      });
      await refused(topic("dots", { topicName: "..", partitions: 1 }), /a topic cannot be named \. or \.\./);
      await refused(
        topic("bad", { topicName: "no spaces!", partitions: 1 }),
        /spec\.topicName.*should match/,
      );
      await kubectlOk(
        cp,
        ["apply", "-f", "-"],
        JSON.stringify(topic("orders", { topicName: "orders", partitions: 6 })),
      );
      await refused(
        topic("orders", { topicName: "orders", partitions: 3 }),
        /spec\.partitions cannot decrease \(Kafka cannot remove partitions\)/,
      );
      await refused(
        topic("orders", { topicName: "orders-v2", partitions: 6 }),
        /spec\.topicName is immutable/,
      );
      await refused(
        kafkaCluster("cel", "zero", { replicas: 0 }),
        /spec\.replicas.*should be greater than or equal to 1/,
      );
      await refused(
        kafkaCluster("cel", "policy", { replicas: 3, topicPolicy: { replicationFactor: { min: 5 } } }),
        /topicPolicy\.replicationFactor\.min cannot be above replicas/,
      );
    });

    describe("the operator in-process, as its ServiceAccount", () => {
      let op: RunningOperator;
      const kafka = new FakeKafka();
      const metrics = async () => (await fetch(`http://127.0.0.1:${op.server!.port}/metrics`)).text();

      before(async () => {
        op = await startOperator({
          kubeConfig: loadKubeConfig(saKubeconfig),
          namespaces: [],
          leaderElect: true,
          leaseNamespace: OPERATOR_NAMESPACE,
          leaseName: "in-process",
          metricsPort: 0,
          metricsHost: "127.0.0.1",
          identity: "in-process",
          admin: kafka,
          log: createLogger("operator"),
        });
        await waitFor("the operator to lead", () => op.manager.isLeader);
      });
      after(async () => {
        await op?.stop();
      });

      test("a KafkaCluster yields its objects, Ready=True with the bootstrap address, Events and metrics", async () => {
        const cluster = await readyCluster("create", "demo");
        const uid = cluster.metadata.uid;

        const set = (await get(["statefulset", "demo-broker", "-n", "create", "--show-managed-fields"]))!;
        assert.equal(set.spec.replicas, 3);
        assert.equal(set.spec.updateStrategy.type, "OnDelete");
        assert.equal(set.spec.serviceName, "demo-brokers");
        assert.match(set.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION], /^[0-9a-f]{16}$/);
        assert.deepEqual(
          set.metadata.ownerReferences.map((o: Obj) => [o.kind, o.name, o.uid, o.controller]),
          [["KafkaCluster", "demo", uid, true]],
        );
        assert.ok(
          set.metadata.managedFields.some((f: Obj) => f.manager === "capstan" && f.operation === "Apply"),
          "applied with server-side apply, field manager capstan",
        );
        const bootstrap = (await get(["service", "demo-bootstrap", "-n", "create"]))!;
        assert.equal(bootstrap.spec.type, "ClusterIP");
        assert.equal((await get(["service", "demo-brokers", "-n", "create"]))!.spec.clusterIP, "None");
        assert.match(
          (await get(["configmap", "demo-config", "-n", "create"]))!.data["server.properties"],
          /controller\.quorum\.voters=/,
        );
        assert.equal((await get(["pdb", "demo-broker", "-n", "create"]))!.spec.maxUnavailable, 1);

        const status = cluster.status;
        assert.equal(status.bootstrapServers, "demo-bootstrap.create.svc:9092");
        assert.equal(status.readyBrokers, 3);
        assert.equal(status.replicas, 3);
        assert.equal(status.observedGeneration, cluster.metadata.generation);
        assert.equal(status.clusterId, "fake-cluster-id");
        assert.match(condition(cluster, "Ready")!.message, /demo-bootstrap\.create\.svc:9092/);
        assert.equal(condition(cluster, "Reconciling")!.status, "False");
        assert.equal(condition(cluster, "Stalled")!.status, "False");
        const managed = (await get(["kafkacluster", "demo", "-n", "create", "--show-managed-fields"]))!
          .metadata.managedFields;
        assert.ok(
          managed.some((f: Obj) => f.manager === "capstan-status" && f.subresource === "status"),
          "status written through /status by capstan-status",
        );
        // The scale subresource reads status.replicas and status.selector.
        const scale = JSON.parse(
          await kubectlOk(cp, [
            "get",
            "--raw",
            "/apis/kafka.capstan.dev/v1alpha1/namespaces/create/kafkaclusters/demo/scale",
          ]),
        );
        assert.equal(scale.status.replicas, 3);
        assert.match(scale.status.selector, /kafka\.capstan\.dev\/cluster=demo/);
        const table = await kubectlOk(cp, ["get", "kc", "-n", "create"]);
        assert.match(table, /^NAME\s+READY\s+BROKERS/);
        assert.match(table, /^demo\s+True\s+3/m);

        const created = await events("create", "Created");
        assert.ok(created.length >= 5, "one Created event per object");
        assert.equal(created[0].reportingController, "kafka.capstan.dev/operator");
        assert.equal(created[0].regarding.kind, "KafkaCluster");

        const text = await metrics();
        assert.match(
          text,
          /^capstan_resource_ready\{kind="KafkaCluster",namespace="create",name="demo"\} 1$/m,
        );
        assert.match(text, /^capstan_reconcile_total\{kind="KafkaCluster",result="success"\} [1-9]/m);
        assert.match(text, /^capstan_reconcile_duration_seconds_count\{kind="KafkaCluster"\} [1-9]/m);
        assert.match(text, /^capstan_leader 1$/m);
        assert.match(text, /^capstan_workqueue_depth \d+$/m);
        const readyz = await fetch(`http://127.0.0.1:${op.server!.port}/readyz`);
        assert.equal(readyz.status, 200);
        assert.match(await readyz.text(), /leader/);

        // No churn: events on owned objects make the operator look again, and it writes nothing.
        const rv = (await kc("create", "demo"))!.metadata.resourceVersion;
        await patch("create", "service", "demo-bootstrap", { metadata: { annotations: { touched: "1" } } });
        await patch("create", "configmap", "demo-config", { metadata: { annotations: { touched: "1" } } });
        await sleep(2000);
        assert.equal(
          (await kc("create", "demo"))!.metadata.resourceVersion,
          rv,
          "status rewritten without a change",
        );
      });

      test("drift is corrected: a deleted Service comes back, StatefulSet edits are reverted", async () => {
        await readyCluster("drift", "demo");
        const oldUid = (await get(["service", "demo-bootstrap", "-n", "drift"]))!.metadata.uid;
        await kubectlOk(cp, ["delete", "service", "demo-bootstrap", "-n", "drift"]);
        await waitFor("the bootstrap Service to be recreated", async () => {
          const svc = await get(["service", "demo-bootstrap", "-n", "drift"]);
          return svc && svc.metadata.uid !== oldUid;
        });
        await patch("drift", "statefulset", "demo-broker", {
          spec: { template: { spec: { terminationGracePeriodSeconds: 5 } } },
        });
        await kubectlOk(cp, ["scale", "statefulset", "demo-broker", "-n", "drift", "--replicas=1"]);
        await waitFor("the StatefulSet edits to be reverted", async () => {
          const s = (await sts("drift", "demo"))!;
          return s.spec.replicas === 3 && s.spec.template.spec.terminationGracePeriodSeconds === 60;
        });
        assert.ok((await events("drift", "Recreated")).length > 0);
        assert.ok((await events("drift", "DriftCorrected")).length > 0);
        assert.equal(
          (await events("drift", "ScaledUp")).length,
          0,
          "a hand-scaled StatefulSet is drift, not a scale-up",
        );
        const props = (await get(["configmap", "demo-config", "-n", "drift"]))!.data["server.properties"];
        assert.match(
          props,
          /^controller\.quorum\.voters=0@.*,1@.*,2@.*$/m,
          "the hand-scaled StatefulSet changed the quorum",
        );
        await waitCondition("drift", "demo", "Ready", "True");
      });

      test("a broker count that needs another controller quorum is refused and nothing changes", async () => {
        await readyCluster("quorum", "demo");
        const before = (await get(["configmap", "demo-config", "-n", "quorum"]))!.metadata.resourceVersion;
        await patch("quorum", "kafkacluster", "demo", { spec: { replicas: 2 } });
        const obj = await waitCondition("quorum", "demo", "Stalled", "True", "QuorumChange");
        assert.match(condition(obj, "Stalled")!.message, /quorum of 1.*runs with 3 controller.*3 or more/);
        assert.equal((await sts("quorum", "demo"))!.spec.replicas, 3);
        assert.equal(
          (await get(["configmap", "demo-config", "-n", "quorum"]))!.metadata.resourceVersion,
          before,
        );
        assert.equal((await events("quorum", "QuorumChange"))[0].type, "Warning");
        await patch("quorum", "kafkacluster", "demo", { spec: { replicas: 3 } });
        await waitCondition("quorum", "demo", "Stalled", "False");
        await waitCondition("quorum", "demo", "Ready", "True");
      });

      test("a spec the API server cannot apply (a new storage size) is refused whole", async () => {
        await readyCluster("storage", "demo");
        const before = (await get(["configmap", "demo-config", "-n", "storage"]))!.metadata.resourceVersion;
        await patch("storage", "kafkacluster", "demo", {
          spec: { storage: { size: "2Gi" }, config: { "log.retention.hours": "2" } },
        });
        const obj = await waitCondition("storage", "demo", "Stalled", "True", "InvalidChange");
        assert.match(
          condition(obj, "Stalled")!.message,
          /StatefulSet demo-broker.*spec\.storage cannot change/,
        );
        assert.equal(
          (await get(["configmap", "demo-config", "-n", "storage"]))!.metadata.resourceVersion,
          before,
        );
        await patch("storage", "kafkacluster", "demo", { spec: { storage: { size: "1Gi" } } });
        await waitCondition("storage", "demo", "Stalled", "False");
        await waitFor("the config change to be applied", async () =>
          /log\.retention\.hours=2$/m.test(
            (await get(["configmap", "demo-config", "-n", "storage"]))!.data["server.properties"],
          ),
        );
      });

      test("operator-owned keys in spec.config are refused with a Stalled condition and an Event", async () => {
        await readyCluster("badconfig", "demo");
        await patch("badconfig", "kafkacluster", "demo", {
          spec: { config: { "node.id": "7", "log.retention.hours": "1" } },
        });
        const stalled = await waitCondition("badconfig", "demo", "Stalled", "True", "InvalidConfig");
        assert.match(condition(stalled, "Stalled")!.message, /node\.id.*remove it from spec\.config/);
        assert.equal(condition(stalled, "Ready")!.status, "False");
        const [event] = await events("badconfig", "InvalidConfig");
        assert.equal(event.type, "Warning");
        assert.match(event.note, /node\.id/);
        const cm = (await get(["configmap", "demo-config", "-n", "badconfig"]))!;
        assert.doesNotMatch(
          cm.data["server.properties"],
          /log\.retention\.hours=1$/m,
          "the refused spec was not applied",
        );
        await patch(
          "badconfig",
          "kafkacluster",
          "demo",
          [{ op: "remove", path: "/spec/config/node.id" }],
          "json",
        );
        await waitCondition("badconfig", "demo", "Stalled", "False");
        await waitFor("the accepted config to be applied", async () =>
          /log\.retention\.hours=1$/m.test(
            (await get(["configmap", "demo-config", "-n", "badconfig"]))!.data["server.properties"],
          ),
        );
      });

      test("the paused annotation stops all changes and says so; removing it resumes", async () => {
        await readyCluster("paused", "demo");
        await patch("paused", "kafkacluster", "demo", {
          metadata: { annotations: { [PAUSED_ANNOTATION]: "true" } },
        });
        await waitCondition("paused", "demo", "Reconciling", "False", "Paused");
        await patch("paused", "kafkacluster", "demo", { spec: { replicas: 4 } });
        await kubectlOk(cp, ["delete", "service", "demo-bootstrap", "-n", "paused"]);
        await sleep(2000);
        assert.equal((await sts("paused", "demo"))!.spec.replicas, 3, "scaled while paused");
        assert.equal(
          await get(["service", "demo-bootstrap", "-n", "paused"]),
          undefined,
          "repaired while paused",
        );
        const obj = (await kc("paused", "demo"))!;
        assert.match(condition(obj, "Reconciling")!.message, /paused.*remove it to resume/);
        assert.ok(
          obj.status.observedGeneration < obj.metadata.generation,
          "claims to have acted on the new spec",
        );
        assert.ok((await events("paused", "Paused")).length > 0);

        await patch(
          "paused",
          "kafkacluster",
          "demo",
          [{ op: "remove", path: "/metadata/annotations/kafka.capstan.dev~1paused" }],
          "json",
        );
        await waitFor(
          "the StatefulSet to scale to 4",
          async () => (await sts("paused", "demo"))!.spec.replicas === 4,
        );
        await waitFor("the Service to come back", () => get(["service", "demo-bootstrap", "-n", "paused"]));
        await waitCondition("paused", "demo", "Ready", "True");
      });

      test("a config change restarts brokers one at a time, the controller last, only without under-replicated partitions", async () => {
        await readyCluster("roll", "demo");
        kafka.controllerId = 1;
        kafka.partitions = [{ topic: "t", partition: 0, replicas: [0, 1, 2], isr: [0, 1, 2] }];
        kafka.underReplicated = 1;
        try {
          const before = new Map((await pods("roll", "demo")).map((p) => [p.metadata.name, p.metadata.uid]));
          await patch("roll", "kafkacluster", "demo", { spec: { config: { "log.retention.hours": "12" } } });
          const waiting = await waitCondition("roll", "demo", "Reconciling", "True", "RollingRestart");
          await waitFor("the roll to wait for under-replicated partitions", async () =>
            /under-replicated/.test(condition(await kc("roll", "demo"), "Reconciling")?.message ?? ""),
          );
          assert.ok(waiting);
          await sleep(1500);
          assert.deepEqual(
            new Map((await pods("roll", "demo")).map((p) => [p.metadata.name, p.metadata.uid])),
            before,
            "a broker restarted while a partition was under-replicated",
          );

          // Let it go; watch that never two brokers are down at once.
          let maxDown = 0;
          let watching = true;
          const watcher = (async () => {
            while (watching) {
              const ps = await pods("roll", "demo");
              const up = ps.filter(
                (p) =>
                  !p.metadata.deletionTimestamp &&
                  p.status?.conditions?.some((c: Obj) => c.type === "Ready" && c.status === "True"),
              ).length;
              maxDown = Math.max(maxDown, 3 - up);
              await sleep(50);
            }
          })();
          kafka.underReplicated = 0;
          const target = (await sts("roll", "demo"))!.spec.template.metadata.annotations[
            CONFIG_HASH_ANNOTATION
          ];
          await waitFor(
            "every broker restarted onto the new configuration",
            async () => {
              const ps = await pods("roll", "demo");
              return (
                ps.length === 3 &&
                ps.every((p) => p.metadata.annotations?.[CONFIG_HASH_ANNOTATION] === target) &&
                condition(await kc("roll", "demo"), "Ready")?.status === "True"
              );
            },
            { timeoutMs: 120_000, intervalMs: 500 },
          );
          watching = false;
          await watcher;
          const order = (await events("roll", "RestartingBroker")).map((e) => /pod (\S+)\)/.exec(e.note)![1]);
          assert.deepEqual(
            order,
            ["demo-broker-2", "demo-broker-0", "demo-broker-1"],
            "highest first, controller (1) last",
          );
          assert.ok(maxDown <= 1, `${maxDown} brokers were down at once`);
          assert.equal(condition(await kc("roll", "demo"), "Reconciling")!.status, "False");
        } finally {
          kafka.underReplicated = 0;
          kafka.partitions = [];
          kafka.controllerId = 0;
        }
      });

      test("scale 3 → 5 adds brokers and says partitions stay; 5 → 3 first moves partitions off brokers 3-4", async () => {
        // A nodeport listener: one Service per broker, which must go with its broker.
        await readyCluster("scale", "demo", {
          listeners: [{ name: "EXTERNAL", port: 9094, type: "nodeport", nodePort: 31000 }],
        });
        await patch("scale", "kafkacluster", "demo", { spec: { replicas: 5 } });
        await waitFor(
          "5 ready brokers",
          async () => (await kc("scale", "demo"))?.status?.readyBrokers === 5,
          {
            timeoutMs: 60_000,
          },
        );
        await waitCondition("scale", "demo", "Ready", "True");
        const [up] = await events("scale", "ScaledUp");
        assert.match(up.note, /from 3 to 5.*Existing partitions stay on brokers 0-2/);

        kafka.partitions = [
          { topic: "t", partition: 0, replicas: [3, 4, 0], isr: [3, 4, 0] },
          { topic: "t", partition: 1, replicas: [0, 1, 2], isr: [0, 1, 2] },
          { topic: "t", partition: 2, replicas: [4, 1, 2], isr: [4, 1, 2] },
        ];
        try {
          await patch("scale", "kafkacluster", "demo", { spec: { replicas: 3 } });
          await waitFor(
            "the StatefulSet to scale to 3",
            async () => (await sts("scale", "demo"))!.spec.replicas === 3,
          );
          assert.equal(kafka.reassignments.length, 1, "one reassignment");
          for (const m of kafka.reassignments[0])
            assert.ok(
              m.replicas.every((r) => r <= 2),
              JSON.stringify(m),
            );
          assert.deepEqual(kafka.reassignments[0].map((m) => m.partition).sort(), [0, 2]);
          assert.ok(kafka.partitions.every((p) => p.replicas.every((r) => r <= 2)));
          const reasons = (await events("scale")).map((e) => e.reason);
          assert.ok(
            reasons.indexOf("ReassigningPartitions") < reasons.indexOf("ScaledDown"),
            reasons.join(","),
          );
          await waitCondition("scale", "demo", "Ready", "True");
          await waitFor("the removed brokers' Services to be deleted", async () => {
            const names = ((await get(["services", "-n", "scale"]))!.items as Obj[]).map(
              (x) => x.metadata.name,
            );
            return names.includes("demo-external-2") && !names.some((n) => /^demo-external-[34]$/.test(n));
          });
          assert.ok((await events("scale", "Deleted")).some((e) => /demo-external-4/.test(e.note)));
        } finally {
          kafka.partitions = [];
          kafka.reassignments.length = 0;
        }
      });

      test("a scale-down the brokers cannot reassign for stalls, names the partitions, and goes on once they moved", async () => {
        await readyCluster("blocked", "demo", { replicas: 4 });
        kafka.reassignmentSupported = false;
        kafka.partitions = [
          { topic: "orders", partition: 0, replicas: [3, 0, 1], isr: [3, 0, 1] },
          { topic: "orders", partition: 1, replicas: [0, 1, 2], isr: [0, 1, 2] },
        ];
        try {
          await patch("blocked", "kafkacluster", "demo", { spec: { replicas: 3 } });
          const obj = await waitCondition("blocked", "demo", "Stalled", "True", "ScaleDownBlocked");
          const message = condition(obj, "Stalled")!.message;
          assert.match(message, /orders\/0 \[3,0,1\]/);
          assert.doesNotMatch(message, /orders\/1/);
          assert.match(message, /kafka-reassign-partitions/);
          assert.equal((await sts("blocked", "demo"))!.spec.replicas, 4);
          assert.equal((await events("blocked", "ScaleDownBlocked"))[0].type, "Warning");

          // Someone moves the partition by hand; the next reconcile scales down.
          kafka.partitions[0].replicas = [2, 0, 1];
          await patch("blocked", "kafkacluster", "demo", { metadata: { annotations: { nudge: "1" } } });
          await waitFor(
            "the StatefulSet to scale to 3",
            async () => (await sts("blocked", "demo"))!.spec.replicas === 3,
          );
          await waitCondition("blocked", "demo", "Stalled", "False");
        } finally {
          kafka.reassignmentSupported = true;
          kafka.partitions = [];
        }
      });

      test("deleting the KafkaCluster garbage-collects what it owned", async () => {
        await readyCluster("gc", "demo");
        await kubectlOk(cp, ["delete", "kafkacluster", "demo", "-n", "gc", "--wait=false"]);
        await waitFor(
          "the owned objects to be gone",
          async () => {
            const left = await get([
              "statefulsets,services,configmaps,poddisruptionbudgets",
              "-n",
              "gc",
              "-l",
              "kafka.capstan.dev/cluster=demo",
            ]);
            return left!.items.length === 0;
          },
          { timeoutMs: 60_000 },
        );
        await waitFor("the pods to be gone", async () => (await pods("gc", "demo")).length === 0, {
          timeoutMs: 60_000,
        });
        const text = await metrics();
        assert.doesNotMatch(text, /capstan_resource_ready\{[^}]*namespace="gc"/);
      });
    });

    describe("capstan operator processes", () => {
      const children: ChildProcess[] = [];
      after(() => {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      });

      /** `capstan operator` as a child process with the ServiceAccount's kubeconfig. */
      const spawnOperator = async (identity: string, lease: string) => {
        const port = await freePort();
        const child = spawn(
          process.execPath,
          [
            path.join(REPO, "bin/capstan.ts"),
            "operator",
            "--kubeconfig",
            saKubeconfig,
            "--lease-namespace",
            OPERATOR_NAMESPACE,
            "--lease-name",
            lease,
            "--metrics-port",
            String(port),
            "--leader-elect-lease-duration",
            "4",
            "--leader-elect-renew-deadline",
            "3",
            "--leader-elect-retry-period",
            "0.5",
          ],
          {
            env: { ...process.env, POD_NAME: identity, CAPSTAN_LOG_LEVEL: "info" },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let output = "";
        child.stdout!.on("data", (d: Buffer) => (output += d));
        child.stderr!.on("data", (d: Buffer) => (output += d));
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        children.push(child);
        const url = `http://127.0.0.1:${port}`;
        await waitFor(`${identity} /readyz`, async () => (await fetch(`${url}/readyz`)).status === 200, {
          timeoutMs: 30_000,
        });
        return { child, url, exited, output: () => output, identity };
      };
      const holder = async (lease: string) =>
        (await get(["lease", lease, "-n", OPERATOR_NAMESPACE]))?.spec?.holderIdentity as string | undefined;
      const leaderGauge = async (url: string) =>
        /^capstan_leader 1$/m.test(await (await fetch(`${url}/metrics`)).text());

      test("two replicas: one leads, the standby is ready and takes over when the leader is killed", async () => {
        const a = await spawnOperator("op-a", "replicas");
        const b = await spawnOperator("op-b", "replicas");
        const first = await waitFor("a leader", async () => {
          const h = await holder("replicas");
          return h === "op-a" || h === "op-b" ? h : undefined;
        });
        const [leader, standby] = first === "op-a" ? [a, b] : [b, a];
        await waitFor("the leader gauge", () => leaderGauge(leader.url));
        assert.equal(await leaderGauge(standby.url), false);
        assert.match(await (await fetch(`${standby.url}/readyz`)).text(), /standby/);

        await readyCluster("replicas", "demo");
        leader.child.kill("SIGKILL");
        const killed = Date.now();
        await waitFor(
          "the standby to take over",
          async () => (await holder("replicas")) === standby.identity,
          {
            timeoutMs: 20_000,
            intervalMs: 200,
          },
        );
        assert.ok(Date.now() - killed < 10_000, "took longer than a lease duration and a few retries");
        await waitFor("the new leader's gauge", () => leaderGauge(standby.url));
        // The new leader reconciles: a spec change reaches the StatefulSet.
        await patch("replicas", "kafkacluster", "demo", { spec: { config: { "log.retention.hours": "5" } } });
        await waitFor("the new leader to apply the change", async () =>
          /log\.retention\.hours=5$/m.test(
            (await get(["configmap", "demo-config", "-n", "replicas"]))!.data["server.properties"],
          ),
        );
        // A graceful stop releases the lease at once.
        standby.child.kill("SIGTERM");
        assert.equal(await standby.exited, 0, standby.output());
        assert.equal(await holder("replicas"), "");
      });

      test("watching one namespace with namespaced Roles only, without leader election", async () => {
        const kubeconfig = await cp.kubeconfigFor("capstan-team-a", OPERATOR_NAMESPACE);
        const rbac = operatorRbac({
          serviceAccount: "capstan-team-a",
          namespace: OPERATOR_NAMESPACE,
          watchNamespaces: ["team-a"],
          name: "capstan-team-a",
        });
        await namespace("team-a");
        await namespace("team-b");
        await kubectlOk(
          cp,
          ["apply", "-f", "-"],
          JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }),
        );
        const op = await startOperator({
          kubeConfig: loadKubeConfig(kubeconfig),
          namespaces: ["team-a"],
          leaderElect: false,
          metricsPort: -1,
          identity: "team-a",
          admin: new FakeKafka(),
        });
        try {
          await apply(cp, kafkaCluster("team-b", "demo"));
          await apply(cp, kafkaCluster("team-a", "demo"));
          await waitCondition("team-a", "demo", "Ready", "True");
          assert.equal(await sts("team-b", "demo"), undefined, "reconciled a namespace it does not watch");
          assert.equal((await kc("team-b", "demo"))!.status, undefined);
        } finally {
          await op.stop();
        }
      });

      test("killed in the middle of a reconcile and restarted, the operator converges", async () => {
        const first = await spawnOperator("op-crash", "crash");
        await waitFor("op-crash to lead", async () => (await holder("crash")) === "op-crash");
        await namespace("crash");
        await apply(cp, kafkaCluster("crash", "demo", { replicas: 3 }));
        await waitFor("the first object to appear", () => get(["configmap", "demo-config", "-n", "crash"]), {
          intervalMs: 20,
        });
        first.child.kill("SIGKILL");
        await first.exited;
        // Whatever it had done, a new process (same pod name: it gets the lease back at once)
        // finishes the job.
        const second = await spawnOperator("op-crash", "crash");
        const obj = await waitCondition("crash", "demo", "Ready", "True");
        assert.equal(obj.status.readyBrokers, 3);
        for (const kind of [
          "statefulset/demo-broker",
          "service/demo-bootstrap",
          "service/demo-brokers",
          "pdb/demo-broker",
        ]) {
          assert.ok(await get([kind, "-n", "crash"]), `${kind} missing`);
        }
        second.child.kill("SIGTERM");
        assert.equal(await second.exited, 0, second.output());
      });
    });
  },
);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
