import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  RECORD_BATCH_HEADER_SIZE,
  RECORD_COUNT_OFFSET,
  TimestampType,
  computeCrc,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setMaxTimestamp,
  setPartitionLeaderEpoch,
  splitBatches,
  updateCrc,
  validateBatch,
} from "./batch.ts";
import { Compression } from "./compression.ts";
import { buildRecordBatch, iterateRecords } from "./record.ts";
import { assertBatchError } from "./testing.ts";

const T0 = 1_700_000_000_000n;

function sampleBatch(n = 3, extra: Partial<Parameters<typeof buildRecordBatch>[0]> = {}): Buffer {
  return buildRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`value ${i}`),
      timestamp: T0 + BigInt(i),
    })),
    ...extra,
  });
}

test("header fields are read from the bytes", () => {
  const buf = sampleBatch(3, {
    baseOffset: 100n,
    partitionLeaderEpoch: 7,
    producerId: 42n,
    producerEpoch: 3,
    baseSequence: 10,
    transactional: true,
  });
  const h = validateBatch(buf);
  assert.equal(h.baseOffset, 100n);
  assert.equal(h.size, buf.length);
  assert.equal(h.batchLength, buf.length - 12);
  assert.equal(h.partitionLeaderEpoch, 7);
  assert.equal(h.magic, 2);
  assert.equal(h.crc, computeCrc(buf));
  assert.equal(h.compression, Compression.NONE);
  assert.equal(h.timestampType, TimestampType.CREATE_TIME);
  assert.equal(h.isTransactional, true);
  assert.equal(h.isControl, false);
  assert.equal(h.hasDeleteHorizon, false);
  assert.equal(h.deleteHorizon, null);
  assert.equal(h.lastOffsetDelta, 2);
  assert.equal(h.lastOffset, 102n);
  assert.equal(h.nextOffset, 103n);
  assert.equal(h.baseTimestamp, T0);
  assert.equal(h.maxTimestamp, T0 + 2n);
  assert.equal(h.producerId, 42n);
  assert.equal(h.producerEpoch, 3);
  assert.equal(h.baseSequence, 10);
  assert.equal(h.lastSequence, 12);
  assert.equal(h.recordCount, 3);
  assert.equal(h.isComplete, true);
  assert.equal(h.bytes().length, buf.length);
  assert.equal(h.recordsBytes().length, buf.length - RECORD_BATCH_HEADER_SIZE);
});

test("the header is a view: no copy, and in-place edits show", () => {
  const buf = sampleBatch();
  const h = readBatchHeader(buf, 0);
  assert.equal(h.bytes().buffer, buf.buffer);
  setBaseOffset(buf, 0, 5000n);
  assert.equal(h.baseOffset, 5000n);
});

test("a header can be read from the first 61 bytes alone", () => {
  const buf = sampleBatch();
  const h = readBatchHeader(buf.subarray(0, RECORD_BATCH_HEADER_SIZE));
  assert.equal(h.recordCount, 3);
  assert.equal(h.isComplete, false);
  assertBatchError(() => h.bytes(), "CORRUPT_MESSAGE");
  assertBatchError(() => validateBatch(buf.subarray(0, RECORD_BATCH_HEADER_SIZE)), "CORRUPT_MESSAGE");
});

test("sequence numbers wrap past 2^31-1 as Kafka's do", () => {
  const h = readBatchHeader(sampleBatch(5, { producerId: 1n, producerEpoch: 0, baseSequence: 0x7ffffffe }));
  assert.equal(h.lastSequence, 2);
  assert.equal(readBatchHeader(sampleBatch(2)).lastSequence, -1);
});

test("a flipped bit under the CRC is CORRUPT_MESSAGE", () => {
  const buf = sampleBatch();
  for (const at of [ATTRIBUTES_OFFSET + 2, RECORD_COUNT_OFFSET - 3, buf.length - 1, CRC_OFFSET]) {
    const bad = Buffer.from(buf);
    bad[at] ^= 0x10;
    const e = assertBatchError(() => validateBatch(bad), "CORRUPT_MESSAGE");
    assert.equal(e.errorCode, 2);
  }
});

test("setBaseOffset and setPartitionLeaderEpoch keep the CRC valid", () => {
  const buf = sampleBatch();
  const crc = readBatchHeader(buf).crc;
  setBaseOffset(buf, 0, 1234567890123n);
  setPartitionLeaderEpoch(buf, 0, 99);
  const h = validateBatch(buf);
  assert.equal(h.crc, crc);
  assert.equal(h.baseOffset, 1234567890123n);
  assert.equal(h.partitionLeaderEpoch, 99);
  assert.deepEqual(
    [...iterateRecords(h)].map((r) => r.offset),
    [1234567890123n, 1234567890124n, 1234567890125n],
  );
});

