// Moving replicas on a 3-broker cluster with Kafka's own kafka-reassign-partitions tool
// (AlterPartitionReassignments, ListPartitionReassignments): the new replica catches up,
// joins the ISR, the replica set becomes the target and the removed broker deletes its
// copy; no record is lost. kafka-leader-election then moves leadership back to the
// preferred replica (ElectLeaders).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { TopicAdmin } from "../../operator/topic/kafka-admin.ts";
import { startCapstanCluster, type CapstanCluster } from "../setup/capstan-cluster.ts";
import { kafkaCli } from "../interop/kafka-cli.ts";
import { explain, kcatConsume, uniqueName, waitUntil } from "../interop/helpers.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

describe("partition reassignment on a 3-broker cluster", { timeout: 300_000 }, () => {
  let cluster: CapstanCluster;
  let kafka: Kafka;
  let admin: Admin;
  let dir: string;

  before(async () => {
    cluster = await startCapstanCluster({ brokers: 3 });
    kafka = new Kafka({
      clientId: "capstan-reassignment",
      brokers: cluster.bootstrap.split(","),
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 200 },
    });
    admin = kafka.admin();
    await admin.connect();
    dir = await mkdtemp(path.join(tmpdir(), "capstan-reassign-"));
  });
  after(async () => {
    await admin?.disconnect();
    await cluster?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function partition0(topic: string) {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0].partitions[0];
  }

  test("kafka-reassign-partitions moves a replica; kafka-leader-election restores the preferred leader", async () => {
    const topic = uniqueName("reassign");
    await admin.createTopics({
      topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [0, 1] }] }],
      waitForLeaders: true,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const values = Array.from({ length: 100 }, (_, i) => `r-${i}`);
    try {
      await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition: 0 })) });
    } finally {
      await producer.disconnect();
    }

    const plan = path.join(dir, "plan.json");
    await writeFile(
      plan,
      JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [2, 1] }] }),
    );
    const r = await kafkaCli("reassign-partitions", [
      "--bootstrap-server",
      cluster.bootstrap,
      "--reassignment-json-file",
      plan,
      "--execute",
    ]);
    assert.equal(r.code, 0, explain(r));
    await waitUntil(
      async () => {
        const p = await partition0(topic);
        return p.replicas.join(",") === "2,1" && [...p.isr].sort().join(",") === "1,2";
      },
      60_000,
      "the reassignment to complete",
    );
    await waitUntil(
      () => !existsSync(path.join(cluster.broker(0).dataDir, `${topic}-0`)),
      30_000,
      "broker 0 to delete its replica",
    );
    // Every broker's metadata names the new leader a moment later.
    const read = await waitUntil(
      async () => {
        const r = await kcatConsume(cluster.bootstrap, topic);
        return r.length === values.length ? r : null;
      },
      30_000,
      "the records from the new replicas",
    );
    assert.deepEqual(
      read!.map((x) => x.payload),
      values,
    );
    // The first replica of the new set (2) is the preferred leader; a preferred election
    // (or the controller's own rebalancing, or the move itself) puts it in charge.
    const r2 = await kafkaCli("leader-election", [
      "--bootstrap-server",
      cluster.bootstrap,
      "--election-type",
      "PREFERRED",
      "--topic",
      topic,
      "--partition",
      "0",
    ]);
    assert.equal(r2.code, 0, explain(r2));
    await waitUntil(async () => (await partition0(topic)).leader === 2, 30_000, "broker 2 to lead");
  });
  test("the operator's replication factor change (KafkaTopic 1 → 3) completes by reassignment; every record stays readable", async () => {
    const topic = uniqueName("rf-change");
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 3,
          replicationFactor: 1,
          // The cluster's default (2) would refuse acks=all on one replica.
          configEntries: [{ name: "min.insync.replicas", value: "1" }],
        },
      ],
      waitForLeaders: true,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent: string[][] = [[], [], []];
    try {
      for (let p = 0; p < 3; p++) {
        sent[p] = Array.from({ length: 200 }, (_, i) => `p${p}-${i}`);
        await producer.send({ topic, acks: -1, messages: sent[p].map((value) => ({ value, partition: p })) });
      }
    } finally {
      await producer.disconnect();
    }
    // The path the KafkaTopic reconciler takes: plan the replica lists, reassign, follow progress.
    const topicAdmin = new TopicAdmin(cluster.bootstrap.split(","));
    try {
      let progress = await topicAdmin.changeReplicationFactor(topic, 3);
      assert.equal(progress.total, 3);
      await waitUntil(
        async () => {
          progress = await topicAdmin.changeReplicationFactor(topic, 3);
          return progress.done === 3 && progress.moving === 0;
        },
        60_000,
        "every partition at replication factor 3",
      );
      // What the reconciler then writes to status (from whichever broker answers, so wait
      // for that one's metadata too).
      await waitUntil(
        async () => (await topicAdmin.describe(topic))?.replicationFactor === 3,
        30_000,
        "the topic described with replication factor 3",
      );
    } finally {
      await topicAdmin.close();
    }
    // Every broker applies the metadata on its own schedule: wait until the one asked agrees.
    await waitUntil(
      async () => {
        const parts = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions;
        return parts.length === 3 && parts.every((p) => p.replicas.length === 3 && p.isr.length === 3);
      },
      30_000,
      "every partition with 3 replicas, all in sync, in Metadata",
    );
    for (let p = 0; p < 3; p++) {
      const got = await kcatConsume(cluster.bootstrap, topic, { partition: p, count: sent[p].length });
      assert.deepEqual(
        got.map((r) => r.payload),
        sent[p],
        `partition ${p}`,
      );
    }
  });
});
