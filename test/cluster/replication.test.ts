// Replication on a 3-broker Capstan cluster (combined broker+controller processes on
// loopback, controller.quorum.voters), with real clients: a replication-factor-3 topic
// gets its replicas spread over the brokers, followers copy the leader's log byte for
// byte, consumers only see what every in-sync replica has (the high watermark),
// acks=all waits for the ISR, min.insync.replicas refuses with NOT_ENOUGH_REPLICAS,
// and a replication factor above the broker count is refused naming both numbers.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { startCapstanCluster, type CapstanCluster } from "../setup/capstan-cluster.ts";
import { kcatConsume, py, uniqueName, waitUntil } from "../interop/helpers.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The partitions as Metadata shows them, once every broker asked knows the topic. */
async function partitions(kafka: Kafka, topic: string): Promise<PartitionInfo[]> {
  return waitUntil(
    () =>
      withAdmin(kafka, async (admin) => {
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        return md.topics[0].partitions
          .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
          .sort((a, b) => a.partition - b.partition);
      }),
    30_000,
    `metadata of ${topic}`,
  );
}

/** Writes one record with acks=all, retrying while the cluster settles on a new topic. */
async function firstWrite(kafka: Kafka, topic: string, value: string): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
}

/** The Kafka error name anywhere in a kafkajs error's cause chain. */
function errorType(e: unknown): string | undefined {
  for (let c = e as { type?: string; cause?: unknown } | undefined; c; c = c.cause as typeof c) {
    if (c.type) return c.type;
  }
  return undefined;
}

async function logDigest(dataDir: string, topic: string, partition: number): Promise<string> {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
  const h = createHash("sha256");
  for (const f of files) h.update(await readFile(path.join(dir, f)));
  return h.digest("hex");
}

function clientFor(cluster: CapstanCluster): Kafka {
  return new Kafka({
    clientId: "capstan-replication",
    brokers: cluster.bootstrap.split(","),
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  });
}

describe("replication on a 3-broker cluster", { timeout: 300_000 }, () => {
  let cluster: CapstanCluster;
  let kafka: Kafka;

  before(async () => {
    // Slow fencing: a paused follower stays in the ISR for the whole test.
    cluster = await startCapstanCluster({
      brokers: 3,
      overrides: { "broker.session.timeout.ms": "120000", "replica.lag.time.max.ms": "120000" },
    });
    kafka = clientFor(cluster);
  });
  after(() => cluster?.close());

  test("a replication-factor-3 topic is spread over the brokers and every replica holds the same log", async () => {
    const topic = uniqueName("repl");
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        topics: [{ topic, numPartitions: 3, replicationFactor: 3 }],
        waitForLeaders: true,
      }),
    );
    const parts = await partitions(kafka, topic);
    assert.deepEqual(
      parts.map((p) => p.leader).sort(),
      [0, 1, 2],
      `one leader per broker: ${JSON.stringify(parts)}`,
    );
    for (const p of parts) {
      assert.deepEqual([...p.replicas].sort(), [0, 1, 2]);
      assert.deepEqual([...p.isr].sort(), [0, 1, 2]);
    }
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent: string[] = [];
    try {
      for (let i = 0; i < 60; i++) {
        const batch = Array.from({ length: 5 }, (_, j) => `r-${i * 5 + j}`);
        sent.push(...batch);
        await producer.send({
          topic,
          acks: -1,
          messages: batch.map((value, j) => ({ value, partition: (i + j) % 3 })),
        });
      }
    } finally {
      await producer.disconnect();
    }
    const records = await kcatConsume(cluster.bootstrap, topic, { timeoutMs: 60_000 });
    assert.deepEqual(records.map((r) => r.payload).sort(), [...sent].sort());
    // Followers copied the leaders' batches exactly (offsets, epochs, bytes).
    await waitUntil(
      async () => {
        for (const p of parts) {
          const digests = await Promise.all(
            p.replicas.map((id) => logDigest(cluster.broker(id).dataDir, topic, p.partition)),
          );
          if (new Set(digests).size !== 1) return false;
        }
        return true;
      },
      30_000,
      "identical replicas",
    );
  });

  test("consumers see only what every in-sync replica has; acks=all waits for the ISR", async () => {
    const topic = uniqueName("hw");
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 3 }],
        waitForLeaders: true,
      }),
    );
    const [p] = await partitions(kafka, topic);
    // The first write retries: the leader may apply the new topic a moment after the
    // broker that answered Metadata did.
    await firstWrite(kafka, topic, "before");
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    const follower = p.replicas.find((r) => r !== p.leader)!;
    const pid = cluster.broker(follower).pid;
    try {
      process.kill(pid, "SIGSTOP");
      try {
        // Written by the leader and the running follower, not the paused one (still in the ISR).
        await producer.send({ topic, acks: 1, messages: [{ value: "unreplicated" }] });
        await assert.rejects(
          producer.send({ topic, acks: -1, timeout: 1500, messages: [{ value: "waits" }] }),
          (e) => errorType(e) === "REQUEST_TIMED_OUT",
        );
        const visible = await kcatConsume(cluster.bootstrap, topic, { timeoutMs: 30_000 });
        assert.deepEqual(
          visible.map((r) => r.payload),
          ["before"],
          "records above the high watermark are not served",
        );
      } finally {
        process.kill(pid, "SIGCONT");
      }
      await waitUntil(
        async () => (await kcatConsume(cluster.bootstrap, topic, { timeoutMs: 30_000 })).length === 3,
        60_000,
        "the high watermark to move once the follower catches up",
      );
      const all = await kcatConsume(cluster.bootstrap, topic, { timeoutMs: 30_000 });
      assert.deepEqual(
        all.map((r) => r.payload),
        ["before", "unreplicated", "waits"],
      );
    } finally {
      await producer.disconnect();
    }
  });

  test("a replication factor above the broker count is refused with both numbers", async () => {
    const topic = uniqueName("rf4");
    const r = await py<{ error: string | null; message?: string }>("confluent-kafka", "create_topic", {
      bootstrap: cluster.bootstrap,
      topic,
      replicationFactor: 4,
    });
    assert.equal(r.error, "INVALID_REPLICATION_FACTOR", JSON.stringify(r));
    assert.match(r.message ?? "", /\b4\b.*\b3\b/);
  });
});

