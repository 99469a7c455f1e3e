// Scenario 4: end-to-end latency with EndToEndLatency, which sends one 1 KiB record
// (acks=1), waits until its consumer has received it, then sends the next: one record in
// flight, far below saturation, so the figure is the round trip of an idle broker (produce,
// then the consumer's long-poll fetch being woken). The tool prints its percentiles in whole
// milliseconds (truncated: "0" is under 1 ms), so the average is reported as well.
import { startCluster } from "../lib/cluster.ts";
import { parseEndToEndLatency } from "../lib/parse.ts";
import type { BenchContext, Scenario } from "../lib/scenario.ts";
import type { BrokerKind } from "../lib/table.ts";
import { createTopic, kafkaTool } from "../lib/tools.ts";

export const latency: Scenario = {
  name: "latency",
  title: "4. end-to-end latency, 1 record in flight",
  metrics: [
    { id: "avg", label: "latency average", unit: "ms", client: "EndToEndLatency", better: "lower" },
    { id: "p50", label: "latency p50", unit: "ms", client: "EndToEndLatency", better: "lower" },
    { id: "p99", label: "latency p99", unit: "ms", client: "EndToEndLatency", better: "lower" },
    { id: "p999", label: "latency p99.9", unit: "ms", client: "EndToEndLatency", better: "lower" },
  ],
  async run(broker: BrokerKind, ctx: BenchContext) {
    const out: Record<string, number[]> = { avg: [], p50: [], p99: [], p999: [] };
    const cluster = await startCluster(broker);
    try {
      // Run 0 warms up (JIT, connections) and is not counted.
      for (let i = 0; i <= ctx.repeat; i++) {
        const topic = `latency-${i}`;
        await createTopic(cluster.bootstrap, topic);
        const r = parseEndToEndLatency(
          await kafkaTool("EndToEndLatency", [
            ...["--bootstrap-server", cluster.bootstrap, "--topic", topic],
            ...["--num-records", String(i === 0 ? Math.min(1000, ctx.latencyRecords) : ctx.latencyRecords)],
            ...["--producer-acks", "1", "--record-size", String(ctx.recordSize)],
          ]),
        );
        if (i === 0) continue;
        out.avg.push(r.avgMs);
        out.p50.push(r.p50Ms);
        out.p99.push(r.p99Ms);
        out.p999.push(r.p999Ms);
        ctx.log(`run ${i}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, p99.9 ${r.p999Ms} ms (avg ${r.avgMs} ms)`);
      }
    } finally {
      await cluster.stop();
    }
    return out;
  },
};
