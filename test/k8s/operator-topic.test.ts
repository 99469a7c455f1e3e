// The KafkaTopic reconciler against a real API server (harness.ts) and a real Capstan
// broker (test/setup/capstan.ts, one process on loopback): the harness runs no broker in
// the KafkaCluster's pods, so the in-process operator reaches this broker instead of the
// cluster's bootstrap Service (the topicKafka option). The KafkaCluster reconciler runs
// too, with a FakeKafka. Skipped when test/setup/k8s.sh has not built the binaries,
// except on CI (a failure).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import type { Admin } from "kafkajs";
import type { RunningOperator } from "../../operator/cli.ts";
import { startOperator } from "../../operator/cli.ts";
import { TOPIC_FINALIZER } from "../../operator/topic/finalizer.ts";
import { TopicAdmin } from "../../operator/topic/kafka-admin.ts";
import { createLogger } from "../../lib/logger.ts";
import { kafkaCli } from "../interop/kafka-cli.ts";
import { explain } from "../interop/helpers.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { startCapstan } from "../setup/capstan.ts";
import { k8sUnavailable, startControlPlane, waitFor } from "./harness.ts";
import type { ControlPlane } from "./harness.ts";
import {
  FakeKafka,
  apply,
  condition,
  getJson,
  installOperator,
  kafkaCluster,
  kubectlOk,
  loadKubeConfig,
} from "./operator-fixtures.ts";
import { ENV_TEAM_APP_TYPE } from "../../policy/testing.ts";