describe("min.insync.replicas and controlled shutdown on a 3-broker cluster", { timeout: 300_000 }, () => {
  let cluster: CapstanCluster;
  let kafka: Kafka;

  before(async () => {
    cluster = await startCapstanCluster({ brokers: 3 });
    kafka = clientFor(cluster);
  });
  after(() => cluster?.close());

  test("with the ISR below min.insync.replicas acks=all is refused with NOT_ENOUGH_REPLICAS, acks=1 is not", async () => {
    const topic = uniqueName("minisr");
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: 1,
            replicationFactor: 3,
            configEntries: [{ name: "min.insync.replicas", value: "3" }],
          },
        ],
        waitForLeaders: true,
      }),
    );
    await firstWrite(kafka, topic, "three in sync");
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      const [p] = await partitions(kafka, topic);
      const follower = p.replicas.find((r) => r !== p.leader)!;
      await cluster.broker(follower).kill();
      // The controller fences the silent broker and takes it out of the ISR.
      await waitUntil(
        async () => (await partitions(kafka, topic))[0].isr.length === 2,
        60_000,
        "the ISR to shrink",
      );
      // Until the leader itself has the smaller ISR, a write is appended and then answered
      // NOT_ENOUGH_REPLICAS_AFTER_APPEND (it is in the log); after that it is refused outright.
      const appendedAnyway: string[] = [];
      await waitUntil(
        async () => {
          const value = `refused-${appendedAnyway.length}`;
          try {
            await producer.send({ topic, acks: -1, messages: [{ value }] });
          } catch (e) {
            if (errorType(e) === "NOT_ENOUGH_REPLICAS") return true;
            if (errorType(e) === "NOT_ENOUGH_REPLICAS_AFTER_APPEND") {
              appendedAnyway.push(value);
              return false;
            }
            throw e;
          }
          throw new Error(`${value} was acknowledged by an ISR of two`);
        },
        30_000,
        "NOT_ENOUGH_REPLICAS",
      );
      await producer.send({ topic, acks: 1, messages: [{ value: "acks=1 is fine" }] });
      // The leader reports the partition under-replicated and under its min ISR.
      const metrics = await (await fetch(cluster.metricsUrl(p.leader))).text();
      assert.match(metrics, /^kafka_server_replicamanager_underreplicatedpartitions [1-9]/m);
      assert.match(metrics, /^kafka_server_replicamanager_underminisrpartitioncount [1-9]/m);
      assert.match(
        metrics,
        /^kafka_server_replicamanager_isrshrinks_total 0/m,
        "fencing, not the leader, shrank it",
      );
      const controller = (await cluster.metadata()).controllerId;
      const active = await (await fetch(cluster.metricsUrl(controller))).text();
      assert.match(active, /^kafka_controller_kafkacontroller_activecontrollercount 1/m);
      await cluster.broker(follower).restart();
      await waitUntil(
        async () => (await partitions(kafka, topic))[0].isr.length === 3,
        90_000,
        "the restarted follower to rejoin the ISR",
      );
      await producer.send({ topic, acks: -1, messages: [{ value: "three again" }] });
      const all = await kcatConsume(cluster.bootstrap, topic, { timeoutMs: 30_000 });
      assert.deepEqual(
        all.map((r) => r.payload),
        ["three in sync", ...appendedAnyway, "acks=1 is fine", "three again"],
      );
    } finally {
      await producer.disconnect();
    }
  });

  test("SIGTERM: a leader hands its leaderships over before it exits (controlled shutdown)", async () => {
    const topic = uniqueName("shutdown");
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 3 }],
        waitForLeaders: true,
      }),
    );
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: "before" }] });
      const [p] = await partitions(kafka, topic);
      const leader = cluster.broker(p.leader);
      await leader.stop();
      assert.match(leader.logs(), /controlled shutdown/);
      assert.doesNotMatch(leader.logs(), /did not release this broker/);
      const [after] = await partitions(kafka, topic);
      assert.notEqual(after.leader, p.leader, "a new leader took over");
      assert.ok(!after.isr.includes(p.leader), `the stopped broker left the ISR: ${JSON.stringify(after)}`);
      await producer.send({ topic, acks: -1, messages: [{ value: "after" }] });
      await leader.restart();
      await waitUntil(
        async () => (await partitions(kafka, topic))[0].isr.length === 3,
        90_000,
        "the restarted broker to rejoin the ISR",
      );
      const all = await kcatConsume(cluster.bootstrap, topic, { timeoutMs: 30_000 });
      assert.deepEqual(
        all.map((r) => r.payload),
        ["before", "after"],
      );
    } finally {
      await producer.disconnect();
    }
  });
});
