// Crash recovery: what a partition directory looks like after kill -9 or a power cut
// (torn writes, bad CRCs, preallocated indexes, missing or broken index files,
// leftovers of interrupted deletions and swaps) and what opening it must make of it.
import assert from "node:assert/strict";
import { appendFile, copyFile, readFile, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { readBatchHeader, setBaseOffset } from "../../protocol/records/index.ts";
import { lastOffsetOf } from "./file-records.ts";
import { Log, type AppendOptions } from "./log.ts";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log-config.ts";
import { captureLogger, recordsOf, tempDir, testBatch } from "./testing.ts";

let root: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: root, cleanup } = await tempDir()));
after(() => cleanup());

const CONFIG: LogConfig = {
  ...DEFAULT_LOG_CONFIG,
  "segment.bytes": 2048,
  "index.interval.bytes": 200,
  "segment.index.bytes": 2048,
  "file.delete.delay.ms": 0,
};
const OPTS: AppendOptions = { leaderEpoch: 0, timestampType: "CreateTime", now: 1_700_000_000_000 };
let counter = 0;

/** A log with `batches` appended (2 records each), then "crashed": files closed as they are. */
async function crashedLog(
  batches: number,
): Promise<{ dir: string; all: Buffer; end: number; bases: number[] }> {
  const dir = path.join(root, `crash${counter++}-0`);
  const log = await Log.open(dir, CONFIG, { logger: captureLogger() });
  for (let i = 0; i < batches; i++) {
    await log.append(testBatch({ count: 2, timestamp: 1_000 + i, tag: `r${i}`, valueSize: 30 }), OPTS);
  }
  const all = await readAll(log);
  const end = log.logEndOffset;
  const bases = log.segmentBaseOffsets;
  await log.closeHandlers();
  return { dir, all, end, bases };
}

async function readAll(log: Log): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20);
    parts.push(records);
    offset = recordsOf(records).at(-1)!.offset + 1;
  }
  return Buffer.concat(parts);
}

const segmentFile = (dir: string, base: number, suffix: string): string =>
  path.join(dir, String(base).padStart(20, "0") + suffix);

/** Every offset index entry must name the last offset of the batch it points at (what DumpLogSegments checks). */
async function assertIndexesMatch(log: Log): Promise<void> {
  for (const base of log.segmentBaseOffsets) {
    const bytes = await readFile(segmentFile(log.dir, base, ".log"));
    const index = await readFile(segmentFile(log.dir, base, ".index"));
    for (let i = 0; i + 8 <= index.length; i += 8) {
      const offset = base + index.readInt32BE(i);
      const position = index.readInt32BE(i + 4);
      if (i > 0 && offset === base && position === 0) break;
      assert.equal(
        lastOffsetOf(readBatchHeader(bytes, position)),
        offset,
        `index entry ${i / 8} of segment ${base}`,
      );
    }
  }
}

