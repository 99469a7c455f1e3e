// Parsers for the summary lines Apache Kafka's perf tools (kafka-tools jar) print. Pure:
// unit-tested in bench/parse.test.ts against output captured from Kafka 4.4.0.

export interface ProducerPerfResult {
  records: number;
  recordsPerSec: number;
  /** MiB/s of record payload (the tool's "MB/sec" is records × size / 2^20 per second). */
  mbPerSec: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * ProducerPerformance's final line:
 * "1000 records sent, 4934.6 records/sec (4.82 MB/sec), 1740.25 ms avg latency, 2382.00 ms max
 * latency, 1786 ms 50th, 2281 ms 95th, 2379 ms 99th, 2380 ms 99.9th."
 */
export function parseProducerPerformance(stdout: string): ProducerPerfResult {
  const re =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/g;
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(stdout); m; m = re.exec(stdout)) last = m;
  if (!last) throw new Error(`no ProducerPerformance summary in: ${stdout.slice(-500)}`);
  return {
    records: Number(last[1]),
    recordsPerSec: Number(last[2]),
    mbPerSec: Number(last[3]),
    avgLatencyMs: Number(last[4]),
    p50Ms: Number(last[5]),
    p99Ms: Number(last[6]),
  };
}

export interface ConsumerPerfResult {
  records: number;
  /** Whole run, including joining the group (MiB/s). */
  mbPerSec: number;
  recordsPerSec: number;
  rebalanceMs: number;
  /** The fetch phase only, after the group join (MiB/s). */
  fetchMbPerSec: number;
  fetchRecordsPerSec: number;
}

/**
 * ConsumerPerformance's CSV: a header "start.time, end.time, data.consumed.in.MB, MB.sec,
 * data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec,
 * fetch.nMsg.sec" and one row; columns are found by name.
 */
export function parseConsumerPerformance(stdout: string): ConsumerPerfResult {
  const lines = stdout.split("\n").map((l) => l.trim());
  const h = lines.findIndex((l) => l.startsWith("start.time,"));
  if (h < 0 || !lines[h + 1]) throw new Error(`no ConsumerPerformance table in: ${stdout.slice(-500)}`);
  const names = lines[h].split(",").map((s) => s.trim());
  const values = lines[h + 1].split(",").map((s) => s.trim());
  const col = (name: string): number => {
    const i = names.indexOf(name);
    const v = Number(values[i]);
    if (i < 0 || !Number.isFinite(v)) throw new Error(`ConsumerPerformance: no ${name} in: ${lines[h + 1]}`);
    return v;
  };
  return {
    records: col("data.consumed.in.nMsg"),
    mbPerSec: col("MB.sec"),
    recordsPerSec: col("nMsg.sec"),
    rebalanceMs: col("rebalance.time.ms"),
    fetchMbPerSec: col("fetch.MB.sec"),
    fetchRecordsPerSec: col("fetch.nMsg.sec"),
  };
}

export interface EndToEndLatencyResult {
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** EndToEndLatency's last lines: "Avg latency: 13.4183 ms" and "Percentiles: 50th = 6, 99th = 125, 99.9th = 517". */
export function parseEndToEndLatency(stdout: string): EndToEndLatencyResult {
  const avg = /Avg latency: ([\d.]+) ms/.exec(stdout);
  const p = /Percentiles: 50th = ([\d.]+), 99th = ([\d.]+), 99\.9th = ([\d.]+)/.exec(stdout);
  if (!avg || !p) throw new Error(`no EndToEndLatency summary in: ${stdout.slice(-500)}`);
  return { avgMs: Number(avg[1]), p50Ms: Number(p[1]), p99Ms: Number(p[2]), p999Ms: Number(p[3]) };
}

/** Peak resident set size in KiB from a /proc/<pid>/status text (VmRSS line). */
export function parseVmRssKiB(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) : undefined;
}