test("setLogAppendTime sets the type bit and maxTimestamp and recomputes the CRC", () => {
  const buf = sampleBatch();
  const before = readBatchHeader(buf).crc;
  setLogAppendTime(buf, 0, T0 + 1000n);
  const h = validateBatch(buf);
  assert.notEqual(h.crc, before);
  assert.equal(h.timestampType, TimestampType.LOG_APPEND_TIME);
  assert.equal(h.maxTimestamp, T0 + 1000n);
  assert.equal(h.baseTimestamp, T0);
  for (const r of iterateRecords(h)) assert.equal(r.timestamp, T0 + 1000n);
});

test("setMaxTimestamp leaves an already-correct batch alone and can switch back to CreateTime", () => {
  const buf = sampleBatch();
  const copy = Buffer.from(buf);
  assert.equal(setMaxTimestamp(buf, 0, TimestampType.CREATE_TIME, T0 + 2n), false);
  assert.deepEqual(buf, copy);
  assert.equal(setMaxTimestamp(buf, 0, TimestampType.LOG_APPEND_TIME, 5n), true);
  assert.equal(setMaxTimestamp(buf, 0, TimestampType.CREATE_TIME, T0 + 2n), true);
  assert.deepEqual(buf, copy);
});

test("edits work on a batch in the middle of a larger buffer", () => {
  const a = sampleBatch(1);
  const b = sampleBatch(2);
  const buf = Buffer.concat([a, b, a]);
  setLogAppendTime(buf, a.length, 77n);
  setBaseOffset(buf, a.length, 9n);
  const { batches } = splitBatches(buf);
  assert.equal(batches.length, 3);
  for (const h of batches) validateBatch(buf, h.pos);
  assert.equal(batches[1].maxTimestamp, 77n);
  assert.equal(batches[1].baseOffset, 9n);
  assert.deepEqual(buf.subarray(0, a.length), a);
  assert.deepEqual(buf.subarray(a.length + b.length), a);
});

test("bad length or magic is CORRUPT_MESSAGE", () => {
  const buf = sampleBatch();
  const shortLength = Buffer.from(buf);
  shortLength.writeInt32BE(48, BATCH_LENGTH_OFFSET);
  assertBatchError(() => readBatchHeader(shortLength), "CORRUPT_MESSAGE");
  const negative = Buffer.from(buf);
  negative.writeInt32BE(-5, BATCH_LENGTH_OFFSET);
  assertBatchError(() => validateBatch(negative), "CORRUPT_MESSAGE");
  const huge = Buffer.from(buf);
  huge.writeInt32BE(0x7fffffff, BATCH_LENGTH_OFFSET);
  assertBatchError(() => validateBatch(huge), "CORRUPT_MESSAGE");
  for (const magic of [0, 1, 3, -1]) {
    const bad = Buffer.from(buf);
    bad.writeInt8(magic, MAGIC_OFFSET);
    assertBatchError(() => readBatchHeader(bad), "CORRUPT_MESSAGE");
  }
  for (let n = 0; n < RECORD_BATCH_HEADER_SIZE; n++) {
    assertBatchError(() => readBatchHeader(buf.subarray(0, n)), "CORRUPT_MESSAGE");
  }
});

/** Rewrites header fields and fixes the CRC, to reach checks that come after it. */
function withHeader(buf: Buffer, edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(buf);
  edit(b);
  updateCrc(b);
  return b;
}

test("counts that contradict the offsets are INVALID_RECORD", () => {
  const buf = sampleBatch(3);
  const more = withHeader(buf, (b) => b.writeInt32BE(4, RECORD_COUNT_OFFSET));
  const e = assertBatchError(() => validateBatch(more), "INVALID_RECORD");
  assert.equal(e.errorCode, 87);
  assertBatchError(
    () => validateBatch(withHeader(buf, (b) => b.writeInt32BE(-1, RECORD_COUNT_OFFSET))),
    "INVALID_RECORD",
  );
  // An uncompressed batch cannot hold more records than its bytes allow.
  const lying = withHeader(buf, (b) => {
    b.writeInt32BE(1_000_000, RECORD_COUNT_OFFSET);
    b.writeInt32BE(2_000_000, LAST_OFFSET_DELTA_OFFSET);
  });
  assertBatchError(() => validateBatch(lying), "INVALID_RECORD");
  // Fewer records than offsets is what compaction leaves: fine, except for produce.
  const compacted = withHeader(buf, (b) => b.writeInt32BE(5, LAST_OFFSET_DELTA_OFFSET));
  validateBatch(compacted);
  assertBatchError(() => validateBatch(compacted, 0, { produce: true }), "INVALID_RECORD");
});

