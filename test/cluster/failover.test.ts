// Failover of a 3-broker Capstan cluster (broker processes on loopback, combined
// broker+controller, replication factor 3, min.insync.replicas 2) while an idempotent
// acks=all producer (confluent-kafka) streams: kill -9 the leader of each partition in
// turn, and the active controller, restart each, several rounds; the same with
// followers; two brokers down; a frozen (SIGSTOP) leader. Afterwards every
// acknowledged record is read back exactly once, at its acknowledged offset, in order
// per partition, and no replica's log diverges from the leader's.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { startCapstanCluster, type CapstanCluster } from "../setup/capstan-cluster.ts";
import { haveCommand, havePython, kcatConsume, uniqueName, waitUntil } from "../interop/helpers.ts";
import { StreamProducer, type StreamSummary } from "../interop/stream.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

const unavailable = !havePython("confluent_kafka")
  ? "python3-confluent-kafka is not installed"
  : !haveCommand("kcat", ["-V"])
    ? "kcat is not installed"
    : false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

describe("failover of a 3-broker cluster", { skip: unavailable, timeout: 900_000 }, () => {
  let cluster: CapstanCluster;
  let kafka: Kafka;

  before(async () => {
    cluster = await startCapstanCluster({ brokers: 3 });
    kafka = new Kafka({
      clientId: "capstan-failover",
      brokers: cluster.bootstrap.split(","),
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 200 },
    });
  });
  after(() => cluster?.close());

  async function partitions(topic: string): Promise<PartitionInfo[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return md.topics[0].partitions
        .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
        .sort((a, b) => a.partition - b.partition);
    } finally {
      await admin.disconnect();
    }
  }

  async function createTopic(topic: string, configs: Record<string, string> = {}): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: 3,
            replicationFactor: 3,
            configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
          },
        ],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
  }

  /** Waits until every partition has a leader and all three replicas in its ISR. */
  async function waitFullyReplicated(topic: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: PartitionInfo[] = [];
    while (Date.now() < deadline) {
      try {
        last = await partitions(topic);
        if (last.every((p) => p.leader >= 0 && p.isr.length === 3)) return;
      } catch {
        // a broker may be restarting
      }
      await sleep(300);
    }
    throw new Error(`${topic} not fully replicated: ${JSON.stringify(last)}`);
  }

  function stream(topic: string): StreamProducer {
    return new StreamProducer({
      bootstrap: cluster.bootstrap,
      topic,
      acks: "all",
      rate: 150,
      // One request in flight: librdkafka before 2.3 turns a possibly persisted error (a
      // dropped connection, which every kill -9 causes) followed by a second failing
      // request into a fatal "rewound sequence number" error (librdkafka #3584, #4438).
      config: {
        "enable.idempotence": "true",
        "message.timeout.ms": 180000,
        "max.in.flight.requests.per.connection": 1,
      },
    });
  }

  /** Reads the topic back and checks the acknowledged records: there, once, in order. */
  async function verify(topic: string, summary: StreamSummary): Promise<void> {
    assert.equal(summary.left, 0, `records left unsent: ${summary.output}`);
    const records = await kcatConsume(cluster.bootstrap, topic, { timeoutMs: 120_000 });
    const seqAt = new Map<string, number>();
    const seen = new Map<number, string>();
    const byPartition = new Map<number, Array<{ offset: number; seq: number }>>();
    for (const r of records) {
      const seq = Number((r.payload ?? "").split(":")[1]);
      const where = `${r.partition}@${r.offset}`;
      assert.ok(!seen.has(seq), `seq ${seq} at ${where} and at ${seen.get(seq)}: a duplicate`);
      seen.set(seq, where);
      seqAt.set(where, seq);
      const list = byPartition.get(r.partition) ?? [];
      list.push({ offset: r.offset, seq });
      byPartition.set(r.partition, list);
    }
    for (const a of summary.acks) {
      const found = seqAt.get(`${a.partition}@${a.offset}`);
      assert.equal(found, a.seq, `seq ${a.seq} acknowledged at ${a.partition}@${a.offset}, found ${found}`);
    }
    for (const [partition, list] of byPartition) {
      list.sort((x, y) => x.offset - y.offset);
      for (let i = 1; i < list.length; i++) {
        assert.ok(
          list[i].seq > list[i - 1].seq,
          `partition ${partition}: seq ${list[i].seq} at ${list[i].offset} after seq ${list[i - 1].seq}`,
        );
      }
    }
  }

  /** The replicas of each partition hold the same bytes (once the writes have stopped). */
  async function assertReplicasIdentical(topic: string): Promise<void> {
    for (const p of await partitions(topic)) {
      const digests = new Map<number, string>();
      for (const id of p.replicas) {
        const dir = path.join(cluster.broker(id).dataDir, `${topic}-${p.partition}`);
        const files = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
        const h = createHash("sha256");
        for (const f of files) h.update(await readFile(path.join(dir, f)));
        digests.set(id, h.digest("hex"));
      }
      assert.equal(
        new Set(digests.values()).size,
        1,
        `${topic}-${p.partition} replicas differ: ${[...digests]}`,
      );
    }
  }

  async function activeController(): Promise<number> {
    return (await cluster.metadata()).controllerId;
  }

  test("kill -9 the leader of each partition in turn and the active controller: nothing acknowledged is lost", async () => {
    const topic = uniqueName("failover-leaders");
    await createTopic(topic);
    const producer = stream(topic);
    try {
      await producer.waitForAcks(300, 60_000);
      for (let round = 0; round < 2; round++) {
        for (let partition = 0; partition < 3; partition++) {
          const leader = (await partitions(topic))[partition].leader;
          const before = producer.acked;
          await cluster.broker(leader).kill();
          await producer.waitForAcks(before + 300, 60_000);
          await cluster.broker(leader).restart();
          await waitFullyReplicated(topic);
        }
        const controller = await activeController();
        const before = producer.acked;
        await cluster.broker(controller).kill();
        await producer.waitForAcks(before + 300, 60_000);
        await cluster.broker(controller).restart();
        await waitFullyReplicated(topic);
      }
    } finally {
      const summary = await producer.finish();
      await verify(topic, summary);
    }
    await waitFullyReplicated(topic);
    await assertReplicasIdentical(topic);
  });

  test("kill -9 followers in turn: nothing acknowledged is lost and they catch up", async () => {
    const topic = uniqueName("failover-followers");
    await createTopic(topic);
    const producer = stream(topic);
    try {
      await producer.waitForAcks(300, 60_000);
      for (let round = 0; round < 2; round++) {
        const p0 = (await partitions(topic))[0];
        for (const follower of p0.replicas.filter((r) => r !== p0.leader)) {
          const before = producer.acked;
          await cluster.broker(follower).kill();
          await producer.waitForAcks(before + 300, 60_000);
          await cluster.broker(follower).restart();
          await waitFullyReplicated(topic);
        }
      }
    } finally {
      await verify(topic, await producer.finish());
    }
    await waitFullyReplicated(topic);
    await assertReplicasIdentical(topic);
  });

  test("with two of three brokers down produce is refused, not lost, and resumes when one returns", async () => {
    const topic = uniqueName("failover-minisr");
    await createTopic(topic, { "min.insync.replicas": "2" });
    const producer = stream(topic);
    try {
      await producer.waitForAcks(200, 60_000);
      const p = (await partitions(topic))[0];
      const survivor = p.leader;
      const down = [0, 1, 2].filter((b) => b !== survivor);
      await Promise.all(down.map((b) => cluster.broker(b).kill()));
      await sleep(2000);
      const stalled = producer.acked;
      await sleep(5000);
      // Nothing more can be acknowledged by one in-sync replica of three.
      assert.ok(
        producer.acked - stalled <= 10,
        `acks went on from ${stalled} to ${producer.acked} with two brokers down`,
      );
      await cluster.broker(down[0]).restart();
      await producer.waitForAcks(producer.acked + 300, 120_000);
      await cluster.broker(down[1]).restart();
      await waitFullyReplicated(topic);
    } finally {
      await verify(topic, await producer.finish());
    }
  });

  test("a frozen leader (SIGSTOP) cannot acknowledge; a new leader takes over; after it thaws nothing diverges", async () => {
    const topic = uniqueName("failover-frozen");
    await createTopic(topic);
    const producer = stream(topic);
    try {
      await producer.waitForAcks(300, 60_000);
      const leader = (await partitions(topic))[1].leader;
      const pid = cluster.broker(leader).pid;
      process.kill(pid, "SIGSTOP");
      try {
        // The controller fences the silent broker and another in-sync replica leads.
        // (The thaw comes soon after: librdkafka before 2.3 cannot survive its request to
        // the frozen broker timing out, see the note on max.in.flight above.)
        await waitUntil(
          async () => (await partitions(topic))[1].leader !== leader,
          60_000,
          "a new leader for the frozen broker's partition",
        );
      } finally {
        process.kill(pid, "SIGCONT");
      }
      // The thawed broker learns it no longer leads: its held writes fail, are sent again
      // to the new leader, and the producer carries on.
      await producer.waitForAcks(producer.acked + 300, 90_000);
      await waitFullyReplicated(topic);
      await producer.waitForAcks(producer.acked + 200, 60_000);
    } finally {
      await verify(topic, await producer.finish());
    }
    await waitFullyReplicated(topic);
    await sleep(1000);
    await assertReplicasIdentical(topic);
  });
});