describe("Log recovery", () => {
  it("cuts a torn batch off the active segment and keeps everything before it", async () => {
    const { dir, all, end, bases } = await crashedLog(60);
    assert.ok(bases.length > 2);
    const active = segmentFile(dir, bases.at(-1)!, ".log");
    const sizeBefore = (await stat(active)).size;
    const torn = testBatch({ count: 3 });
    setBaseOffset(torn, 0, BigInt(end));
    await appendFile(active, torn.subarray(0, 40)); // the write stopped mid-batch

    const logger = captureLogger();
    const log = await Log.open(dir, CONFIG, { logger, recoveryPoint: bases[1] });
    assert.equal(log.logEndOffset, end);
    assert.equal((await stat(active)).size, sizeBefore);
    assert.deepEqual(await readAll(log), all);
    const warning = logger.lines.find((l) => l.level === "warn" && l.msg.includes("truncated"));
    assert.ok(warning, "recovery logs what it truncated");
    assert.equal(warning.fields.file, active);
    assert.equal(warning.fields.offset, end);
    assert.equal(warning.fields.position, sizeBefore);
    assert.ok(
      logger.lines.some((l) => l.level === "warn" && String(l.fields.problem).includes("partial batch")),
    );
    assert.equal(
      (await log.append(testBatch(), OPTS)).firstOffset,
      end,
      "appends continue where the log ends",
    );
    await log.close();
    await assertIndexesMatch(log);
  });

  it("cuts a complete batch whose CRC does not match", async () => {
    const { dir, all, end, bases } = await crashedLog(30);
    const active = segmentFile(dir, bases.at(-1)!, ".log");
    const bad = testBatch({ count: 2, valueSize: 50 });
    setBaseOffset(bad, 0, BigInt(end));
    bad[bad.length - 5] ^= 0xff; // a flipped bit in a record
    await appendFile(active, bad);

    const logger = captureLogger();
    const log = await Log.open(dir, CONFIG, { logger });
    assert.equal(log.logEndOffset, end);
    assert.deepEqual(await readAll(log), all);
    assert.ok(logger.lines.some((l) => String(l.fields.problem).includes("CRC")));
    await log.close();
  });

  it("drops the segments after a corrupt one among the unflushed segments", async () => {
    const { dir, bases } = await crashedLog(80);
    assert.ok(bases.length > 4);
    // Corrupt the last batch of the third segment (not flushed: the recovery point is 0).
    const third = segmentFile(dir, bases[2], ".log");
    const bytes = await readFile(third);
    let pos = 0;
    let lastPos = 0;
    while (pos < bytes.length) {
      lastPos = pos;
      pos += readBatchHeader(bytes, pos).size;
    }
    bytes[lastPos + 70] ^= 0x55;
    await writeFile(third, bytes);

    const logger = captureLogger();
    const log = await Log.open(dir, CONFIG, { logger, recoveryPoint: 0 });
    assert.deepEqual(log.segmentBaseOffsets, bases.slice(0, 3));
    assert.equal(log.logEndOffset, Number(readBatchHeader(bytes, lastPos).baseOffset));
    assert.ok(logger.lines.some((l) => l.msg.includes("deleting the segments after it")));
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith(".log")).length,
      3,
      "later segment files removed",
    );
    const records = recordsOf(await readAll(log));
    assert.deepEqual(
      records.map((r) => r.offset),
      Array.from({ length: log.logEndOffset }, (_, i) => i),
    );
    await log.close();
  });

  it("rebuilds a deleted .index after a clean shutdown", async () => {
    const { dir, bases } = await crashedLog(50);
    let log = await Log.open(dir, CONFIG, { logger: captureLogger() });
    await log.close();
    const indexPath = segmentFile(dir, bases[1], ".index");
    const original = await readFile(indexPath);
    assert.ok(original.length > 0);
    await rm(indexPath);

    const logger = captureLogger();
    log = await Log.open(dir, CONFIG, { logger, hadCleanShutdown: true, recoveryPoint: log.logEndOffset });
    assert.ok(
      logger.lines.some(
        (l) => l.msg.includes("rebuilding the indexes") && String(l.fields.problem).includes("missing"),
      ),
    );
    assert.deepEqual(await readFile(indexPath), original, "rebuilt byte for byte");
    for (let offset = bases[1]; offset < bases[2]; offset++) {
      const { records } = await log.read(offset, 1);
      const first = readBatchHeader(records, 0);
      assert.ok(Number(first.baseOffset) <= offset && offset <= lastOffsetOf(first));
    }
    await log.close();
  });

  it("rebuilds corrupt offset and time indexes", async () => {
    const { dir, all, bases } = await crashedLog(50);
    let log = await Log.open(dir, CONFIG, { logger: captureLogger() });
    await log.close();
    await writeFile(segmentFile(dir, bases[0], ".index"), Buffer.from("not an index!"));
    const timeIndex = segmentFile(dir, bases[1], ".timeindex");
    const ts = await readFile(timeIndex);
    ts.writeBigInt64BE(0n, ts.length - 12); // timestamps going backwards
    await writeFile(timeIndex, ts);
    const logIndex = segmentFile(dir, bases[2], ".index");
    const idx = await readFile(logIndex);
    // The last entry now points into the middle of a batch (the last entry is what load verifies
    // against the .log, like Kafka's sanity check; checking every entry would cost a read each).
    idx.writeInt32BE(idx.readInt32BE(idx.length - 4) + 1, idx.length - 4);
    await writeFile(logIndex, idx);

    const logger = captureLogger();
    log = await Log.open(dir, CONFIG, { logger, hadCleanShutdown: true, recoveryPoint: log.logEndOffset });
    const rebuilt = logger.lines
      .filter((l) => l.msg.includes("rebuilding the indexes"))
      .map((l) => l.fields.file);
    assert.deepEqual(
      rebuilt,
      [0, 1, 2].map((i) => segmentFile(dir, bases[i], ".log")),
    );
    assert.deepEqual(await readAll(log), all);
    await log.close();
    await assertIndexesMatch(log);
  });

  it("handles a crash that left preallocated indexes and no final time-index entry", async () => {
    const { dir, all, bases } = await crashedLog(45);
    const activeIndex = segmentFile(dir, bases.at(-1)!, ".index");
    assert.equal((await stat(activeIndex)).size, CONFIG["segment.index.bytes"], "left preallocated");
    const log = await Log.open(dir, CONFIG, { logger: captureLogger(), recoveryPoint: bases.at(-1) });
    assert.deepEqual(await readAll(log), all);
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 89, timestamp: 1_045, leaderEpoch: 0 });
    await log.close();
  });

  it("removes leftovers of interrupted deletions and finishes an interrupted swap", async () => {
    const { dir, all, bases } = await crashedLog(50);
    await writeFile(segmentFile(dir, 5, ".log.deleted"), "old");
    await writeFile(segmentFile(dir, 6, ".index.cleaned"), "old");
    await writeFile(path.join(dir, "recovery-point-offset-checkpoint.tmp"), "half");
    await writeFile(segmentFile(dir, 99_999, ".index"), Buffer.alloc(8)); // no .log
    // A compacted replacement for the first two segments, ready to be swapped in.
    const swap = segmentFile(dir, bases[0], ".log.swap");
    await copyFile(segmentFile(dir, bases[0], ".log"), swap);
    await appendFile(swap, await readFile(segmentFile(dir, bases[1], ".log")));
    await writeFile(segmentFile(dir, bases[0], ".index.swap"), Buffer.alloc(16));

    const log = await Log.open(dir, CONFIG, { logger: captureLogger() });
    const names = await readdir(dir);
    for (const leftover of [".deleted", ".cleaned", ".tmp", ".swap"]) {
      assert.equal(names.filter((n) => n.endsWith(leftover)).length, 0, leftover);
    }
    assert.ok(!names.includes(path.basename(segmentFile(dir, 99_999, ".index"))));
    assert.deepEqual(log.segmentBaseOffsets, [bases[0], ...bases.slice(2)], "the swap replaced two segments");
    assert.deepEqual(await readAll(log), all);
    await log.close();
  });

  it("empties a log whose segments end before the checkpointed log start offset", async () => {
    const { dir, end } = await crashedLog(10);
    const logger = captureLogger();
    const log = await Log.open(dir, CONFIG, { logger, logStartOffset: end + 50 });
    assert.equal(log.logStartOffset, end + 50);
    assert.equal(log.logEndOffset, end + 50);
    assert.ok(logger.lines.some((l) => l.msg.includes("deleting all segments")));
    await log.close();
  });

  it("treats a zero-length .log after a crash as an empty segment", async () => {
    const { dir, end, bases } = await crashedLog(10);
    await truncate(segmentFile(dir, bases.at(-1)!, ".log"), 0);
    const log = await Log.open(dir, CONFIG, { logger: captureLogger() });
    assert.equal(log.logEndOffset, bases.at(-1)!);
    assert.ok(log.logEndOffset < end);
    await log.close();
  });
});
