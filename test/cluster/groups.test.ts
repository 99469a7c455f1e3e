// Consumer groups on a 3-broker Capstan cluster: __consumer_offsets is replicated
// (offsets.topic.replication.factor 3) and the group coordinator follows the leader of
// the group's __consumer_offsets partition. kill -9 of the coordinator's broker moves
// the coordinator to another broker, and the group's committed offsets are still there:
// a consumer of the group resumes exactly where the group left off (kafkajs).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel, type Consumer } from "kafkajs";
import { groupPartition } from "../../broker/group/java-hash.ts";
import { startCapstanCluster, type CapstanCluster } from "../setup/capstan-cluster.ts";
import { uniqueName, waitUntil } from "../interop/helpers.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

const OFFSETS_PARTITIONS = 10;

describe("consumer groups on a 3-broker cluster", { timeout: 300_000 }, () => {
  let cluster: CapstanCluster;
  let kafka: Kafka;

  before(async () => {
    cluster = await startCapstanCluster({
      brokers: 3,
      overrides: { "offsets.topic.num.partitions": String(OFFSETS_PARTITIONS) },
    });
    kafka = client(cluster.bootstrap.split(","));
  });
  after(() => cluster?.close());

  function client(brokers: string[]): Kafka {
    return new Kafka({
      clientId: "capstan-cluster-groups",
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
    });
  }

  async function produce(kafka: Kafka, topic: string, from: number, count: number): Promise<void> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (let i = from; i < from + count; i += 50) {
        const values = Array.from({ length: Math.min(50, from + count - i) }, (_, j) => `m-${i + j}`);
        // Explicit partitions: kafkajs's round-robin partitioner re-partitions a retried
        // batch (a broker that has not applied the new topic yet asks it to retry), which
        // duplicates some records and drops others.
        await producer.send({
          topic,
          acks: -1,
          messages: values.map((value, j) => ({ value, partition: (i + j) % 3 })),
        });
      }
    } finally {
      await producer.disconnect();
    }
  }

  /** Runs a group member until it has received `count` records; returns them. */
  async function consume(kafka: Kafka, topic: string, group: string, count: number): Promise<string[]> {
    const consumer: Consumer = kafka.consumer({
      groupId: group,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const got: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommitInterval: 100,
        eachMessage: async ({ message }) => {
          got.push(message.value!.toString());
        },
      });
      // At least once: a rebalance may deliver a record again, so distinct ones are counted.
      await waitUntil(() => new Set(got).size >= count, 120_000, `${count} records for ${group}`);
    } finally {
      // Disconnecting commits what was consumed and leaves the group.
      await consumer.disconnect();
    }
    return got;
  }

  test("kill -9 of the coordinator's broker keeps the group's committed offsets", async () => {
    const topic = uniqueName("groups-cluster");
    const group = uniqueName("g");
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3, replicationFactor: 3 }],
        waitForLeaders: true,
      });
      await produce(kafka, topic, 0, 300);
      const first = await consume(kafka, topic, group, 300);
      assert.equal(new Set(first).size, 300);

      const offsets = await waitUntil(
        async () => {
          const md = await admin.fetchTopicMetadata({ topics: ["__consumer_offsets"] });
          const parts = md.topics[0].partitions;
          return parts.length === OFFSETS_PARTITIONS &&
            parts.every((p) => p.replicas.length === 3 && p.isr.length === 3)
            ? parts
            : null;
        },
        60_000,
        "__consumer_offsets replicated three times",
      );
      const coordinator = offsets!.find(
        (p) => p.partitionId === groupPartition(group, OFFSETS_PARTITIONS),
      )!.leader;
      const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      assert.deepEqual(
        committed[0].partitions.map((p) => Number(p.offset)).reduce((a, b) => a + b, 0),
        300,
        "the group committed all 300",
      );

      await cluster.broker(coordinator).kill();
      try {
        // Once the controller fences it, another replica of the partition coordinates.
        await waitUntil(
          async () => !(await cluster.metadata()).brokers.some((b) => b.nodeId === coordinator),
          60_000,
          "the coordinator's broker to be fenced",
        );
        // New clients, bootstrapped from the brokers still running.
        const survivors = client(
          cluster.brokers.filter((_, id) => id !== coordinator).map((b) => b.bootstrap),
        );
        await produce(survivors, topic, 300, 100);
        // The new coordinator (another replica of the partition) knows where the group was.
        const second = await consume(survivors, topic, group, 100);
        assert.deepEqual(
          [...new Set(second)].sort(),
          Array.from({ length: 100 }, (_, i) => `m-${300 + i}`).sort(),
          "the group resumed at its committed offsets: nothing from before them again",
        );
      } finally {
        await cluster.broker(coordinator).restart();
      }
    } finally {
      await admin.disconnect();
    }
  });
});
