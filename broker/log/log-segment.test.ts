import assert from "node:assert/strict";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { readBatchHeader, setBaseOffset, splitBatches } from "../../protocol/records/index.ts";
import { lastOffsetOf } from "./file-records.ts";
import { LogSegment, type LogSegmentOptions } from "./log-segment.ts";
import { baseOffsetsOf, captureLogger, recordsOf, tempDir, testBatch } from "./testing.ts";

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

function options(overrides: Partial<LogSegmentOptions> = {}): LogSegmentOptions {
  return {
    indexIntervalBytes: 256,
    maxIndexSize: 4096,
    rollJitterMs: 0,
    time: () => 1_000,
    logger: captureLogger(),
    ...overrides,
  };
}

/** Appends `n` batches of 3 records starting at the segment's next offset; returns their bytes. */
async function fill(segment: LogSegment, n: number, startTimestamp = 1_700_000_000_000): Promise<Buffer[]> {
  const written: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const batch = testBatch({ count: 3, timestamp: startTimestamp + i * 10, tag: `b${i}`, valueSize: 40 });
    const base = segment.nextOffset;
    setBaseOffset(batch, 0, BigInt(base));
    const h = readBatchHeader(batch);
    await segment.append(base + 2, Number(h.maxTimestamp), base + 2, batch);
    written.push(batch);
  }
  return written;
}

