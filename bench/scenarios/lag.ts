// Scenario 7, lag: the consumer-lag exporter's poll (operator/lag/collector.ts, as the
// operator and local mode run it, record timestamps on) over `lagPartitions` partitions
// (100-partition topics) and two groups that committed every partition, one record behind
// the end. Polls repeat until the record-timestamp cache is warm (no record fetches), then
// the measured polls are the steady state an exporter scrape sees. Same code on both brokers.
import { readdir, readFile } from "node:fs/promises";
import { Kafka, logLevel } from "kafkajs";
import { LagCollector } from "../../operator/lag/collector.ts";
import { commitOffsetsMany } from "../../test/lag/kafka-ops.ts";
import { startCluster } from "../lib/cluster.ts";
import type { BenchContext, Scenario } from "../lib/scenario.ts";
import type { BrokerKind } from "../lib/table.ts";

const PARTITIONS_PER_TOPIC = 100;

/** The broker hit its open-files limit: say how many descriptors it held and the limit. */
async function outOfFiles(pid: number, topics: number): Promise<string> {
  const limit = /Max open files\s+(\d+)/.exec(
    await readFile(`/proc/${pid}/limits`, "utf8").catch(() => ""),
  )?.[1];
  const fds = await readdir(`/proc/${pid}/fd`).then(
    (f) => f.length,
    () => "?",
  );
  return `broker out of file descriptors (EMFILE) with ${topics * PARTITIONS_PER_TOPIC} partitions: ${fds} open, limit ${limit ?? "?"}`;
}
const GROUPS = 2;

export const lag: Scenario = {
  name: "lag",
  title: "7. lag poll",
  metrics: [
    {
      id: "poll-ms",
      label: "7. lag poll, steady state",
      unit: "ms",
      client: "operator/lag collector",
      better: "lower",
    },
  ],
  async run(broker: BrokerKind, ctx: BenchContext) {
    const out: Record<string, number[]> = { "poll-ms": [] };
    const topics = Array.from(
      { length: Math.ceil(ctx.lagPartitions / PARTITIONS_PER_TOPIC) },
      (_, i) => `lag-${i}`,
    );
    const cluster = await startCluster(broker);
    const kafka = new Kafka({
      clientId: "lag-bench",
      brokers: [cluster.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    const producer = kafka.producer();
    try {
      await admin.connect();
      await producer.connect();
      for (let i = 0; i < topics.length; i += 10) {
        await admin.createTopics({
          topics: topics.slice(i, i + 10).map((topic) => ({ topic, numPartitions: PARTITIONS_PER_TOPIC })),
          waitForLeaders: false,
          timeout: 120_000,
        });
      }
      // Kafka elects thousands of leaders a while after CreateTopics returns; kafkajs'
      // waitForLeaders gives up too early at this size.
      const deadline = Date.now() + 300_000;
      for (;;) {
        const led = await admin
          .fetchTopicMetadata({ topics })
          .then((m) =>
            m.topics.every(
              (t) => t.partitions.length === PARTITIONS_PER_TOPIC && t.partitions.every((p) => p.leader >= 0),
            ),
          )
          .catch(() => false);
        if (led) break;
        if (Date.now() > deadline) throw new Error(`partitions still without leaders after 300 s`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      ctx.log(`${topics.length * PARTITIONS_PER_TOPIC} partitions created`);
      for (const topic of topics) {
        const messages = Array.from({ length: PARTITIONS_PER_TOPIC * 2 }, (_, i) => ({
          partition: i % PARTITIONS_PER_TOPIC,
          value: `record-${i}`,
        }));
        // Kafka elects leaders a while after CreateTopics returns.
        for (let attempt = 1; ; attempt++) {
          try {
            await producer.send({ topic, acks: 1, messages });
            break;
          } catch (err) {
            if (cluster.logs(5).includes("EMFILE"))
              throw new Error(await outOfFiles(cluster.nodes[0].pid, topics.length), { cause: err });
            if (attempt >= 20) throw err;
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }
      const port = cluster.nodes[0].port;
      for (let g = 0; g < GROUPS; g++) {
        const offsets = Object.fromEntries(
          topics.map((t) => [
            t,
            Object.fromEntries(Array.from({ length: PARTITIONS_PER_TOPIC }, (_, p) => [p, 1])),
          ]),
        );
        await commitOffsetsMany(port, `lag-group-${g}`, offsets);
      }
      const collector = new LagCollector({
        cluster: "bench",
        namespace: "bench",
        bootstrap: [cluster.bootstrap],
      });
      try {
        for (let warm = 0; warm < 20; warm++) {
          const s = await collector.pollOnce();
          if (warm > 0 && s.stats.recordFetches === 0) break;
        }
        for (let i = 1; i <= ctx.repeat; i++) {
          const s = await collector.pollOnce();
          const groups = s.groups.length;
          const partitions = s.groups.reduce((n, g) => n + g.partitions.length, 0);
          if (partitions < GROUPS * topics.length * PARTITIONS_PER_TOPIC) {
            throw new Error(`poll saw ${groups} groups, ${partitions} group partitions`);
          }
          out["poll-ms"].push(s.durationMs);
          ctx.log(
            `poll ${i}: ${s.durationMs} ms, ${s.stats.requests} requests, ${partitions} group partitions`,
          );
        }
      } finally {
        await collector.stop();
      }
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await cluster.stop();
    }
    return out;
  },
};
