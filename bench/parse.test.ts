// The perf tools' summary parsers, on output captured from Apache Kafka 4.4.0's kafka-tools.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  parseConsumerPerformance,
  parseEndToEndLatency,
  parseProducerPerformance,
  parseVmRssKiB,
} from "./lib/parse.ts";

test("ProducerPerformance: the last summary line wins over the periodic ones", () => {
  const out = [
    "96993 records sent, 19394.7 records/sec (18.94 MB/sec), 1121.9 ms avg latency, 1539.0 ms max latency.",
    "1000000 records sent, 4934.616334 records/sec (4.82 MB/sec), 1740.25 ms avg latency, 2382.00 ms max latency, 1786 ms 50th, 2281 ms 95th, 2379 ms 99th, 2380 ms 99.9th.",
  ].join("\n");
  assert.deepEqual(parseProducerPerformance(out), {
    records: 1_000_000,
    recordsPerSec: 4934.616334,
    mbPerSec: 4.82,
    avgLatencyMs: 1740.25,
    p50Ms: 1786,
    p99Ms: 2379,
  });
  assert.throws(() => parseProducerPerformance("96993 records sent, 19394.7 records/sec (18.94 MB/sec)"));
});

test("ConsumerPerformance: columns found by name", () => {
  const out = [
    "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec",
    "2026-11-24 22:22:59:052, 2026-11-24 22:23:00:458, 19.5313, 13.8914, 20000, 14224.7511, 537, 869, 22.4755, 23014.9597",
  ].join("\n");
  assert.deepEqual(parseConsumerPerformance(out), {
    records: 20000,
    mbPerSec: 13.8914,
    recordsPerSec: 14224.7511,
    rebalanceMs: 537,
    fetchMbPerSec: 22.4755,
    fetchRecordsPerSec: 23014.9597,
  });
  assert.throws(() => parseConsumerPerformance("WARN nothing consumed"));
});

test("EndToEndLatency: average and percentiles", () => {
  const out = [
    'Topic "t2" does not exist. Will create topic with 1 partition(s) and replication factor = 1',
    "0\t517.040899",
    "Avg latency: 13.4183 ms",
    "Percentiles: 50th = 6, 99th = 125, 99.9th = 517",
  ].join("\n");
  assert.deepEqual(parseEndToEndLatency(out), { avgMs: 13.4183, p50Ms: 6, p99Ms: 125, p999Ms: 517 });
  assert.throws(() => parseEndToEndLatency("0\t517.0"));
});

test("VmRSS from /proc/<pid>/status", () => {
  assert.equal(parseVmRssKiB("Name:\tnode\nVmHWM:\t  300000 kB\nVmRSS:\t  249852 kB\n"), 249852);
  assert.equal(parseVmRssKiB("Name:\tzombie\n"), undefined);
});