describe("LogSegment", () => {
  let n = 0;
  const newSegment = async (base: number, o: Partial<LogSegmentOptions> = {}): Promise<LogSegment> => {
    const segDir = path.join(dir, `s${n++}`);
    await mkdir(segDir);
    return LogSegment.create(segDir, base, options(o));
  };

  it("appends batches and reads them back from any offset", async () => {
    const segment = await newSegment(40);
    const batches = await fill(segment, 20);
    assert.equal(segment.nextOffset, 100);
    assert.equal(
      segment.size,
      batches.reduce((s, b) => s + b.length, 0),
    );
    assert.ok(segment.offsetIndex.entries > 3, "sparse entries every index.interval.bytes");

    for (let offset = 40; offset < 100; offset++) {
      const read = await segment.read(offset, 1 << 20);
      assert.ok(read);
      const first = baseOffsetsOf(read.records)[0];
      assert.equal(first, offset - ((offset - 40) % 3), `offset ${offset} is read from the batch holding it`);
    }
    assert.equal(await segment.read(100, 1 << 20), null, "nothing at the end");
    await segment.close();
  });

  it("points every index entry at a batch start with that batch's last offset", async () => {
    const segment = await newSegment(0);
    await fill(segment, 30);
    const bytes = await readFile(segment.log.path);
    for (let i = 0; i < segment.offsetIndex.entries; i++) {
      const { offset, position } = segment.offsetIndex.entry(i);
      assert.equal(lastOffsetOf(readBatchHeader(bytes, position)), offset);
    }
    await segment.close();
  });

  it("returns whole batches: at least one with minOneBatch, else none when the first does not fit", async () => {
    const segment = await newSegment(0);
    const batches = await fill(segment, 5);
    const size = batches[0].length;

    const one = await segment.read(0, 10, segment.size, true);
    assert.ok(one);
    assert.equal(one.records.length, size, "one whole batch although maxBytes is 10");
    assert.deepEqual(one.records, batches[0]);

    const none = await segment.read(0, 10, segment.size, false);
    assert.ok(none);
    assert.equal(none.records.length, 0);
    assert.equal(none.firstEntryIncomplete, true);

    const twoAndABit = await segment.read(3, size * 2 + 5);
    assert.ok(twoAndABit);
    assert.deepEqual(baseOffsetsOf(twoAndABit.records), [3, 6], "cut at a batch boundary");

    const bounded = await segment.read(0, 1 << 20, size * 2);
    assert.ok(bounded);
    assert.deepEqual(baseOffsetsOf(bounded.records), [0, 3], "nothing at or past maxPosition");
    await segment.close();
  });

  it("finds records by timestamp and the record with the largest timestamp", async () => {
    const segment = await newSegment(0);
    await fill(segment, 10, 5_000); // batch i: timestamps 5000+10i .. +2
    assert.deepEqual(await segment.findOffsetByTimestamp(5_000), {
      offset: 0,
      timestamp: 5_000,
      leaderEpoch: null,
    });
    assert.deepEqual(await segment.findOffsetByTimestamp(5_031), {
      offset: 10,
      timestamp: 5_031,
      leaderEpoch: null,
    });
    assert.deepEqual(await segment.findOffsetByTimestamp(5_033), {
      offset: 12,
      timestamp: 5_040,
      leaderEpoch: null,
    });
    assert.equal(await segment.findOffsetByTimestamp(9_999), null);
    assert.deepEqual(await segment.findMaxTimestampRecord(), {
      offset: 29,
      timestamp: 5_092,
      leaderEpoch: null,
    });
    assert.equal(segment.maxTimestampSoFar, 5_092);
    await segment.close();
  });

  it("recovers: rebuilds the indexes and cuts a torn batch off the end", async () => {
    const segment = await newSegment(0);
    const segDir = path.dirname(segment.log.path);
    const batches = await fill(segment, 12);
    const entries = segment.offsetIndex.entries;
    await segment.closeHandlers();
    const torn = testBatch({ count: 2 });
    setBaseOffset(torn, 0, 36n);
    await appendFile(`${segDir}/00000000000000000000.log`, torn.subarray(0, torn.length - 7));

    const logger = captureLogger();
    const again = await LogSegment.open(segDir, 0, options({ logger }));
    const truncated = await again.recover(1 << 20);
    assert.equal(truncated, torn.length - 7);
    assert.equal(again.nextOffset, 36);
    assert.equal(again.offsetIndex.entries, entries, "same index entries as when appended");
    const all = await again.read(0, 1 << 20);
    assert.ok(all);
    assert.deepEqual(all.records, Buffer.concat(batches));
    const warning = logger.lines.find((l) => l.level === "warn");
    assert.ok(warning, "recovery says what it cut");
    assert.equal(warning.fields.position, all.records.length);
    await again.close();
  });

  it("truncates to an offset, keeping the batches before the one holding it", async () => {
    const segment = await newSegment(0);
    await fill(segment, 10, 1_000);
    const removed = await segment.truncateTo(13); // batch 12..14 goes
    assert.ok(removed > 0);
    assert.equal(segment.nextOffset, 12);
    assert.equal(segment.maxTimestampSoFar, 1_032);
    const read = await segment.read(0, 1 << 20);
    assert.ok(read);
    assert.deepEqual(baseOffsetsOf(read.records), [0, 3, 6, 9]);
    assert.equal(recordsOf(read.records).length, 12);
    await segment.truncateTo(0);
    assert.equal(segment.size, 0);
    assert.equal(segment.nextOffset, 0);
    await segment.close();
  });

  it("rolls by size, by record time since the first batch, or by wall time without timestamps", async () => {
    let now = 10_000;
    const segment = await newSegment(0, { time: () => now });
    const params = {
      now,
      maxSegmentBytes: 1 << 20,
      maxSegmentMs: 1_000,
      maxOffsetInMessages: 0,
      messagesSize: 100,
    };
    assert.equal(
      await segment.shouldRoll({ ...params, maxTimestampInMessages: 99_999 }),
      false,
      "empty never rolls by time",
    );
    await fill(segment, 1, 50_000);
    assert.equal(await segment.shouldRoll({ ...params, maxTimestampInMessages: 50_900 }), false);
    assert.equal(
      await segment.shouldRoll({ ...params, maxTimestampInMessages: 51_003 }),
      true,
      "record time (first batch max timestamp 50_002)",
    );
    assert.equal(
      await segment.shouldRoll({
        ...params,
        maxTimestampInMessages: 50_000,
        maxSegmentBytes: segment.size + 99,
      }),
      true,
    );
    assert.equal(
      await segment.shouldRoll({
        ...params,
        maxTimestampInMessages: 50_000,
        maxOffsetInMessages: 2 ** 31 + 10,
      }),
      true,
      "offsets beyond the index's int32 range",
    );
    now = 20_000;
    assert.equal(await segment.timeWaitedForRoll(now, 50_502), 500);
    await segment.close();

    // Batches without timestamps (-1): the segment's age on the broker's clock counts.
    now = 10_000;
    const untimed = await newSegment(0, { time: () => now });
    const batch = testBatch({ timestamps: [-1] });
    await untimed.append(0, -1, 0, batch);
    assert.equal(await untimed.shouldRoll({ ...params, now: 10_900, maxTimestampInMessages: -1 }), false);
    assert.equal(await untimed.shouldRoll({ ...params, now: 11_001, maxTimestampInMessages: -1 }), true);
    await untimed.close();
  });

  it("splits appended bytes into batches exactly as written", async () => {
    const segment = await newSegment(0);
    const a = testBatch({ count: 2 });
    const b = testBatch({ count: 4 });
    setBaseOffset(a, 0, 0n);
    setBaseOffset(b, 0, 2n);
    await segment.append(5, 1_700_000_000_003, 5, Buffer.concat([a, b]));
    const read = await segment.read(0, 1 << 20);
    assert.ok(read);
    assert.equal(splitBatches(read.records).batches.length, 2);
    assert.equal(segment.nextOffset, 6);
    await segment.close();
  });
});
