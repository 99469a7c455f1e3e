import assert from "node:assert/strict";
import { test } from "node:test";
import { Compression, TimestampType, buildRecordBatch } from "../../protocol/records/index.ts";
import { timestampAt } from "./record-timestamps.ts";

const batch = (
  baseOffset: bigint,
  timestamps: number[],
  extra: Parameters<typeof buildRecordBatch>[0] | object = {},
) =>
  buildRecordBatch({
    baseOffset,
    records: timestamps.map((t) => ({ value: Buffer.alloc(100, 1), timestamp: BigInt(t) })),
    ...extra,
  });

test("the timestamp of the record at the offset, inside a batch and across batches", () => {
  const bytes = Buffer.concat([batch(0n, [1000, 1001, 1002]), batch(3n, [2000, 2001])]);
  assert.deepEqual(timestampAt(bytes, 1n), { timestamp: 1001 });
  assert.deepEqual(timestampAt(bytes, 4n), { timestamp: 2001 });
  // Fetch starts at the batch holding the offset: earlier records are skipped.
  assert.deepEqual(timestampAt(bytes, 3n), { timestamp: 2000 });
});

test("compressed batches are decompressed", () => {
  const bytes = batch(10n, [5000, 6000, 7000], { compression: Compression.GZIP });
  assert.deepEqual(timestampAt(bytes, 12n), { timestamp: 7000 });
});

test("LogAppendTime batches give the broker's append time", () => {
  const bytes = batch(0n, [1, 2], { timestampType: TimestampType.LOG_APPEND_TIME, timestamp: 9999n });
  assert.deepEqual(timestampAt(bytes, 1n), { timestamp: 9999 });
});

test("a cut batch: the header answers for its first record, otherwise ask for the whole batch", () => {
  const whole = batch(20n, [3000, 3100, 3200]);
  const cut = whole.subarray(0, 80);
  assert.deepEqual(timestampAt(cut, 20n), { timestamp: 3000 });
  assert.deepEqual(timestampAt(cut, 21n), { retryBytes: whole.length });
  assert.deepEqual(timestampAt(whole.subarray(0, 20), 21n), { retryBytes: whole.length });
  assert.deepEqual(timestampAt(whole.subarray(0, 10), 21n), { retryBytes: 256 * 1024 });
});

test("control batches are skipped: the first data record at or after the offset counts", () => {
  const marker = buildRecordBatch({
    baseOffset: 5n,
    control: true,
    transactional: true,
    producerId: 1n,
    producerEpoch: 0,
    records: [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]), timestamp: 1n }],
  });
  const bytes = Buffer.concat([marker, batch(6n, [4242])]);
  assert.deepEqual(timestampAt(bytes, 5n), { timestamp: 4242 });
  assert.equal(timestampAt(marker, 5n), null);
});
