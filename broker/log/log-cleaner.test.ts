import assert from "node:assert/strict";
import { cp, readFile, readdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import {
  Compression,
  buildRecordBatch,
  iterateRecords,
  splitBatches,
  validateBatch,
  type CompressionType,
} from "../../protocol/records/index.ts";
import { ProducerStateError } from "./errors.ts";
import { MAX_TIMESTAMP, Log, type AppendOptions } from "./log.ts";
import { CLEANER_OFFSET_CHECKPOINT_FILE, LogCleaner, type LogCleanerOptions } from "./log-cleaner.ts";
import { DEFAULT_LOG_CONFIG, logConfigFromProperties, maxSegmentMs, type LogConfig } from "./log-config.ts";
import { LogManager } from "./log-manager.ts";
import { captureLogger, tempDir } from "./testing.ts";

let root: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: root, cleanup } = await tempDir("capstan-cleaner-")));
after(() => cleanup());

const T = 1_700_000_000_000;
const NOW = T + 3_600_000;
const OPTS: AppendOptions = { leaderEpoch: 0, timestampType: "CreateTime", now: NOW };
const COMPACT: LogConfig = {
  ...DEFAULT_LOG_CONFIG,
  "cleanup.policy": "compact",
  "segment.bytes": 1024,
  "index.interval.bytes": 128,
  "segment.index.bytes": 4096,
  "file.delete.delay.ms": 0,
  "min.cleanable.dirty.ratio": 0.01,
  "delete.retention.ms": 1000,
};
let counter = 0;

interface KV {
  key: string | null;
  value: string | null;
  timestamp?: number;
}

interface BatchOptions {
  compression?: CompressionType;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  timestamp?: number;
}

/** One producer batch of keyed records (timestamps T, T+1, ... unless given). */
function kv(records: KV[], o: BatchOptions = {}): Buffer {
  return buildRecordBatch({
    records: records.map((r, i) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp: BigInt(r.timestamp ?? (o.timestamp ?? T) + i),
    })),
    compression: o.compression,
    producerId: o.producerId,
    producerEpoch: o.producerEpoch,
    baseSequence: o.baseSequence,
  });
}

async function put(log: Log, key: string | null, value: string | null, timestamp?: number) {
  return log.append(kv([{ key, value, timestamp }]), OPTS);
}

async function setup(
  config: Partial<LogConfig> = {},
  options: Partial<LogCleanerOptions> = {},
): Promise<{ log: Log; cleaner: LogCleaner; logDir: string }> {
  const logDir = path.join(root, `dir${counter++}`);
  const log = await Log.open(
    path.join(logDir, "t-0"),
    { ...COMPACT, ...config },
    { logger: captureLogger() },
  );
  const cleaner = await LogCleaner.open({
    logDirs: [logDir],
    logs: () => (log.isOpen ? [log] : []),
    dedupeBufferSize: 64 * 1024,
    logger: captureLogger(),
    ...options,
  });
  return { log, cleaner, logDir };
}

interface ReadRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

/** Reads the whole log batch by batch as a consumer does, checking every batch's CRC. */
async function readAll(log: Log, maxBytes = 1 << 20): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, maxBytes);
    if (records.length === 0) break;
    for (const batch of splitBatches(records).batches) {
      validateBatch(records, batch.pos);
      for (const r of iterateRecords(batch)) {
        if (Number(r.offset) < offset) continue;
        out.push({
          offset: Number(r.offset),
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          timestamp: Number(r.timestamp),
        });
      }
      offset = Number(batch.lastOffset) + 1;
    }
  }
  return out;
}

/** The latest value of each key, by reading the log. */
function latestByKey(records: readonly ReadRecord[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const r of records) if (r.key !== null) out.set(r.key, r.value);
  return out;
}

/** Every batch of the log as stored (headers included), from its start. */
async function batchesOf(log: Log) {
  const out = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20);
    if (records.length === 0) break;
    for (const b of splitBatches(records).batches) {
      out.push(b);
      offset = Number(b.lastOffset) + 1;
    }
  }
  return out;
}

function strictlyIncreasing(records: readonly ReadRecord[]): boolean {
  return records.every((r, i) => i === 0 || r.offset > records[i - 1].offset);
}

