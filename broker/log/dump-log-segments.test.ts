// Interop: Apache Kafka's own kafka-dump-log tool (DumpLogSegments) must read the
// segments, offset indexes and time indexes we write, find every batch and offset,
// and report no corruption, index mismatch or stray bytes. Needs the Kafka jars that
// test/setup/install.sh caches; without them the test skips locally and fails in CI.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Compression } from "../../protocol/records/index.ts";
import { isKafkaInstalled, kafkaHome, kafkaToolClass, runKafkaTool } from "../../test/setup/kafka.ts";
import { Log, type AppendOptions } from "./log.ts";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log-config.ts";
import { captureLogger, tempDir, testBatch } from "./testing.ts";

const MISSING = `Apache Kafka is not installed in ${kafkaHome()}; run 'bash test/setup/install.sh' to enable this test`;

const CONFIG: LogConfig = {
  ...DEFAULT_LOG_CONFIG,
  "segment.bytes": 4 * 1024,
  "index.interval.bytes": 256,
  "segment.index.bytes": 4096,
};

interface DumpedBatch {
  baseOffset: number;
  lastOffset: number;
  count: number;
  valid: boolean;
  codec: string;
}

function parseDump(stdout: string): {
  batches: DumpedBatch[];
  offsets: number[];
  payloads: string[];
  indexEntries: number;
} {
  const batches: DumpedBatch[] = [];
  const offsets: number[] = [];
  const payloads: string[] = [];
  let indexEntries = 0;
  for (const line of stdout.split("\n")) {
    const batch =
      /^baseOffset: (\d+) lastOffset: (\d+) count: (\d+) .* compresscodec: (\w+) .* isvalid: (\w+)/.exec(
        line,
      );
    if (batch) {
      batches.push({
        baseOffset: Number(batch[1]),
        lastOffset: Number(batch[2]),
        count: Number(batch[3]),
        codec: batch[4],
        valid: batch[5] === "true",
      });
      continue;
    }
    const record = /^\| offset: (\d+) .* payload: (\S+)/.exec(line);
    if (record) {
      offsets.push(Number(record[1]));
      payloads.push(record[2]);
      continue;
    }
    if (/^offset: \d+ position: \d+$/.test(line) || /^timestamp: \d+ offset: \d+$/.test(line)) indexEntries++;
  }
  return { batches, offsets, payloads, indexEntries };
}

/**
 * The tool tracks offsets per file starting from -1, so a segment that does not start
 * at offset 0 is always reported as "-1 is followed by <its base offset>". Anything
 * else under "Non-consecutive offsets" is a real gap.
 */
function assertOnlySegmentStartGaps(stderr: string): void {
  let base: number | null = null;
  for (const line of stderr.split("\n")) {
    const file = /^Non-consecutive offsets in .*\/(\d{20})\.log$/.exec(line);
    if (file) {
      base = Number(file[1]);
      continue;
    }
    const gap = /^\s+(-?\d+) is followed by (\d+)$/.exec(line);
    if (gap) {
      assert.ok(
        base !== null && Number(gap[1]) === -1 && Number(gap[2]) === base,
        `offset gap: ${line}\n${stderr}`,
      );
      continue;
    }
    base = null;
    assert.ok(
      line.trim() === "" || line.startsWith("WARNING") || line.includes("SLF4J"),
      `unexpected stderr line: ${line}`,
    );
  }
}

describe("Kafka's DumpLogSegments reads our segments", () => {
  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: root, cleanup } = await tempDir()));
  after(() => cleanup());

  it("finds every batch and offset, valid CRCs, and indexes that match the log", async (t) => {
    if (!isKafkaInstalled()) {
      if (process.env.CI) assert.fail(MISSING);
      t.skip(MISSING);
      return;
    }
    const log = await Log.open(path.join(root, "dump-0"), CONFIG, { logger: captureLogger() });
    const codecs = [
      Compression.NONE,
      Compression.GZIP,
      Compression.SNAPPY,
      Compression.LZ4,
      Compression.ZSTD,
    ];
    const opts: AppendOptions = { leaderEpoch: 5, timestampType: "CreateTime", now: 1_700_000_100_000 };
    const expected: string[] = [];
    let sequence = 0;
    for (let i = 0; i < 120; i++) {
      const count = 1 + (i % 4);
      const idempotent = i % 3 === 0;
      await log.append(
        testBatch({
          count,
          timestamp: 1_700_000_000_000 + i * 10,
          tag: `p${i}`,
          valueSize: 40,
          compression: codecs[i % codecs.length],
          producerId: idempotent ? 77n : undefined,
          producerEpoch: idempotent ? 0 : undefined,
          baseSequence: idempotent ? sequence : undefined,
        }),
        i === 60 ? { ...opts, timestampType: "LogAppendTime" } : opts,
      );
      for (let j = 0; j < count; j++) expected.push(`p${i}-${j}-`);
      if (idempotent) sequence += count;
    }
    await log.close();
    assert.ok(log.numberOfSegments >= 3, `${log.numberOfSegments} segments`);

    const files = (await readdir(log.dir))
      .filter((n) => /\.(log|index|timeindex)$/.test(n))
      .sort()
      .map((n) => path.join(log.dir, n));
    const result = await runKafkaTool(
      kafkaToolClass("dump-log-segments"),
      ["--files", files.join(","), "--print-data-log"],
      {
        timeoutMs: 120_000,
      },
    );
    const context = `exit ${result.code}\nstderr:\n${result.stderr}\nstdout (start):\n${result.stdout.slice(0, 2000)}`;
    assert.equal(result.code, 0, context);
    for (const problem of [
      "Mismatches in",
      "timestamp mismatch",
      "out of order timestamp",
      "indexed offsets are not found",
      "invalid bytes",
      "Exception",
    ]) {
      assert.ok(
        !result.stderr.includes(problem) && !result.stdout.includes(problem),
        `${problem}\n${context}`,
      );
    }
    assertOnlySegmentStartGaps(result.stderr);

    const dump = parseDump(result.stdout);
    assert.equal(dump.batches.length, 120, context);
    assert.ok(
      dump.batches.every((b) => b.valid),
      "every batch CRC is valid",
    );
    assert.deepEqual([...new Set(dump.batches.map((b) => b.codec))].sort(), [
      "gzip",
      "lz4",
      "none",
      "snappy",
      "zstd",
    ]);
    let next = 0;
    for (const b of dump.batches) {
      assert.equal(b.baseOffset, next);
      next = b.lastOffset + 1;
    }
    assert.deepEqual(
      dump.offsets,
      expected.map((_, i) => i),
    );
    assert.deepEqual(
      dump.payloads.map((p) => p.slice(0, p.indexOf("-", p.indexOf("-") + 1) + 1)),
      expected,
    );
    assert.ok(dump.indexEntries > 20, `${dump.indexEntries} index entries dumped`);
    for (const base of log.segmentBaseOffsets) {
      assert.ok(result.stdout.includes(`Log starting offset: ${base}`), `segment ${base} dumped`);
    }

    // The check Kafka runs on index files at startup to decide whether to rebuild them.
    const indexes = files.filter((f) => !f.endsWith(".log"));
    const sanity = await runKafkaTool(kafkaToolClass("dump-log-segments"), [
      "--index-sanity-check",
      "--files",
      indexes.join(","),
    ]);
    assert.equal(sanity.code, 0, sanity.stderr);
    for (const f of indexes)
      assert.ok(
        sanity.stdout.includes(`${f} passed sanity check.`),
        `${f}\n${sanity.stdout}\n${sanity.stderr}`,
      );
  });
});
