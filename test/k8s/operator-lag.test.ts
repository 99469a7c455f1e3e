// The operator exports consumer lag for every KafkaCluster it manages, on its own /metrics:
// a real API server (harness.ts) holds the KafkaCluster, a real Capstan broker holds the
// topic and the group's committed offsets. The pods of the cluster run no broker, so the
// lag exporter is pointed at the local broker (lagBootstrap) and the cluster reconciler's
// admin calls go to a FakeKafka, as in operator-cluster.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import type { RunningOperator } from "../../operator/cli.ts";
import { startOperator } from "../../operator/cli.ts";
import { CONSUMER_LAG_ANNOTATION } from "../../operator/lag/lag-reconciler.ts";
import { TopicAdmin } from "../../operator/topic/kafka-admin.ts";
import { commitOffsets } from "../lag/kafka-ops.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { startCapstan } from "../setup/capstan.ts";
import { k8sUnavailable, startControlPlane, waitFor } from "./harness.ts";
import type { ControlPlane } from "./harness.ts";
import {
  FakeKafka,
  getJson,
  OPERATOR_NAMESPACE,
  apply,
  installOperator,
  kafkaCluster,
  kubectlOk,
  loadKubeConfig,
} from "./operator-fixtures.ts";

const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);
process.env.CAPSTAN_LOG_LEVEL ??= "warn";

describe("operator: consumer lag per KafkaCluster", { skip: unavailable ?? false, timeout: 300_000 }, () => {
  let cp: ControlPlane;
  let broker: TestBroker;
  let op: RunningOperator;

  before(async () => {
    [cp, broker] = await Promise.all([startControlPlane(), startCapstan()]);
    const saKubeconfig = await installOperator(cp);
    op = await startOperator({
      kubeConfig: loadKubeConfig(saKubeconfig),
      namespaces: [],
      leaderElect: true,
      leaseNamespace: OPERATOR_NAMESPACE,
      leaseName: "lag",
      metricsPort: 0,
      metricsHost: "127.0.0.1",
      identity: "lag",
      admin: new FakeKafka(),
      lag: { intervalMs: 300 },
      lagBootstrap: () => [broker.bootstrap],
      topicKafka: () => new TopicAdmin([broker.bootstrap]),
      topicResyncMs: 500,
    });
    await waitFor("the operator to lead", () => op.manager.isLeader);
  });
  after(async () => {
    await op?.stop();
    await Promise.all([cp?.stop(), broker?.close()]);
  });

  const scrape = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${op.server!.port}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };
  const series = (text: string, name: string, labels: Record<string, string>): number | undefined => {
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`)) continue;
      const m = /^[^{]+\{([^}]*)\} (\S+)$/.exec(line);
      if (!m) continue;
      const got = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[2]);
    }
    return undefined;
  };

  test("lag of a group on a managed cluster appears with its cluster and namespace, and goes with opt-out and deletion", async () => {
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: "lag-test",
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    const producer = kafka.producer();
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 1 }], waitForLeaders: true });
      await producer.send({
        topic: "orders",
        acks: -1,
        messages: Array.from({ length: 100 }, (_, i) => ({ value: `order-${i}` })),
      });
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
    await commitOffsets(broker.port, "billing", "orders", { 0: 40 });

    await kubectlOk(cp, ["create", "namespace", "shop"]);
    await apply(cp, kafkaCluster("shop", "main", { replicas: 1 }));
    const lagLabels = {
      cluster: "main",
      namespace: "shop",
      consumergroup: "billing",
      topic: "orders",
      partition: "0",
    };
    await waitFor(
      "kafka_consumergroup_lag of billing to be 60",
      async () => series(await scrape(), "kafka_consumergroup_lag", lagLabels) === 60,
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    const text = await scrape();
    assert.equal(
      series(text, "kafka_topic_partition_current_offset", { cluster: "main", topic: "orders" }),
      100,
    );
    assert.equal(series(text, "kafka_consumergroup_current_offset", lagLabels), 40);
    assert.equal(series(text, "capstan_lag_up", { cluster: "main", namespace: "shop" }), 1);

    // A commit moves the lag on the next poll.
    await commitOffsets(broker.port, "billing", "orders", { 0: 90 });
    await waitFor(
      "the lag to follow the commit",
      async () => series(await scrape(), "kafka_consumergroup_lag", lagLabels) === 10,
      { timeoutMs: 30_000, intervalMs: 300 },
    );

    // The KafkaTopic of the topic (adopting it) shows the lag in status and in kubectl get kt.
    await apply(cp, {
      apiVersion: "kafka.capstan.dev/v1alpha1",
      kind: "KafkaTopic",
      metadata: { name: "orders", namespace: "shop", labels: { "kafka.capstan.dev/cluster": "main" } },
      spec: { partitions: 1, replicationFactor: 1, deletionPolicy: "Retain" },
    });
    const lagStatus = await waitFor(
      "status.consumerLag of the KafkaTopic",
      async () => {
        const kt = await getJson<{ status?: { consumerLag?: Record<string, unknown> } }>(cp, [
          "kafkatopic",
          "orders",
          "-n",
          "shop",
        ]);
        return kt?.status?.consumerLag?.maxLag === 10 ? kt.status.consumerLag : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    assert.equal(lagStatus.slowestGroup, "billing");
    assert.equal(lagStatus.groups, 1);
    assert.ok(Date.parse(String(lagStatus.observedAt)) > Date.now() - 60_000);
    const table = await kubectlOk(cp, ["get", "kt", "orders", "-n", "shop"]);
    assert.match(table, /MAX LAG\s+SLOWEST GROUP/);
    assert.match(table, /\s10\s+billing\s/);

    // Opting a cluster out stops its exporter: every series of it vanishes.
    await kubectlOk(cp, [
      "annotate",
      "kafkacluster",
      "main",
      "-n",
      "shop",
      `${CONSUMER_LAG_ANNOTATION}=false`,
    ]);
    await waitFor(
      "the cluster's series to vanish after the opt-out",
      async () => series(await scrape(), "capstan_lag_up", { cluster: "main" }) === undefined,
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    assert.equal(series(await scrape(), "kafka_consumergroup_lag", lagLabels), undefined);

    // Back on, then the cluster is deleted: the exporter stops with it.
    await kubectlOk(cp, ["annotate", "kafkacluster", "main", "-n", "shop", `${CONSUMER_LAG_ANNOTATION}-`]);
    await waitFor(
      "the lag to be back",
      async () => series(await scrape(), "kafka_consumergroup_lag", lagLabels) === 10,
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    await kubectlOk(cp, ["delete", "kafkacluster", "main", "-n", "shop", "--wait=false"]);
    await waitFor(
      "the series to vanish after deletion",
      async () => series(await scrape(), "capstan_lag_up", { cluster: "main" }) === undefined,
      { timeoutMs: 60_000, intervalMs: 300 },
    );
  });
});
