import assert from "node:assert/strict";
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  RecordBatchError,
  TimestampType,
  splitBatches,
  validateBatch,
} from "../../protocol/records/index.ts";
import { KafkaError } from "../errors.ts";
import { OffsetOutOfRangeError } from "./errors.ts";
import { Log, type AppendOptions } from "./log.ts";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log-config.ts";
import {
  baseOffsetsOf,
  captureLogger,
  recordsOf,
  tempDir,
  testBatch,
  type TestBatchOptions,
} from "./testing.ts";

let root: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: root, cleanup } = await tempDir()));
after(() => cleanup());

let counter = 0;
const SMALL: Partial<LogConfig> = {
  "segment.bytes": 1024,
  "index.interval.bytes": 128,
  "segment.index.bytes": 1024,
};

async function openLog(config: Partial<LogConfig> = {}, topicId?: string): Promise<Log> {
  const dir = path.join(root, `topic${counter++}-0`);
  return Log.open(
    dir,
    { ...DEFAULT_LOG_CONFIG, "file.delete.delay.ms": 0, ...config },
    { logger: captureLogger(), topicId },
  );
}

const OPTS: AppendOptions = { leaderEpoch: 0, timestampType: "CreateTime", now: 1_700_000_000_000 };

function append(log: Log, batch: TestBatchOptions = {}, options: Partial<AppendOptions> = {}) {
  return log.append(testBatch(batch), { ...OPTS, ...options });
}

/** Reads the whole log the way a consumer does, batch by batch. */
async function consumeAll(log: Log, maxBytes = 300): Promise<{ offset: number; value: string }[]> {
  const out: { offset: number; value: string }[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, maxBytes);
    assert.ok(records.length > 0, `read at ${offset} returned nothing`);
    for (const r of recordsOf(records)) {
      if (r.offset >= offset) out.push({ offset: r.offset, value: r.value });
    }
    offset = out[out.length - 1].offset + 1;
  }
  return out;
}