test("produce rules: base offset 0, no control batches, transactional needs a producer id", () => {
  validateBatch(sampleBatch(), 0, { produce: true });
  assertBatchError(
    () => validateBatch(sampleBatch(3, { baseOffset: 5n }), 0, { produce: true }),
    "INVALID_RECORD",
  );
  assertBatchError(
    () => validateBatch(sampleBatch(1, { control: true }), 0, { produce: true }),
    "INVALID_RECORD",
  );
  assertBatchError(
    () => validateBatch(sampleBatch(1, { transactional: true }), 0, { produce: true }),
    "INVALID_RECORD",
  );
  assertBatchError(() => validateBatch(sampleBatch(0), 0, { produce: true }), "INVALID_RECORD");
  validateBatch(sampleBatch(0));
});

test("unknown codec bits are UNSUPPORTED_COMPRESSION_TYPE", () => {
  for (const codec of [5, 6, 7]) {
    const bad = withHeader(sampleBatch(), (b) => b.writeUInt16BE(codec, ATTRIBUTES_OFFSET));
    const e = assertBatchError(() => validateBatch(bad), "UNSUPPORTED_COMPRESSION_TYPE");
    assert.equal(e.errorCode, 76);
    assertBatchError(() => [...iterateRecords(readBatchHeader(bad))], "UNSUPPORTED_COMPRESSION_TYPE");
  }
});

test("maxBatchSize rejects large batches with MESSAGE_TOO_LARGE", () => {
  const buf = sampleBatch();
  validateBatch(buf, 0, { maxBatchSize: buf.length });
  assertBatchError(() => validateBatch(buf, 0, { maxBatchSize: buf.length - 1 }), "MESSAGE_TOO_LARGE");
  assertBatchError(() => splitBatches(buf, { maxBatchSize: buf.length - 1 }), "MESSAGE_TOO_LARGE");
});

test("splitBatches finds every boundary", () => {
  const parts = [sampleBatch(1), sampleBatch(5, { compression: Compression.GZIP }), sampleBatch(2)];
  const buf = Buffer.concat(parts);
  const { batches, truncated } = splitBatches(buf);
  assert.equal(truncated, null);
  assert.deepEqual(
    batches.map((h) => [h.pos, h.size]),
    [
      [0, parts[0].length],
      [parts[0].length, parts[1].length],
      [parts[0].length + parts[1].length, parts[2].length],
    ],
  );
  assert.deepEqual(splitBatches(Buffer.alloc(0)), { batches: [], truncated: null });
});

test("splitBatches reports a truncated last batch at every cut point when allowed", () => {
  const first = sampleBatch(2);
  const second = sampleBatch(4);
  const whole = Buffer.concat([first, second]);
  for (let cut = first.length + 1; cut < whole.length; cut++) {
    const buf = whole.subarray(0, cut);
    const { batches, truncated } = splitBatches(buf, { allowTruncated: true });
    assert.equal(batches.length, 1);
    assert.ok(truncated);
    assert.equal(truncated.pos, first.length);
    assert.equal(truncated.available, cut - first.length);
    assert.equal(truncated.size, cut - first.length >= 12 ? second.length : null);
    assertBatchError(() => splitBatches(buf), "CORRUPT_MESSAGE");
  }
});

test("splitBatches rejects bad framing even in a truncated tail", () => {
  const first = sampleBatch(2);
  const bad = Buffer.from(sampleBatch(2));
  bad.writeInt32BE(10, BATCH_LENGTH_OFFSET);
  assertBatchError(
    () => splitBatches(Buffer.concat([first, bad.subarray(0, 20)]), { allowTruncated: true }),
    "CORRUPT_MESSAGE",
  );
  const badMagic = Buffer.from(sampleBatch(2));
  badMagic[MAGIC_OFFSET] = 1;
  assertBatchError(
    () => splitBatches(Buffer.concat([first, badMagic.subarray(0, 30)]), { allowTruncated: true }),
    "CORRUPT_MESSAGE",
  );
});

test("a position outside the buffer is a RangeError (a caller bug, not bad input)", () => {
  const buf = sampleBatch();
  assert.throws(() => readBatchHeader(buf, -1), RangeError);
  assert.throws(() => readBatchHeader(buf, buf.length + 1), RangeError);
  assert.throws(() => readBatchHeader(buf, 0.5), RangeError);
});
