// Scenario 2: three brokers, a one-partition topic with replication factor 3, acks=all and
// the idempotent producer, 1 KiB records: ProducerPerformance and kcat.
import path from "node:path";
import { parseProducerPerformance } from "../lib/parse.ts";
import type { BenchContext, Scenario } from "../lib/scenario.ts";
import type { BrokerKind } from "../lib/table.ts";
import { createReplicatedTopic, startThreeNodes } from "../lib/three-nodes.ts";
import { kafkaTool, kcatProducerSettings, kcatProduce, writeRecordsFile } from "../lib/tools.ts";

export const replicated: Scenario = {
  name: "replicated",
  title: "2. produce, 3 brokers, RF 3, acks=all, idempotent",
  metrics: [
    { id: "pp-mbps", label: "produce RF3", unit: "MiB/s", client: "ProducerPerformance", better: "higher" },
    { id: "kcat-mbps", label: "produce RF3", unit: "MiB/s", client: "kcat", better: "higher" },
  ],
  async run(broker: BrokerKind, ctx: BenchContext) {
    const out: Record<string, number[]> = { "pp-mbps": [], "kcat-mbps": [] };
    const file = path.join(ctx.tmp, `records-${ctx.records}x${ctx.recordSize}.txt`);
    await writeRecordsFile(file, ctx.records, ctx.recordSize);
    const cluster = await startThreeNodes(broker);
    try {
      for (let i = 0; i <= ctx.repeat; i++) {
        const t1 = `replicated-pp-${i}`;
        await createReplicatedTopic(cluster, t1);
        const pp = parseProducerPerformance(
          await kafkaTool("ProducerPerformance", [
            ...[
              "--topic",
              t1,
              "--num-records",
              String(i === 0 ? Math.min(ctx.records, 50_000) : ctx.records),
            ],
            ...[
              "--record-size",
              String(ctx.recordSize),
              "--throughput",
              "-1",
              "--bootstrap-server",
              cluster.bootstrap,
            ],
            ...["--command-property", "acks=all", "enable.idempotence=true"],
          ]),
        );
        if (i === 0) continue; // warm-up
        const t2 = `replicated-kcat-${i}`;
        await createReplicatedTopic(cluster, t2);
        const seconds = await kcatProduce(cluster.bootstrap, t2, file, kcatProducerSettings("all", true));
        const kcat = (ctx.records * ctx.recordSize) / 2 ** 20 / seconds;
        out["pp-mbps"].push(pp.mbPerSec);
        out["kcat-mbps"].push(kcat);
        ctx.log(`run ${i}: ProducerPerformance ${pp.mbPerSec} MiB/s, kcat ${kcat.toFixed(1)} MiB/s`);
      }
    } finally {
      await cluster.stop();
    }
    return out;
  },
};
