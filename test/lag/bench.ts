// Lag exporter benchmark (not a test): poll duration, requests and scrape size for 1,000
// partitions (10 topics × 100) and 20 groups that each committed every partition at a
// different offset, against the target broker(s).
//
//   node test/lag/bench.ts                     # CAPSTAN_TEST_TARGET (default capstan)
//   node test/lag/bench.ts --target kafka      # or capstan, or both
//   node test/lag/bench.ts --topics 10 --partitions 100 --groups 20 --records 20
//
// Polls are reported one by one: the first ones read up to 5,000 record timestamps each
// (the per-poll budget) until every (partition, committed offset) is cached; later polls
// read none while offsets stand still.
import { Kafka, logLevel } from "kafkajs";
import { LagCollector } from "../../operator/lag/collector.ts";
import { LagMetrics } from "../../operator/lag/metrics.ts";
import type { Target } from "../setup/capstan.ts";
import { startTarget, testTarget } from "../setup/capstan.ts";
import { commitOffsetsMany } from "./kafka-ops.ts";

interface Options {
  targets: Target[];
  topics: number;
  partitions: number;
  groups: number;
  records: number;
  polls: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    targets: [testTarget()],
    topics: 10,
    partitions: 100,
    groups: 20,
    records: 20,
    polls: 6,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case "--target":
        o.targets = v === "both" ? ["capstan", "kafka"] : [v as Target];
        i++;
        break;
      case "--topics":
      case "--partitions":
      case "--groups":
      case "--records":
      case "--polls":
        o[argv[i].slice(2) as "topics"] = Number(v);
        i++;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

async function bench(target: Target, o: Options): Promise<void> {
  process.env.CAPSTAN_TEST_TARGET = target;
  const broker = await startTarget();
  const kafka = new Kafka({ clientId: "lag-bench", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer();
  try {
    await admin.connect();
    await producer.connect();
    const topics = Array.from({ length: o.topics }, (_, i) => `bench-${i}`);
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: o.partitions })),
      waitForLeaders: true,
      timeout: 60_000,
    });
    const started = Date.now();
    for (const topic of topics) {
      const messages = Array.from({ length: o.partitions * o.records }, (_, i) => ({
        partition: i % o.partitions,
        value: `record-${i}`,
        timestamp: String(started - 600_000 + Math.floor(i / o.partitions) * 1000),
      }));
      // Kafka elects a thousand leaders a while after CreateTopics returns.
      for (let attempt = 1; ; attempt++) {
        try {
          await producer.send({ topic, acks: -1, messages });
          break;
        } catch (err) {
          if (attempt >= 10) throw err;
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      }
    }
    // Group g committed offset g % records on every partition: all lagging, all different.
    for (let g = 0; g < o.groups; g++) {
      const offsets: Record<string, Record<number, number>> = {};
      for (const topic of topics) {
        offsets[topic] = Object.fromEntries(
          Array.from({ length: o.partitions }, (_, p) => [p, g % o.records]),
        );
      }
      await commitOffsetsMany(broker.port, `bench-group-${g}`, offsets);
    }

    for (const recordTimestamps of [true, false]) {
      const collector = new LagCollector({
        cluster: "bench",
        namespace: "bench",
        bootstrap: [broker.bootstrap],
        recordTimestamps: recordTimestamps ? {} : false,
      });
      const metrics = new LagMetrics();
      metrics.add(collector);
      console.log(
        `\n${target}: ${o.topics * o.partitions} partitions, ${o.groups} groups, record timestamps ${recordTimestamps ? "on" : "off"}`,
      );
      console.log("poll  duration_ms  requests  record_fetches  lag_sources  requests_by_api");
      for (let i = 1; i <= o.polls; i++) {
        const s = await collector.pollOnce();
        const sources = new Map<string, number>();
        for (const g of s.groups) {
          for (const p of g.partitions) {
            const k = p.lagSecondsSource ?? "none";
            sources.set(k, (sources.get(k) ?? 0) + 1);
          }
        }
        console.log(
          `${String(i).padStart(4)}  ${String(s.durationMs).padStart(11)}  ${String(s.stats.requests).padStart(8)}  ${String(s.stats.recordFetches).padStart(14)}  ${JSON.stringify(Object.fromEntries(sources))}  ${JSON.stringify(s.stats.requestsByApi)}`,
        );
      }
      const t0 = performance.now();
      const text = await metrics.metrics();
      const renderMs = performance.now() - t0;
      const series = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
      console.log(
        `scrape: ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB, ${series} series, rendered in ${renderMs.toFixed(0)} ms`,
      );
      if (recordTimestamps) {
        for (const granularity of ["topic", "group"] as const) {
          const c2 = new LagCollector({
            cluster: "bench",
            namespace: "bench",
            bootstrap: [broker.bootstrap],
            recordTimestamps: false,
            cardinality: { granularity },
          });
          const m2 = new LagMetrics();
          m2.add(c2);
          await c2.pollOnce();
          const t = await m2.metrics();
          console.log(
            `scrape at ${granularity} granularity: ${(Buffer.byteLength(t) / 1024).toFixed(0)} KiB, ${t.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length} series`,
          );
          await c2.stop();
        }
      }
      await collector.stop();
    }
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await broker.close();
  }
}

const opts = parseArgs(process.argv.slice(2));
for (const t of opts.targets) await bench(t, opts);
