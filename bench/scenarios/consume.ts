// Scenario 3: consume of data in the page cache. One topic of `records` 1 KiB records is
// written once (ProducerPerformance) and read once unmeasured, so every measured read is
// served from the page cache; then each run reads it all from the beginning with
// ConsumerPerformance (a new group each run; its fetch-phase rate, which leaves out the
// group join) and with kcat (no group, offsets printed rather than payloads).
import { startCluster } from "../lib/cluster.ts";
import { parseConsumerPerformance } from "../lib/parse.ts";
import type { BenchContext, Scenario } from "../lib/scenario.ts";
import type { BrokerKind } from "../lib/table.ts";
import { createTopic, kafkaTool, kcatConsume } from "../lib/tools.ts";

export const consume: Scenario = {
  name: "consume",
  title: "3. consume from page cache",
  metrics: [
    {
      id: "cp-mbps",
      label: "consume (fetch phase)",
      unit: "MiB/s",
      client: "ConsumerPerformance",
      better: "higher",
    },
    { id: "kcat-mbps", label: "consume", unit: "MiB/s", client: "kcat", better: "higher" },
  ],
  async run(broker: BrokerKind, ctx: BenchContext) {
    const out: Record<string, number[]> = { "cp-mbps": [], "kcat-mbps": [] };
    const cluster = await startCluster(broker);
    try {
      const topic = "consume";
      await createTopic(cluster.bootstrap, topic);
      await kafkaTool("ProducerPerformance", [
        ...["--topic", topic, "--num-records", String(ctx.records), "--record-size", String(ctx.recordSize)],
        ...["--throughput", "-1", "--bootstrap-server", cluster.bootstrap, "--command-property", "acks=1"],
      ]);
      await kcatConsume(cluster.bootstrap, topic, ctx.records);
      for (let i = 1; i <= ctx.repeat; i++) {
        const cp = parseConsumerPerformance(
          await kafkaTool("ConsumerPerformance", [
            ...["--bootstrap-server", cluster.bootstrap, "--topic", topic, "--group", `consume-${i}`],
            ...["--num-records", String(ctx.records), "--timeout", "60000"],
          ]),
        );
        if (cp.records < ctx.records)
          throw new Error(`ConsumerPerformance read ${cp.records} of ${ctx.records} records`);
        const seconds = await kcatConsume(cluster.bootstrap, topic, ctx.records);
        const kcat = (ctx.records * ctx.recordSize) / 2 ** 20 / seconds;
        out["cp-mbps"].push(cp.fetchMbPerSec);
        out["kcat-mbps"].push(kcat);
        ctx.log(
          `run ${i}: ConsumerPerformance ${cp.fetchMbPerSec} MiB/s (join ${cp.rebalanceMs} ms), kcat ${kcat.toFixed(1)} MiB/s`,
        );
      }
    } finally {
      await cluster.stop();
    }
    return out;
  },
};