describe("Log", () => {
  it("appends across many segments and reads every offset back", async () => {
    const log = await openLog(SMALL);
    const expected: string[] = [];
    for (let i = 0; i < 150; i++) {
      const count = 1 + (i % 3);
      const result = await append(log, { count, tag: `m${i}`, valueSize: 20 });
      assert.equal(result.firstOffset, expected.length);
      assert.equal(result.lastOffset, expected.length + count - 1);
      assert.equal(result.duplicateOf, null);
      for (let j = 0; j < count; j++) expected.push(`m${i}-${j}-`);
    }
    assert.equal(log.logEndOffset, expected.length);
    assert.ok(log.numberOfSegments > 10, `rolled into ${log.numberOfSegments} segments`);

    const consumed = await consumeAll(log);
    assert.deepEqual(
      consumed.map((r) => r.offset),
      expected.map((_, i) => i),
    );
    assert.deepEqual(
      consumed.map((r) => r.value.slice(0, r.value.indexOf("-", r.value.indexOf("-") + 1) + 1)),
      expected,
    );
    for (let offset = 0; offset < expected.length; offset += 7) {
      const { records } = await log.read(offset, 1);
      const [batch] = splitBatches(records).batches;
      assert.ok(
        Number(batch.baseOffset) <= offset && offset <= Number(batch.lastOffset),
        `batch holds ${offset}`,
      );
    }

    // Kafka's file names and index layout: inactive indexes trimmed, the active one preallocated.
    const files = await readdir(log.dir);
    for (const base of log.segmentBaseOffsets) {
      const name = String(base).padStart(20, "0");
      for (const suffix of [".log", ".index", ".timeindex"])
        assert.ok(files.includes(name + suffix), name + suffix);
    }
    const active = String(log.activeSegment.baseOffset).padStart(20, "0");
    assert.equal((await stat(path.join(log.dir, `${active}.index`))).size, 1024);
    const first = String(log.segmentBaseOffsets[0]).padStart(20, "0");
    assert.equal((await stat(path.join(log.dir, `${first}.index`))).size % 8, 0);
    assert.ok((await stat(path.join(log.dir, `${first}.index`))).size < 1024);
    await log.close();
  });

  it("returns one whole batch when maxBytes is smaller than the batch", async () => {
    const log = await openLog();
    const big = testBatch({ count: 5, valueSize: 500 });
    await log.append(big, OPTS);
    await append(log);
    const read = await log.read(2, 100);
    assert.equal(read.records.length, big.length);
    assert.deepEqual(baseOffsetsOf(read.records), [0]);
    assert.equal(read.firstEntryIncomplete, false);
    const strict = await log.read(2, 100, { minOneBatch: false });
    assert.equal(strict.records.length, 0);
    assert.equal(strict.firstEntryIncomplete, true);
    await log.close();
  });

  it("stops before the batch holding maxOffset (the high watermark)", async () => {
    const log = await openLog(SMALL);
    for (let i = 0; i < 20; i++) await append(log, { count: 3 });
    assert.deepEqual(baseOffsetsOf((await log.read(0, 1 << 20, { maxOffset: 9 })).records), [0, 3, 6]);
    assert.deepEqual(baseOffsetsOf((await log.read(0, 1 << 20, { maxOffset: 8 })).records), [0, 3]);
    assert.equal((await log.read(9, 1 << 20, { maxOffset: 9 })).records.length, 0);
    const bounded = (await log.read(30, 1 << 20, { maxOffset: 45 })).records;
    assert.equal(Math.max(...recordsOf(bounded).map((r) => r.offset)) < 45, true);
    await log.close();
  });

  it("answers offsets outside the log with OFFSET_OUT_OF_RANGE and reads nothing at the end", async () => {
    const log = await openLog();
    for (let i = 0; i < 4; i++) await append(log, { count: 2 });
    const end = await log.read(8, 1000);
    assert.equal(end.records.length, 0);
    assert.equal(end.logEndOffset, 8);
    await assert.rejects(log.read(9, 1000), (e: unknown) => {
      assert.ok(e instanceof OffsetOutOfRangeError);
      assert.equal(e.errorName, "OFFSET_OUT_OF_RANGE");
      assert.equal(e.logEndOffset, 8);
      return true;
    });
    await log.deleteRecordsBefore(4);
    await assert.rejects(log.read(3, 1000), OffsetOutOfRangeError);
    assert.deepEqual(recordsOf((await log.read(4, 1000)).records)[0].offset, 4);
    await log.close();
  });

  it("finds offsets by timestamp through the time indexes", async () => {
    const log = await openLog(SMALL);
    // 40 batches of 2 records, timestamps 10_000 + 100 * batch (+0, +1).
    for (let i = 0; i < 40; i++) await append(log, { count: 2, timestamp: 10_000 + i * 100, valueSize: 30 });
    assert.ok(log.numberOfSegments > 2);
    assert.deepEqual(await log.fetchOffsetByTimestamp(0), { offset: 0, timestamp: 10_000, leaderEpoch: 0 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(12_000), {
      offset: 40,
      timestamp: 12_000,
      leaderEpoch: 0,
    });
    assert.deepEqual(await log.fetchOffsetByTimestamp(12_001), {
      offset: 41,
      timestamp: 12_001,
      leaderEpoch: 0,
    });
    assert.deepEqual(await log.fetchOffsetByTimestamp(12_002), {
      offset: 42,
      timestamp: 12_100,
      leaderEpoch: 0,
    });
    assert.equal(await log.fetchOffsetByTimestamp(13_902), null);
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 79, timestamp: 13_901, leaderEpoch: 0 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(-2), { offset: 0, timestamp: -1, leaderEpoch: 0 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(-1), { offset: 80, timestamp: -1, leaderEpoch: 0 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(-3), await log.maxTimestampOffset());
    await log.close();
  });

  it("answers by offset order when producer timestamps go backwards", async () => {
    const log = await openLog();
    await append(log, { timestamps: [100, 101] });
    await append(log, { timestamps: [300, 250] });
    await append(log, { timestamps: [200] });
    assert.deepEqual(await log.fetchOffsetByTimestamp(150), { offset: 2, timestamp: 300, leaderEpoch: 0 });
    assert.deepEqual(await log.fetchOffsetByTimestamp(260), { offset: 2, timestamp: 300, leaderEpoch: 0 });
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 2, timestamp: 300, leaderEpoch: 0 });
    await log.close();
  });

  it("stamps LogAppendTime and the leader epoch, keeping the CRC valid", async () => {
    const log = await openLog({ "message.timestamp.type": "LogAppendTime" });
    const result = await append(
      log,
      { count: 3, timestamp: 5 },
      { timestampType: "LogAppendTime", now: 42_000, leaderEpoch: 7 },
    );
    assert.equal(result.logAppendTime, 42_000);
    assert.equal(result.maxTimestamp, 42_000);
    const { records } = await log.read(0, 1000);
    const header = validateBatch(records, 0);
    assert.equal(header.timestampType, TimestampType.LOG_APPEND_TIME);
    assert.equal(header.maxTimestamp, 42_000n);
    assert.equal(header.partitionLeaderEpoch, 7);
    assert.deepEqual(
      recordsOf(records).map((r) => r.timestamp),
      [42_000, 42_000, 42_000],
    );
    const created = await append(log, {}, { now: 43_000, leaderEpoch: 7 });
    assert.equal(created.logAppendTime, -1);
    await log.close();
  });

  it("deletes segments past retention.ms, never the active one, and moves the log start", async () => {
    const log = await openLog(SMALL);
    for (let i = 0; i < 60; i++) await append(log, { count: 2, timestamp: 1_000 + i, valueSize: 30 });
    const segments = log.numberOfSegments;
    assert.ok(segments > 3);
    assert.equal(
      await log.applyRetention(1_000 + 60 + DEFAULT_LOG_CONFIG["retention.ms"] - 100),
      0,
      "nothing old enough",
    );
    const deleted = await log.applyRetention(10 ** 13);
    assert.equal(deleted, segments - 1, "all but the active segment");
    assert.equal(log.numberOfSegments, 1);
    assert.equal(log.logStartOffset, log.activeSegment.baseOffset);
    assert.equal(log.logEndOffset, 120);
    await assert.rejects(log.read(0, 100), OffsetOutOfRangeError);
    assert.ok((await log.read(log.logStartOffset, 100)).records.length > 0);
    await log.close();
    const names = await readdir(log.dir);
    assert.deepEqual(
      names.filter((n) => n.endsWith(".log")),
      [`${String(log.logStartOffset).padStart(20, "0")}.log`],
    );
    assert.equal(names.filter((n) => n.endsWith(".deleted")).length, 0);
  });

  it("deletes the oldest segments while the log exceeds retention.bytes", async () => {
    const log = await openLog({ ...SMALL, "retention.bytes": 3000 });
    for (let i = 0; i < 80; i++) await append(log, { count: 2, valueSize: 30 });
    const deleted = await log.applyRetention(1_700_000_000_000);
    assert.ok(deleted > 0);
    // Kafka deletes whole segments while that keeps the log at or over the limit.
    const first = String(log.firstSegmentBaseOffset).padStart(20, "0");
    const firstSize = (await stat(path.join(log.dir, `${first}.log`))).size;
    assert.ok(log.size >= 3000, `size ${log.size}`);
    assert.ok(log.size - firstSize < 3000, "deleting one more segment would go under retention.bytes");
    assert.equal(log.logStartOffset, log.firstSegmentBaseOffset);
    assert.equal(await log.applyRetention(1_700_000_000_000), 0, "nothing more to delete");
    await log.close();
  });

  it("does not delete past the high watermark, nor with cleanup.policy=compact", async () => {
    const log = await openLog(SMALL);
    for (let i = 0; i < 60; i++) await append(log, { count: 2, timestamp: 1_000, valueSize: 30 });
    const bases = log.segmentBaseOffsets;
    await log.updateConfig({ ...log.config, "cleanup.policy": "compact" });
    assert.equal(await log.applyRetention(10 ** 13), 0);
    await log.updateConfig({ ...log.config, "cleanup.policy": "delete" });
    assert.equal(
      await log.applyRetention(10 ** 13, bases[2]),
      2,
      "segments wholly below the high watermark only",
    );
    assert.equal(log.logStartOffset, bases[2]);
    await log.close();
  });

  it("deleteRecordsBefore moves the log start offset and drops segments below it", async () => {
    const log = await openLog(SMALL);
    for (let i = 0; i < 60; i++) await append(log, { count: 2, valueSize: 30 });
    const bases = log.segmentBaseOffsets;
    const target = bases[3] + 1;
    assert.equal(await log.deleteRecordsBefore(target), target);
    assert.equal(log.logStartOffset, target);
    assert.equal(log.firstSegmentBaseOffset, bases[3]);
    await assert.rejects(log.read(target - 1, 100), OffsetOutOfRangeError);
    const first = recordsOf((await log.read(target, 100)).records).find((r) => r.offset >= target);
    assert.equal(first?.offset, target);
    await assert.rejects(log.deleteRecordsBefore(200), OffsetOutOfRangeError, "beyond the high watermark");
    assert.equal(await log.deleteRecordsBefore(5), target, "never moves back");
    await log.close();
  });

  it("truncates to an offset (replication), then continues appending from there", async () => {
    const log = await openLog(SMALL);
    for (let i = 0; i < 60; i++)
      await append(log, { count: 2, valueSize: 30 }, { leaderEpoch: i < 30 ? 1 : 2 });
    const bases = log.segmentBaseOffsets;
    assert.equal(await log.truncateTo(200), false, "beyond the end: nothing to do");
    assert.equal(await log.truncateTo(bases[2] + 3), true);
    assert.equal(log.logEndOffset, bases[2] + 2, "cut at the start of the batch holding the offset");
    assert.deepEqual(log.segmentBaseOffsets, bases.slice(0, 3));
    assert.deepEqual(log.leaderEpochEntries, [{ epoch: 1, startOffset: 0 }]);
    const next = await append(log, { count: 2 }, { leaderEpoch: 3 });
    assert.equal(next.firstOffset, bases[2] + 2);
    assert.deepEqual(
      (await consumeAll(log)).map((r) => r.offset),
      Array.from({ length: bases[2] + 4 }, (_, i) => i),
    );
    await log.truncateFullyAndStartAt(1000);
    assert.equal(log.logStartOffset, 1000);
    assert.equal(log.logEndOffset, 1000);
    assert.deepEqual(log.segmentBaseOffsets, [1000]);
    assert.equal((await append(log)).firstOffset, 1000);
    await log.close();
    assert.deepEqual(
      (await readdir(log.dir)).filter((n) => n.endsWith(".log")),
      ["00000000000000001000.log"],
    );
  });

  it("keeps Kafka's leader-epoch-checkpoint and answers OffsetForLeaderEpoch", async () => {
    const log = await openLog();
    await append(log, { count: 2 }, { leaderEpoch: 0 });
    await append(log, { count: 2 }, { leaderEpoch: 0 });
    await append(log, { count: 3 }, { leaderEpoch: 1 });
    await append(log, { count: 1 }, { leaderEpoch: 3 });
    assert.equal(
      await readFile(path.join(log.dir, "leader-epoch-checkpoint"), "utf8"),
      "0\n3\n0 0\n1 4\n3 7\n",
    );
    assert.deepEqual(log.endOffsetForEpoch(0), { epoch: 0, endOffset: 4 });
    assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 1, endOffset: 7 });
    assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, endOffset: 8 });
    assert.equal(log.endOffsetForEpoch(4), null);
    assert.equal(log.endOffsetForEpoch(-1), null);
    await log.close();
    const again = await Log.open(log.dir, log.config, { logger: captureLogger(), hadCleanShutdown: true });
    assert.deepEqual(again.endOffsetForEpoch(2), { epoch: 1, endOffset: 7 });
    await again.close();
  });

  it("writes partition.metadata and refuses a directory of another topic id", async () => {
    const topicId = "MZ4kzeCxS9-bBDrq8vOhNA";
    const log = await openLog({}, topicId);
    assert.equal(
      await readFile(path.join(log.dir, "partition.metadata"), "utf8"),
      `version: 0\ntopic_id: ${topicId}\n`,
    );
    await log.close();
    await assert.rejects(
      Log.open(log.dir, log.config, { logger: captureLogger(), topicId: "AAAAAAAAAAAAAAAAAAAAAQ" }),
      (e: unknown) => e instanceof KafkaError && e.errorName === "INCONSISTENT_TOPIC_ID",
    );
  });

  it("serializes concurrent appends", async () => {
    const log = await openLog(SMALL);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        append(log, { count: 1 + (i % 4), tag: `c${i}`, valueSize: 10 + i }),
      ),
    );
    let next = 0;
    for (const [i, r] of results.entries()) {
      assert.equal(r.firstOffset, next, `append ${i} starts where the previous ended`);
      next = r.lastOffset + 1;
    }
    const consumed = await consumeAll(log);
    assert.equal(consumed.length, next);
    await log.closeHandlers();
    const reopened = await Log.open(log.dir, log.config, { logger: captureLogger() });
    assert.equal(reopened.logEndOffset, next, "a full recovery finds nothing torn");
    await reopened.close();
  });

  it("never shows a concurrent reader records at or past the log end or maxOffset", async () => {
    const log = await openLog(SMALL);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 150; i++) await append(log, { count: 2, valueSize: 20 });
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const maxOffset = log.logEndOffset;
      const result = await log.read(Math.max(0, maxOffset - 5), 1 << 20, { maxOffset });
      for (const r of recordsOf(result.records)) {
        assert.ok(
          r.offset < maxOffset && r.offset < result.logEndOffset,
          `offset ${r.offset} >= ${maxOffset}`,
        );
      }
      const unbounded = await log.read(Math.max(0, log.logEndOffset - 5), 1 << 20);
      for (const r of recordsOf(unbounded.records)) assert.ok(r.offset < unbounded.logEndOffset);
      reads++;
      await new Promise((resolve) => setImmediate(resolve)); // an empty read never reaches the event loop
    }
    await writer;
    assert.ok(reads > 10);
    await log.close();
  });

  it("reopens after a clean close without recovery, with indexes trimmed", async () => {
    const log = await openLog(SMALL);
    for (let i = 0; i < 40; i++) await append(log, { count: 2, timestamp: 5_000 + i, valueSize: 30 });
    const before = await consumeAll(log);
    await log.close();
    const active = String(log.activeSegment.baseOffset).padStart(20, "0");
    assert.equal(
      (await stat(path.join(log.dir, `${active}.index`))).size,
      log.activeSegment.offsetIndex.entries * 8,
    );
    const logger = captureLogger();
    const again = await Log.open(log.dir, log.config, { logger, hadCleanShutdown: true, recoveryPoint: 80 });
    assert.equal(logger.lines.filter((l) => l.level === "warn").length, 0);
    assert.equal(again.logEndOffset, 80);
    assert.equal(again.recoveryPoint, 80);
    assert.deepEqual(await consumeAll(again), before);
    // Batch i holds timestamps 5000 + i and 5001 + i: 5030 is first seen at offset 59.
    assert.deepEqual(await again.fetchOffsetByTimestamp(5_030), {
      offset: 59,
      timestamp: 5_030,
      leaderEpoch: 0,
    });
    assert.equal((await append(again)).firstOffset, 80);
    await again.close();
  });

  it("rolls when segment.ms has passed since the first batch", async () => {
    const log = await openLog({ "segment.ms": 1000 });
    await append(log, { timestamp: 10_000 });
    await append(log, { timestamp: 10_900 });
    assert.equal(log.numberOfSegments, 1);
    await append(log, { timestamp: 11_100 });
    assert.deepEqual(log.segmentBaseOffsets, [0, 2]);
    await log.close();
  });

  it("rejects batches over max.message.bytes and requests over segment.bytes", async () => {
    const log = await openLog({ "max.message.bytes": 300, "segment.bytes": 1000 });
    await assert.rejects(
      append(log, { valueSize: 400 }),
      (e: unknown) => e instanceof RecordBatchError && e.code === "MESSAGE_TOO_LARGE",
    );
    const many = Buffer.concat(Array.from({ length: 20 }, () => testBatch({ valueSize: 10 })));
    await assert.rejects(
      log.append(many, OPTS),
      (e: unknown) => e instanceof KafkaError && e.errorName === "RECORD_LIST_TOO_LARGE",
    );
    assert.equal(log.logEndOffset, 0);
    await log.close();
  });

  it("fsyncs per flush.messages and moves the recovery point", async () => {
    const log = await openLog({ "flush.messages": 3 });
    await append(log, { count: 2 });
    assert.equal(log.recoveryPoint, 0);
    assert.equal(log.unflushedMessageCount, 2);
    await append(log, { count: 2 });
    assert.equal(log.recoveryPoint, 4);
    assert.equal(log.unflushedMessageCount, 0);
    await log.close();
  });

  it("refuses appends after close", async () => {
    const log = await openLog();
    await log.close();
    await assert.rejects(
      append(log),
      (e: unknown) => e instanceof KafkaError && e.errorName === "KAFKA_STORAGE_ERROR",
    );
  });
});