const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);
process.env.CAPSTAN_LOG_LEVEL ??= "warn";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe(
  "operator: KafkaTopic on a real API server and a real broker",
  { skip: unavailable ?? false, timeout: 600_000 },
  () => {
    let cp: ControlPlane;
    let broker: TestBroker;
    let op: RunningOperator;
    let admin: Admin;

    before(async () => {
      [cp, broker] = await Promise.all([startControlPlane(), startCapstan()]);
      const saKubeconfig = await installOperator(cp);
      admin = new Kafka({
        clientId: "test",
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      op = await startOperator({
        kubeConfig: loadKubeConfig(saKubeconfig),
        namespaces: [],
        leaderElect: false,
        metricsPort: -1,
        identity: "topic-test",
        admin: new FakeKafka(),
        topicKafka: (kc) => {
          const kafka = new TopicAdmin([broker.bootstrap]);
          if (kc.metadata.namespace === "rf") kafka.brokerCount = async () => 3;
          if (kc.metadata.namespace === "rf-progress") reassigningBrokers(kafka);
          return kafka;
        },
        topicResyncMs: 1000,
        log: createLogger("operator"),
      });
      await waitFor("the operator to reconcile", () => op.manager.isLeader);
    });
    after(async () => {
      await op?.stop();
      await admin?.disconnect();
      await broker?.close();
      await cp?.stop();
    });

    /**
     * The one test broker cannot move replicas; in namespace rf-progress the operator sees
     * three brokers that do: each changeReplicationFactor call moves the partitions a step,
     * and describe() reports the new replication factor once the third step is done.
     */
    const reassignment = { steps: 0 };
    const reassigningBrokers = (kafka: TopicAdmin) => {
      const describe = kafka.describe.bind(kafka);
      kafka.brokerCount = async () => 3;
      kafka.describe = async (name) => {
        const t = await describe(name);
        return t && reassignment.steps >= 3 ? { ...t, replicationFactor: 3 } : t;
      };
      kafka.changeReplicationFactor = async (name) => {
        const total = (await describe(name))!.partitions;
        reassignment.steps++;
        const done = reassignment.steps >= 3 ? total : 0;
        return { total, done, moving: total - done };
      };
    };

    const get = (args: string[]) => getJson<Obj>(cp, args);
    const kt = (ns: string, name: string) => get(["kafkatopic", name, "-n", ns]);
    const events = async (ns: string, reason: string): Promise<Obj[]> =>
      (((await get(["events.v1.events.k8s.io", "-n", ns]))?.items ?? []) as Obj[]).filter(
        (e) => e.reason === reason,
      );
    const topicResource = (ns: string, name: string, spec: Obj, meta: Obj = {}) => ({
      apiVersion: "kafka.capstan.dev/v1alpha1",
      kind: "KafkaTopic",
      metadata: { name, namespace: ns, labels: { "kafka.capstan.dev/cluster": "demo" }, ...meta },
      spec,
    });
    const waitCondition = (ns: string, name: string, type: string, status: string, reason?: string) =>
      waitFor(
        `${ns}/${name} ${type}=${status}${reason ? ` (${reason})` : ""}`,
        async () => {
          const obj = await kt(ns, name);
          const c = condition(obj, type);
          return c && c.status === status && (!reason || c.reason === reason) ? obj : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 300 },
      );
    const namespaceWithCluster = async (ns: string, spec: Obj = {}) => {
      await kubectlOk(cp, ["create", "namespace", ns]);
      await apply(cp, kafkaCluster(ns, "demo", { replicas: 1, ...spec }));
    };
    const kafkaTopics = async () => admin.listTopics();
    const partitionsOf = async (name: string) =>
      (await admin.fetchTopicMetadata({ topics: [name] })).topics[0].partitions.length;
    const topicConfig = async (name: string, key: string) => {
      const r = await admin.describeConfigs({
        resources: [{ type: 2, name, configNames: [key] }],
        includeSynonyms: false,
      });
      return r.resources[0].configEntries.find((e) => e.configName === key)?.configValue;
    };

    test("a KafkaTopic without its cluster is Ready=False ClusterNotFound", async () => {
      await kubectlOk(cp, ["create", "namespace", "nocluster"]);
      await apply(cp, topicResource("nocluster", "orphan", { partitions: 1 }));
      const t = await waitCondition("nocluster", "orphan", "Ready", "False", "ClusterNotFound");
      assert.match(condition(t, "Ready")!.message, /KafkaCluster demo does not exist/);
      assert.ok(!(await kafkaTopics()).includes("orphan"));
    });

    test("create → Ready with topicId and finalizer; grow; config drift is reverted with an Event", async () => {
      await namespaceWithCluster("create");
      await apply(
        cp,
        topicResource("create", "orders", { partitions: 2, config: { "retention.ms": "3600000" } }),
      );
      let t = await waitCondition("create", "orders", "Ready", "True");
      assert.ok(t.metadata.finalizers.includes(TOPIC_FINALIZER));
      assert.match(t.status.topicId, /\S/, "status.topicId is set");
      assert.equal(t.status.topicName, "orders");
      assert.equal(t.status.partitions, 2);
      assert.equal(t.status.replicationFactor, 1);
      assert.equal(t.status.observedGeneration, t.metadata.generation);
      assert.equal(condition(t, "Stalled")?.status, "False");
      assert.equal(t.status.effectiveConfig?.["retention.ms"], "3600000");
      assert.equal(await partitionsOf("orders"), 2);
      assert.equal((await events("create", "TopicCreated")).length, 1);

      await apply(
        cp,
        topicResource("create", "orders", { partitions: 4, config: { "retention.ms": "3600000" } }),
      );
      await waitFor("4 partitions", async () => (await partitionsOf("orders")) === 4);
      t = await waitFor("status.partitions=4", async () => {
        const o = await kt("create", "orders");
        return o?.status?.partitions === 4 && condition(o, "Ready")?.status === "True" ? o : undefined;
      });
      assert.equal(t.status.observedGeneration, t.metadata.generation);

      // Drift made with Kafka's own configs CLI (IncrementalAlterConfigs): a changed value
      // and an override the spec does not have; both are reverted, and an Event says so.
      const drifted = await kafkaCli("configs", [
        "--bootstrap-server",
        broker.bootstrap,
        "--entity-type",
        "topics",
        "--entity-name",
        "orders",
        "--alter",
        "--add-config",
        "retention.ms=1000,segment.bytes=1048576",
      ]);
      assert.equal(drifted.code, 0, explain(drifted));
      await waitFor(
        "drift reverted",
        async () =>
          (await topicConfig("orders", "retention.ms")) === "3600000" &&
          (await topicConfig("orders", "segment.bytes")) !== "1048576",
      );
      const drift = await waitFor("DriftReverted event", async () => {
        const e = await events("create", "DriftReverted");
        return e.length ? e : undefined;
      });
      assert.match(drift[0].note, /retention\.ms=1000 \(now 3600000\)/);
      assert.match(drift[0].note, /segment\.bytes=1048576 \(removed\)/);
      assert.equal(drift[0].type, "Normal");
    });

    test("an existing topic of the same name is adopted", async () => {
      await namespaceWithCluster("adopt");
      await admin.createTopics({ topics: [{ topic: "legacy", numPartitions: 1, replicationFactor: 1 }] });
      await apply(cp, topicResource("adopt", "legacy", { partitions: 3 }));
      const t = await waitCondition("adopt", "legacy", "Ready", "True");
      assert.equal(t.status.partitions, 3);
      assert.equal((await events("adopt", "TopicAdopted")).length, 1);
    });

    test("fewer partitions than Kafka has: PartitionDecreaseRefused, configs still applied", async () => {
      await namespaceWithCluster("shrink");
      await admin.createTopics({ topics: [{ topic: "wide", numPartitions: 4, replicationFactor: 1 }] });
      await apply(
        cp,
        topicResource("shrink", "wide", { partitions: 2, config: { "retention.ms": "7200000" } }),
      );
      const t = await waitCondition("shrink", "wide", "Ready", "False", "PartitionDecreaseRefused");
      assert.match(
        condition(t, "Ready")!.message,
        /has 4 partitions and Kafka cannot remove partitions; set spec\.partitions to 4 or more/,
      );
      assert.equal(condition(t, "Stalled")?.status, "True");
      assert.equal(await partitionsOf("wide"), 4);
      await waitFor(
        "the config applied",
        async () => (await topicConfig("wide", "retention.ms")) === "7200000",
      );
      await apply(
        cp,
        topicResource("shrink", "wide", { partitions: 4, config: { "retention.ms": "7200000" } }),
      );
      await waitCondition("shrink", "wide", "Ready", "True");
    });

    test("a policy violation is Ready=False PolicyViolation, Stalled, an Event, and no topic", async () => {
      await namespaceWithCluster("policy", { topicPolicy: { maxPartitions: 4 } });
      await apply(cp, topicResource("policy", "huge", { partitions: 50 }));
      const t = await waitCondition("policy", "huge", "Ready", "False", "PolicyViolation");
      assert.equal(condition(t, "Stalled")?.status, "True");
      assert.equal(condition(t, "Stalled")?.reason, "PolicyViolation");
      const e = await waitFor("PolicyViolation event", async () => {
        const list = await events("policy", "PolicyViolation");
        return list.length ? list : undefined;
      });
      assert.equal(e[0].type, "Warning");
      assert.equal(e[0].note, condition(t, "Ready")!.message);
      assert.ok(!(await kafkaTopics()).includes("huge"));
    });

    test("a naming violation names the rule, the offending segment and a name that passes", async () => {
      await namespaceWithCluster("naming", {
        topicPolicy: {
          naming: ENV_TEAM_APP_TYPE,
        },
      });
      await apply(
        cp,
        topicResource("naming", "bad", { topicName: "qa.payments.ledger.json", partitions: 1 }),
      );
      const t = await waitCondition("naming", "bad", "Ready", "False", "PolicyViolation");
      const message = condition(t, "Ready")!.message;
      assert.match(message, /\[naming\]/);
      assert.match(message, /segment env is "qa" \(env must be one of dev, stg, prd\)/);
      assert.match(message, /A name that passes: "dev\.payments\.ledger\.json"/);
      assert.ok(!(await kafkaTopics()).includes("qa.payments.ledger.json"));
      await apply(
        cp,
        topicResource("naming", "good", { topicName: "prd.payments.ledger.json", partitions: 1 }),
      );
      await waitCondition("naming", "good", "Ready", "True");
    });

    test("a replication factor change the brokers refuse is reported, the rest applied", async () => {
      // The test broker is one node; the policy check is told the "rf" cluster has three
      // brokers, so the change gets as far as planning the reassignment, which finds one.
      await namespaceWithCluster("rf");
      await apply(cp, topicResource("rf", "rf-topic", { partitions: 1, replicationFactor: 1 }));
      await waitCondition("rf", "rf-topic", "Ready", "True");
      await apply(cp, topicResource("rf", "rf-topic", { partitions: 2, replicationFactor: 3 }));
      const t = await waitCondition("rf", "rf-topic", "Ready", "False", "ReplicationFactorChangeRefused");
      assert.match(condition(t, "Ready")!.message, /replication factor 1 to 3/);
      assert.match(
        condition(t, "Ready")!.message,
        /replication factor 3 is above the 1 brokers of the cluster/,
      );
      assert.equal(condition(t, "Stalled")?.status, "True");
      assert.match(t.status.reassignment, /^not started: /);
      assert.equal(t.status.replicationFactor, 1);
      await waitFor("the partitions grew anyway", async () => (await partitionsOf("rf-topic")) === 2);
    });

    test("a replication factor change reports its progress in status until it completes", async () => {
      await namespaceWithCluster("rf-progress");
      await apply(cp, topicResource("rf-progress", "moving", { partitions: 2, replicationFactor: 1 }));
      await waitCondition("rf-progress", "moving", "Ready", "True");
      await apply(cp, topicResource("rf-progress", "moving", { partitions: 2, replicationFactor: 3 }));
      const during = await waitCondition(
        "rf-progress",
        "moving",
        "Ready",
        "False",
        "ReplicationFactorChanging",
      );
      assert.equal(during.status.reassignment, "0 of 2 partitions at replication factor 3, 2 moving");
      assert.equal(condition(during, "Reconciling")?.status, "True");
      assert.equal(condition(during, "Stalled")?.status, "False");
      assert.match(
        condition(during, "Ready")!.message,
        /replication factor 1 to 3 by partition reassignment/,
      );
      const done = await waitCondition("rf-progress", "moving", "Ready", "True");
      assert.equal(done.status.replicationFactor, 3);
      assert.equal(done.status.reassignment, undefined);
      assert.equal((await events("rf-progress", "ReplicationFactorChanging")).length, 1);
    });

    test("delete → the Kafka topic goes, then the resource; Retain keeps the topic", async () => {
      await namespaceWithCluster("delete");
      await apply(cp, topicResource("delete", "gone", { partitions: 1 }));
      await apply(cp, topicResource("delete", "kept", { partitions: 1, deletionPolicy: "Retain" }));
      await waitCondition("delete", "gone", "Ready", "True");
      await waitCondition("delete", "kept", "Ready", "True");
      await kubectlOk(cp, [
        "delete",
        "kafkatopic",
        "gone",
        "kept",
        "-n",
        "delete",
        "--wait=true",
        "--timeout=60s",
      ]);
      assert.equal(await kt("delete", "gone"), undefined);
      assert.equal(await kt("delete", "kept"), undefined);
      const topics = await kafkaTopics();
      assert.ok(!topics.includes("gone"), "the topic is deleted in Kafka");
      assert.ok(topics.includes("kept"), "Retain keeps the topic");
      assert.equal((await events("delete", "TopicDeleted")).length, 1);
    });

    test("two KafkaTopics for one topic: the younger gets ResourceConflict", async () => {
      await namespaceWithCluster("conflict");
      await apply(cp, topicResource("conflict", "first", { topicName: "shared", partitions: 1 }));
      await waitCondition("conflict", "first", "Ready", "True");
      await apply(cp, topicResource("conflict", "second", { topicName: "shared", partitions: 2 }));
      const t = await waitCondition("conflict", "second", "Ready", "False", "ResourceConflict");
      assert.match(condition(t, "Ready")!.message, /KafkaTopic first/);
      assert.ok(!(t.metadata.finalizers ?? []).includes(TOPIC_FINALIZER));
      assert.equal(condition(await kt("conflict", "first"), "Ready")?.status, "True");
      assert.equal(await partitionsOf("shared"), 1, "the loser changes nothing");
      // The loser's deletion leaves the topic alone.
      await kubectlOk(cp, [
        "delete",
        "kafkatopic",
        "second",
        "-n",
        "conflict",
        "--wait=true",
        "--timeout=30s",
      ]);
      assert.ok((await kafkaTopics()).includes("shared"));
    });

    test("deleting the namespace never hangs on the finalizer", async () => {
      await namespaceWithCluster("teardown");
      await apply(cp, topicResource("teardown", "t1", { partitions: 1 }));
      await waitCondition("teardown", "t1", "Ready", "True");
      await kubectlOk(cp, ["delete", "namespace", "teardown", "--wait=true", "--timeout=90s"]);
    });
  },
);
