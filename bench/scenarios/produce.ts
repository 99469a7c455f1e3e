// Scenario 1 (and the RSS half of 5): one broker, acks=1, 1 KiB records to a fresh
// one-partition topic, produced by ProducerPerformance (the Java client, default batching,
// unthrottled) and by kcat (librdkafka) from a file; each run gets its own topic. The
// broker's VmRSS is sampled throughout, and its peak reported.
import path from "node:path";
import { startCluster } from "../lib/cluster.ts";
import { parseProducerPerformance } from "../lib/parse.ts";
import type { BenchContext, Scenario } from "../lib/scenario.ts";
import type { BrokerKind } from "../lib/table.ts";
import {
  createTopic,
  kafkaTool,
  kcatProducerSettings,
  kcatProduce,
  sampleRss,
  writeRecordsFile,
} from "../lib/tools.ts";

export const produce: Scenario = {
  name: "produce",
  title: "1. produce, 1 broker, acks=1, 1 KiB",
  metrics: [
    { id: "pp-mbps", label: "produce", unit: "MiB/s", client: "ProducerPerformance", better: "higher" },
    { id: "pp-rps", label: "produce", unit: "records/s", client: "ProducerPerformance", better: "higher" },
    { id: "kcat-mbps", label: "produce", unit: "MiB/s", client: "kcat", better: "higher" },
    { id: "kcat-rps", label: "produce", unit: "records/s", client: "kcat", better: "higher" },
    {
      id: "rss-peak",
      label: "5. broker peak RSS under produce",
      unit: "MiB",
      client: "/proc VmRSS",
      better: "lower",
    },
  ],
  async run(broker: BrokerKind, ctx: BenchContext) {
    const out: Record<string, number[]> = {
      "pp-mbps": [],
      "pp-rps": [],
      "kcat-mbps": [],
      "kcat-rps": [],
      "rss-peak": [],
    };
    const file = path.join(ctx.tmp, `records-${ctx.records}x${ctx.recordSize}.txt`);
    await writeRecordsFile(file, ctx.records, ctx.recordSize);
    const cluster = await startCluster(broker);
    try {
      const node = cluster.nodes[0];
      // A short ProducerPerformance warm-up (JIT, connection set-up), not measured.
      for (let i = 0; i <= ctx.repeat; i++) {
        const warm = i === 0;
        const rss = sampleRss(() => node.pid);
        const records = warm ? Math.min(ctx.records, 50_000) : ctx.records;
        const t1 = `produce-pp-${i}`;
        await createTopic(cluster.bootstrap, t1);
        const pp = parseProducerPerformance(
          await kafkaTool("ProducerPerformance", [
            ...["--topic", t1, "--num-records", String(records), "--record-size", String(ctx.recordSize)],
            ...[
              "--throughput",
              "-1",
              "--bootstrap-server",
              cluster.bootstrap,
              "--command-property",
              "acks=1",
            ],
          ]),
        );
        if (warm) {
          await rss.stop();
          continue;
        }
        const t2 = `produce-kcat-${i}`;
        await createTopic(cluster.bootstrap, t2);
        const seconds = await kcatProduce(cluster.bootstrap, t2, file, kcatProducerSettings("1"));
        const peak = await rss.stop();
        out["pp-mbps"].push(pp.mbPerSec);
        out["pp-rps"].push(pp.recordsPerSec);
        out["kcat-mbps"].push((ctx.records * ctx.recordSize) / 2 ** 20 / seconds);
        out["kcat-rps"].push(ctx.records / seconds);
        out["rss-peak"].push(peak / 1024);
        ctx.log(
          `run ${i}: ProducerPerformance ${pp.mbPerSec} MiB/s, kcat ${((ctx.records * ctx.recordSize) / 2 ** 20 / seconds).toFixed(1)} MiB/s, peak RSS ${(peak / 1024).toFixed(0)} MiB`,
        );
      }
    } finally {
      await cluster.stop();
    }
    return out;
  },
};