describe("LogCleaner", () => {
  it("keeps only the latest record per key, at its original offset, across segments", async () => {
    const { log, cleaner, logDir } = await setup();
    // A batch of ten keys, half of them updated later: it must be rebuilt around the gaps.
    await log.append(kv(Array.from({ length: 10 }, (_, i) => ({ key: `a${i}`, value: `first-${i}` }))), OPTS);
    for (let i = 0; i < 5; i++) await put(log, `a${i}`, `second-${i}`, T + 10 + i);
    for (let i = 15; i < 215; i++) await put(log, `k${i % 5}`, `v${i}`, T + i);
    await log.rollNow();
    const before = await readAll(log);
    const segmentsBefore = log.numberOfSegments;
    assert.ok(segmentsBefore > 10, `${segmentsBefore} segments`);

    const result = await cleaner.cleanFilthiestLog(NOW);
    assert.ok(result !== null);
    assert.equal(result.firstDirtyOffset, 0);
    assert.equal(result.endOffset, 215);
    assert.equal(result.mapFull, false);

    const after = await readAll(log);
    assert.deepEqual(
      after.map((r) => [r.offset, r.key, r.value]),
      [
        ...[5, 6, 7, 8, 9].map((i) => [i, `a${i}`, `first-${i}`]),
        ...[10, 11, 12, 13, 14].map((i) => [i, `a${i - 10}`, `second-${i - 10}`]),
        ...[210, 211, 212, 213, 214].map((i) => [i, `k${i % 5}`, `v${i}`]),
      ],
    );
    assert.deepEqual(latestByKey(after), latestByKey(before));
    assert.equal(log.logStartOffset, 0);
    assert.equal(log.logEndOffset, 215);

    // The rebuilt first batch keeps its base and last offset; the gaps read as nothing.
    const first = (await batchesOf(log))[0];
    assert.equal(first.baseOffset, 0n);
    assert.equal(first.lastOffsetDelta, 9);
    assert.equal(first.recordCount, 5);
    const fromGap = await log.read(100, 1 << 20);
    assert.equal(Number(splitBatches(fromGap.records).batches[0].baseOffset), 210);

    // Reads by timestamp skip what compaction removed.
    assert.deepEqual(await log.fetchOffsetByTimestamp(T + 100), {
      offset: 210,
      timestamp: T + 210,
      leaderEpoch: 0,
    });
    assert.equal((await log.fetchOffsetByTimestamp(T + 212))?.offset, 212);
    assert.equal(
      (await log.fetchOffsetByTimestamp(T + 3))?.offset,
      5,
      "the first kept record at or after T+3",
    );
    assert.equal((await log.fetchOffsetByTimestamp(MAX_TIMESTAMP))?.offset, 214);

    // Nothing dirty is left; a forced clean merges the small segments the first one left.
    assert.equal(await cleaner.cleanFilthiestLog(NOW), null);
    await cleaner.cleanLog(log, NOW);
    assert.ok(log.numberOfSegments <= 3, `${log.numberOfSegments} segments after merging`);
    assert.deepEqual(await readAll(log), after);

    const checkpoint = await readFile(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE), "utf8");
    assert.equal(checkpoint, "0\n1\nt 0 215\n");
    await log.close();
  });

  it("keeps a tombstone through the first clean and drops it after delete.retention.ms", async () => {
    const { log, cleaner } = await setup({ "delete.retention.ms": 1000 });
    await put(log, "a", "a1");
    await put(log, "b", "b1");
    await put(log, "a", null);
    await put(log, "c", "c1");
    await log.rollNow();

    assert.ok(await cleaner.cleanFilthiestLog(NOW));
    assert.deepEqual(
      (await readAll(log)).map((r) => [r.offset, r.key, r.value]),
      [
        [1, "b", "b1"],
        [2, "a", null],
        [3, "c", "c1"],
      ],
    );
    const tombstoneBatch = (await batchesOf(log)).find((b) => b.baseOffset === 2n);
    assert.equal(
      tombstoneBatch?.deleteHorizon,
      BigInt(NOW + 1000),
      "the first clean sets the delete horizon",
    );
    const stamped = (await readAll(log)).find((r) => r.offset === 2);
    assert.equal(stamped?.timestamp, T, "record timestamps survive the horizon taking baseTimestamp's place");

    // Before the horizon: nothing to do, and a forced clean keeps the tombstone.
    assert.equal(await cleaner.cleanFilthiestLog(NOW + 999), null);
    await cleaner.cleanLog(log, NOW + 999);
    assert.ok((await readAll(log)).some((r) => r.key === "a"));

    // Past it the log is due again, and the tombstone goes.
    assert.ok(await cleaner.cleanFilthiestLog(NOW + 1000));
    assert.deepEqual(
      (await readAll(log)).map((r) => [r.offset, r.key, r.value]),
      [
        [1, "b", "b1"],
        [3, "c", "c1"],
      ],
    );
    await log.close();
  });

  it("drops an expired tombstone when more writes make the log dirty (Kafka's way)", async () => {
    const { log, cleaner } = await setup({ "delete.retention.ms": 1000 });
    await put(log, "x", "x1");
    await put(log, "x", null);
    await log.rollNow();
    await cleaner.cleanLog(log, NOW);
    assert.deepEqual(
      (await readAll(log)).map((r) => r.value),
      [null],
    );
    for (let i = 0; i < 20; i++) await put(log, "y", `y${i}`);
    await log.rollNow();
    // A restarted cleaner remembers no horizons; the dirty ratio brings the log back.
    const restarted = await LogCleaner.open({
      logDirs: [path.dirname(log.dir)],
      logs: () => [log],
      logger: captureLogger(),
      dedupeBufferSize: 64 * 1024,
    });
    assert.ok(await restarted.cleanFilthiestLog(NOW + 5000));
    assert.deepEqual(
      (await readAll(log)).map((r) => [r.key, r.value]),
      [["y", "y19"]],
    );
    await log.close();
  });

  it("never touches the active segment, records within min.compaction.lag.ms, or data past the high watermark", async () => {
    let highWatermark: number | undefined;
    const { log, cleaner } = await setup(
      { "min.compaction.lag.ms": 60_000 },
      { highWatermarkOf: () => highWatermark },
    );
    for (let i = 0; i < 60; i++) await put(log, "a", `old${i}`, T + i);
    await log.rollNow();
    const youngStart = log.logEndOffset;
    for (let i = 0; i < 30; i++) await put(log, "a", `young${i}`, NOW - 1000 + i);
    await log.rollNow();
    const activeStart = log.logEndOffset;
    for (let i = 0; i < 5; i++) await put(log, "a", `active${i}`, NOW);
    const untouched = log.logSegments.filter((s) => s.baseOffset >= youngStart);
    const sizes = untouched.map((s) => s.size);
    const tail = (await readAll(log)).filter((r) => r.offset >= youngStart);

    const range = await cleaner.cleanableRangeOf(log, NOW);
    assert.equal(range.firstUncleanableOffset, youngStart);
    assert.ok(await cleaner.cleanFilthiestLog(NOW));
    const after = await readAll(log);
    assert.deepEqual(
      after.filter((r) => r.offset < youngStart).map((r) => r.value),
      ["old59"],
      "only the newest of the old records stays; the younger ones are not in the offset map",
    );
    assert.deepEqual(
      after.filter((r) => r.offset >= youngStart),
      tail,
    );
    const now = log.logSegments.filter((s) => s.baseOffset >= youngStart);
    assert.deepEqual(now, untouched, "the same segment objects");
    assert.deepEqual(
      now.map((s) => s.size),
      sizes,
    );
    assert.equal(log.activeSegment.baseOffset, activeStart);

    // With the lag passed, the young segments are cleanable too, but not past the high watermark.
    highWatermark = youngStart + 10;
    const limited = await cleaner.cleanableRangeOf(log, NOW + 120_000);
    assert.ok(limited.firstUncleanableOffset <= youngStart + 10);
    highWatermark = undefined;
    const full = await cleaner.cleanableRangeOf(log, NOW + 120_000);
    assert.equal(full.firstUncleanableOffset, activeStart);
    await log.close();
  });

  it("cleans gzip and zstd batches into batches of the same codec", async () => {
    const { log, cleaner } = await setup({ "segment.bytes": 64 * 1024 });
    const ten = (tag: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${tag}-${i}-${"x".repeat(50)}` }));
    await log.append(kv(ten("a", 10), { compression: Compression.GZIP }), OPTS); // 0..9
    await log.append(kv(ten("b", 5), { compression: Compression.ZSTD }), OPTS); // 10..14
    await log.rollNow();
    await cleaner.cleanLog(log, NOW);
    let batches = await batchesOf(log);
    assert.deepEqual(
      batches.map((b) => [Number(b.baseOffset), b.lastOffsetDelta, b.recordCount, b.compression]),
      [
        [0, 9, 5, Compression.GZIP],
        [10, 4, 5, Compression.ZSTD],
      ],
    );
    assert.deepEqual(
      (await readAll(log)).map((r) => r.offset),
      [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    );

    await log.append(kv(ten("c", 3), { compression: Compression.ZSTD }), OPTS); // 15..17
    await log.rollNow();
    assert.ok(await cleaner.cleanFilthiestLog(NOW));
    batches = await batchesOf(log);
    assert.deepEqual(
      batches.map((b) => [Number(b.baseOffset), b.recordCount, b.compression]),
      [
        [0, 5, Compression.GZIP],
        [10, 2, Compression.ZSTD],
        [15, 3, Compression.ZSTD],
      ],
    );
    const values = latestByKey(await readAll(log));
    assert.equal(values.get("k0")?.slice(0, 4), "c-0-");
    assert.equal(values.get("k4")?.slice(0, 4), "b-4-");
    assert.equal(values.get("k9")?.slice(0, 4), "a-9-");
    await log.close();
  });

  it("keeps each producer's last batch, so duplicates are still detected after cleaning and a reopen", async () => {
    const { log, cleaner } = await setup();
    const producer = { producerId: 42n, producerEpoch: 0 };
    const first = kv(
      [
        { key: "p0", value: "1" },
        { key: "p1", value: "1" },
      ],
      { ...producer, baseSequence: 0 },
    );
    const last = kv(
      [
        { key: "p0", value: "2" },
        { key: "p1", value: "2" },
      ],
      { ...producer, baseSequence: 2 },
    );
    await log.append(first, OPTS); // 0..1
    await log.append(Buffer.from(last), OPTS); // 2..3, the producer's last batch
    await log.append(
      kv([
        { key: "p0", value: "3" },
        { key: "p1", value: "3" },
      ]),
      OPTS,
    ); // 4..5 supersede it
    await log.rollNow();
    await cleaner.cleanLog(log, NOW);

    const batches = await batchesOf(log);
    assert.deepEqual(
      batches.map((b) => [
        Number(b.baseOffset),
        b.lastOffsetDelta,
        b.recordCount,
        b.producerId,
        b.baseSequence,
      ]),
      [
        [2, 1, 0, 42n, 2], // emptied but kept: it carries the producer's last sequence
        [4, 1, 2, -1n, -1],
      ],
    );
    assert.equal(batches[0].maxTimestamp, BigInt(T + 1), "the empty batch keeps its max timestamp");
    const dir = log.dir;
    await log.close();

    // Reopen with no snapshot and no clean shutdown: the state comes from the batches alone.
    for (const name of await readdir(dir)) {
      if (name.endsWith(".snapshot")) await rename(path.join(dir, name), path.join(dir, name + ".gone"));
    }
    const reopened = await Log.open(dir, COMPACT, { logger: captureLogger() });
    assert.equal(reopened.producerStateOf(42n)?.batches.at(-1)?.lastSeq, 3);
    const retry = await reopened.append(Buffer.from(last), OPTS);
    assert.deepEqual([retry.duplicateOf?.firstOffset, retry.duplicateOf?.lastOffset], [2, 3]);
    const next = await reopened.append(
      kv([{ key: "p2", value: "4" }], { ...producer, baseSequence: 4 }),
      OPTS,
    );
    assert.equal(next.firstOffset, 6);
    await assert.rejects(
      reopened.append(kv([{ key: "p2", value: "5" }], { ...producer, baseSequence: 9 }), OPTS),
      (e: unknown) => e instanceof ProducerStateError,
    );
    await reopened.close();
  });

  it("recovers to a consistent log when a crash interrupts a swap", async () => {
    // A log with many superseded records, "crashed" (files closed as they are).
    const dirA = path.join(root, `crash${counter++}`, "t-0");
    let log = await Log.open(dirA, COMPACT, { logger: captureLogger() });
    for (let i = 0; i < 150; i++) await put(log, `k${i % 7}`, `v${i}`, T + i);
    await log.rollNow();
    await put(log, "k0", "in-active");
    const expected = latestByKey(await readAll(log));
    const end = log.logEndOffset;
    const bases = log.segmentBaseOffsets;
    assert.ok(bases.length > 5);
    await log.closeHandlers();

    // What the clean produces: a copy of the directory cleaned into one segment.
    const dirB = path.join(root, `crash${counter++}`, "t-0");
    await cp(dirA, dirB, { recursive: true });
    const copy = await Log.open(dirB, { ...COMPACT, "segment.bytes": 1 << 20 }, { logger: captureLogger() });
    const copyCleaner = await LogCleaner.open({
      logDirs: [path.dirname(dirB)],
      logs: () => [copy],
      logger: captureLogger(),
    });
    await copyCleaner.cleanLog(copy, NOW);
    assert.deepEqual(copy.segmentBaseOffsets, [0, bases.at(-1)]);
    await copy.close();
    const cleaned = await readFile(path.join(dirB, `${"0".padStart(20, "0")}.log`));

    // The crash came after the output became 0.log.swap and the first old segments
    // were renamed *.deleted, before the rest were; a later group's output was still *.cleaned.
    const file = (base: number, suffix: string) => path.join(dirA, String(base).padStart(20, "0") + suffix);
    await writeFile(file(0, ".log.swap"), cleaned);
    await rename(file(bases[0], ".log"), file(bases[0], ".log.deleted"));
    await rename(file(bases[0], ".index"), file(bases[0], ".index.deleted"));
    await rename(file(bases[1], ".log"), file(bases[1], ".log.deleted"));
    await writeFile(file(bases[3], ".log.cleaned"), cleaned.subarray(0, 100));

    log = await Log.open(dirA, COMPACT, { logger: captureLogger() });
    const names = await readdir(dirA);
    assert.deepEqual(
      names.filter((n) => /\.(swap|cleaned|deleted)$/.test(n)),
      [],
    );
    assert.deepEqual(log.segmentBaseOffsets, [0, bases.at(-1)]);
    assert.equal(log.logEndOffset, end);
    const records = await readAll(log);
    assert.ok(strictlyIncreasing(records));
    assert.deepEqual(latestByKey(records), expected, "no data lost");
    await log.close();

    // The same crash before any old segment was renamed: the swap still completes.
    const dirE = path.join(root, `crash${counter++}`, "t-0");
    let fresh = await Log.open(dirE, COMPACT, { logger: captureLogger() });
    for (let i = 0; i < 150; i++) await put(fresh, `k${i % 7}`, `v${i}`, T + i);
    await fresh.rollNow();
    await put(fresh, "k0", "in-active");
    await fresh.closeHandlers();
    await writeFile(path.join(dirE, `${"0".padStart(20, "0")}.log.swap`), cleaned);
    fresh = await Log.open(dirE, COMPACT, { logger: captureLogger() });
    assert.deepEqual(fresh.segmentBaseOffsets, [0, bases.at(-1)]);
    assert.deepEqual(latestByKey(await readAll(fresh)), expected);
    await fresh.close();
  });

  it("also applies retention to compact,delete logs, and not to compact-only ones", async () => {
    for (const policy of ["compact,delete", "compact"]) {
      const { log, cleaner } = await setup({ "cleanup.policy": policy, "retention.ms": 60_000 });
      for (let i = 0; i < 40; i++) await put(log, `k${i % 3}`, `old${i}`, T + i);
      await log.rollNow();
      const recentStart = log.logEndOffset;
      for (let i = 0; i < 40; i++) await put(log, `k${i % 3}`, `new${i}`, NOW - 10 + i);
      await log.rollNow();
      const deleted = await log.applyRetention(NOW + 1000);
      if (policy === "compact,delete") {
        assert.ok(deleted > 0);
        assert.equal(log.logStartOffset, recentStart);
      } else {
        assert.equal(deleted, 0);
        assert.equal(log.logStartOffset, 0);
      }
      assert.ok(await cleaner.cleanFilthiestLog(NOW + 1000));
      assert.deepEqual(
        (await readAll(log)).map((r) => r.value),
        ["new37", "new38", "new39"],
      );
      await log.close();
    }
  });

  it("resumes from cleaner-offset-checkpoint after a restart (LogManager)", async () => {
    const { dir, cleanup: done } = await tempDir("capstan-cleaner-mgr-");
    try {
      const open = () =>
        LogManager.open({
          logDirs: [dir],
          nodeId: 1,
          logger: captureLogger(),
          defaultConfig: COMPACT,
          scheduler: false,
          cleanerDedupeBufferSize: 64 * 1024,
        });
      let manager = await open();
      let log = await manager.getOrCreateLog("changelog", 3);
      for (let i = 0; i < 50; i++) await put(log, `k${i % 4}`, `v${i}`);
      await log.rollNow();
      const cleaned = await manager.cleaner!.cleanAll(NOW);
      assert.equal(cleaned.length, 1);
      assert.equal(
        await readFile(path.join(dir, CLEANER_OFFSET_CHECKPOINT_FILE), "utf8"),
        "0\n1\nchangelog 3 50\n",
      );
      await manager.shutdown();

      manager = await open();
      log = manager.getLog("changelog", 3)!;
      assert.equal(manager.cleaner!.firstDirtyOffset(log), 50);
      assert.deepEqual(await manager.cleaner!.cleanAll(NOW), [], "nothing dirty after the restart");
      for (let i = 50; i < 60; i++) await put(log, `k${i % 4}`, `v${i}`);
      await log.rollNow();
      const [again] = await manager.cleaner!.cleanAll(NOW);
      assert.equal(again.firstDirtyOffset, 50);
      assert.equal(again.endOffset, 60);
      assert.deepEqual(
        (await readAll(log)).map((r) => r.value),
        ["v56", "v57", "v58", "v59"],
      );

      // A deleted partition leaves the checkpoint.
      await manager.deleteLog("changelog", 3);
      assert.equal(await readFile(path.join(dir, CLEANER_OFFSET_CHECKPOINT_FILE), "utf8"), "0\n0\n");
      await manager.shutdown();
    } finally {
      await done();
    }
  });

  it("lets readers that started before a clean finish on the old segments", async () => {
    const { log, cleaner } = await setup({ "file.delete.delay.ms": 60_000 });
    for (let i = 0; i < 120; i++) await put(log, `k${i % 3}`, `v${i}`);
    await log.rollNow();
    const oldSegments = log.logSegments;
    const original = await readAll(log);

    const inFlight = log.read(0, 1 << 20); // started before the clean, finished after it
    await cleaner.cleanLog(log, NOW);
    const early = await inFlight;
    for (const b of splitBatches(early.records).batches) validateBatch(early.records, b.pos);
    assert.equal(Number(splitBatches(early.records).batches[0].baseOffset), 0, "the uncleaned data");

    // A holder of the old segments (renamed *.deleted, not yet deleted) still reads them whole.
    const second = await oldSegments[1].read(oldSegments[1].baseOffset, 1 << 20);
    assert.ok(second !== null);
    const old = splitBatches(second.records).batches.flatMap((b) => [...iterateRecords(b)]);
    assert.deepEqual(
      old.map((r) => r.value?.toString()),
      original
        .filter((r) => r.offset >= oldSegments[1].baseOffset && r.offset < oldSegments[2].baseOffset)
        .map((r) => r.value),
    );
    assert.deepEqual(
      (await readAll(log)).map((r) => r.value),
      ["v117", "v118", "v119"],
    );
    await log.close();
  });

  it("serves consumers reading through a clean whose old segments are deleted at once", async () => {
    const { log, cleaner } = await setup({ "file.delete.delay.ms": 0 });
    for (let i = 0; i < 300; i++) await put(log, `k${i % 10}`, `v${i}`);
    await log.rollNow();
    const expected = latestByKey(await readAll(log));
    let cleaning = true;
    const clean = cleaner.cleanLog(log, NOW).finally(() => (cleaning = false));
    let reads = 0;
    while (cleaning || reads < 5) {
      const seen = await readAll(log, 200);
      assert.ok(strictlyIncreasing(seen));
      assert.deepEqual(latestByKey(seen), expected);
      reads++;
      await tick();
    }
    assert.ok(await clean);
    assert.equal((await readAll(log)).length, 10);
    await log.close();
  });

  it("cleans in several passes when the offset map cannot hold every key", async () => {
    const { log, cleaner } = await setup({}, { dedupeBufferSize: 24 * 40 });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 100; i++) await put(log, `key${i}`, `r${round}-${i}`);
    }
    await log.rollNow();
    const results = await cleaner.cleanAll(NOW);
    assert.ok(results.length > 2, `${results.length} passes`);
    assert.equal(results[0].mapFull, true);
    assert.ok(results[0].keys <= 40);
    const after = await readAll(log);
    assert.deepEqual(
      after.map((r) => r.offset),
      Array.from({ length: 100 }, (_, i) => 100 + i),
    );
    assert.ok(after.every((r) => r.value?.startsWith("r1-")));
    await log.close();
  });

  it("abandons a clean when the log is truncated into the range it cleans", async () => {
    const { log, cleaner } = await setup();
    for (let i = 0; i < 100; i++) await put(log, `k${i % 5}`, `v${i}`);
    await log.rollNow();
    for (let i = 0; i < 5; i++) await put(log, "tail", `t${i}`);
    const before = await readAll(log);

    // Into the active segment only: nothing the clean relies on changes.
    const unaffected = cleaner.cleanLog(log, NOW);
    await tick();
    assert.ok(await log.truncateTo(103));
    assert.ok(await unaffected);
    const cleaned = await readAll(log);
    assert.equal(cleaner.firstDirtyOffset(log), 100);

    for (let i = 0; i < 100; i++) await put(log, `k${i % 5}`, `w${i}`);
    await log.rollNow();
    const expected = await readAll(log);
    const clean = cleaner.cleanLog(log, NOW);
    await tick(); // the clean is reading segments by now
    const truncated = log.truncateTo(150);
    assert.equal(await clean, null, "abandoned");
    assert.ok(await truncated);
    const kept = expected.filter((r) => r.offset < 150);
    assert.deepEqual(await readAll(log), kept);
    assert.equal(cleaner.firstDirtyOffset(log), 100);
    assert.ok(await cleaner.cleanLog(log, NOW), "the next clean goes ahead");
    assert.deepEqual(latestByKey(await readAll(log)), latestByKey(kept));
    assert.deepEqual(latestByKey(cleaned), latestByKey(before.filter((r) => r.offset < 103)));
    await log.close();
  });

  it("drops records without a key, as Kafka's cleaner does", async () => {
    const { log, cleaner } = await setup();
    await put(log, null, "keyless");
    await put(log, "a", "1");
    await put(log, "a", "2");
    await log.rollNow();
    await cleaner.cleanLog(log, NOW);
    assert.deepEqual(
      (await readAll(log)).map((r) => r.value),
      ["2"],
    );
    await log.close();
  });

  it("reads the compaction settings from topic properties and rolls compacted logs by max.compaction.lag.ms", () => {
    const config = logConfigFromProperties({
      "cleanup.policy": "compact",
      "min.cleanable.dirty.ratio": "0.25",
      "min.compaction.lag.ms": "1000",
      "max.compaction.lag.ms": "3600000",
      "delete.retention.ms": "5000",
    });
    assert.equal(config["min.cleanable.dirty.ratio"], 0.25);
    assert.equal(config["min.compaction.lag.ms"], 1000);
    assert.equal(config["delete.retention.ms"], 5000);
    assert.equal(maxSegmentMs(config), 3600000);
    assert.equal(maxSegmentMs({ ...config, "cleanup.policy": "delete" }), config["segment.ms"]);
    assert.equal(
      logConfigFromProperties({ "min.cleanable.dirty.ratio": "2" })["min.cleanable.dirty.ratio"],
      0.5,
    );
    assert.equal(DEFAULT_LOG_CONFIG["max.compaction.lag.ms"], Number.MAX_SAFE_INTEGER);
  });
});
