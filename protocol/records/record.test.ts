import assert from "node:assert/strict";
import { test } from "node:test";
import { EncodeError } from "../wire/errors.ts";
import { Writer } from "../wire/writer.ts";
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  NO_TIMESTAMP,
  RECORD_BATCH_HEADER_SIZE,
  RECORD_COUNT_OFFSET,
  TimestampType,
  computeCrc,
  readBatchHeader,
  updateCrc,
  validateBatch,
} from "./batch.ts";
import { COMPRESSION_NAMES, Compression, type CompressionType } from "./compression.ts";
import {
  buildRecordBatch,
  iterateRecords,
  validateRecords,
  type BuildRecordBatchOptions,
  type Record,
  type RecordInput,
} from "./record.ts";
import { assertBatchError } from "./testing.ts";

const T0 = 1_700_000_000_000n;
const CODECS: CompressionType[] = [
  Compression.NONE,
  Compression.GZIP,
  Compression.SNAPPY,
  Compression.LZ4,
  Compression.ZSTD,
];

const INPUTS: RecordInput[] = [
  { key: Buffer.from("key-0"), value: Buffer.from("value-0"), timestamp: T0 },
  { key: null, value: Buffer.from("no key"), timestamp: T0 + 5n },
  { key: Buffer.from("tombstone"), value: null, timestamp: T0 - 3n }, // timestamps need not rise
  { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 1n },
  {
    key: Buffer.from("with headers"),
    value: Buffer.alloc(10_000, "v"),
    timestamp: T0 + 2n,
    headers: [
      { key: "trace-id", value: Buffer.from("abc123") },
      { key: "empty", value: Buffer.alloc(0) },
      { key: "null", value: null },
      { key: "ünïcødé 🔑", value: Buffer.from([0, 255, 1]) },
      { key: "", value: Buffer.from("empty key") },
    ],
  },
];

function plain(r: Record) {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString("latin1"),
    value: r.value === null ? null : r.value.toString("latin1"),
    headers: r.headers.map((h) => ({
      key: h.key,
      value: h.value === null ? null : h.value.toString("latin1"),
    })),
    attributes: r.attributes,
  };
}

function expected(baseOffset: bigint, inputs: RecordInput[]) {
  return inputs.map((input, i) => ({
    offset: baseOffset + BigInt(input.offsetDelta ?? i),
    timestamp: input.timestamp,
    key: input.key ? input.key.toString("latin1") : null,
    value: input.value ? input.value.toString("latin1") : null,
    headers: (input.headers ?? []).map((h) => ({
      key: h.key,
      value: h.value === null ? null : h.value.toString("latin1"),
    })),
    attributes: 0,
  }));
}

function roundTrip(options: BuildRecordBatchOptions): Record[] {
  const buf = buildRecordBatch(options);
  const header = validateBatch(buf, 0, { produce: options.baseOffset === undefined && !options.control });
  const summary = validateRecords(header);
  assert.equal(summary.recordCount, options.records.length);
  return [...iterateRecords(header)];
}

test("build → validate → iterate round-trips for every codec", () => {
  for (const compression of CODECS) {
    const records = roundTrip({ records: INPUTS, compression });
    assert.deepEqual(records.map(plain), expected(0n, INPUTS), COMPRESSION_NAMES[compression]);
    const header = readBatchHeader(buildRecordBatch({ records: INPUTS, compression, baseOffset: 10n }));
    assert.equal(header.compression, compression);
    assert.equal(header.baseTimestamp, T0);
    assert.equal(header.maxTimestamp, T0 + 5n);
    assert.equal(header.lastOffsetDelta, INPUTS.length - 1);
  }
});

test("many records, compressed past several codec blocks", () => {
  const inputs: RecordInput[] = Array.from({ length: 5000 }, (_, i) => ({
    key: Buffer.from(`key-${i % 100}`),
    value: Buffer.from(`{"n":${i},"payload":"${"x".repeat(i % 200)}"}`),
    timestamp: T0 + BigInt(i),
  }));
  for (const compression of CODECS) {
    const records = roundTrip({ records: inputs, compression, baseOffset: 1n << 40n });
    assert.equal(records.length, inputs.length);
    assert.deepEqual(records.map(plain), expected(1n << 40n, inputs));
  }
});

test("uncompressed records are views into the batch, not copies", () => {
  const buf = buildRecordBatch({ records: INPUTS });
  const [first] = iterateRecords(readBatchHeader(buf));
  assert.equal(first.value?.buffer, buf.buffer);
});

test("iteration is lazy: nothing is decoded until the first record is asked for", () => {
  const buf = buildRecordBatch({ records: INPUTS, compression: Compression.GZIP });
  buf[buf.length - 20] ^= 0xff; // break the gzip payload (and the CRC, unchecked here)
  const records = iterateRecords(readBatchHeader(buf));
  assertBatchError(() => records.next(), "CORRUPT_MESSAGE");
});

test("records with offset gaps (as compaction leaves them) keep their offsets", () => {
  const inputs: RecordInput[] = [
    { key: Buffer.from("a"), value: Buffer.from("1"), offsetDelta: 0, timestamp: T0 },
    { key: Buffer.from("b"), value: Buffer.from("2"), offsetDelta: 3, timestamp: T0 },
    { key: Buffer.from("c"), value: Buffer.from("3"), offsetDelta: 7, timestamp: T0 },
  ];
  const buf = buildRecordBatch({ records: inputs, baseOffset: 100n, lastOffsetDelta: 9 });
  const header = validateBatch(buf);
  assert.equal(header.lastOffset, 109n);
  assert.deepEqual(
    [...iterateRecords(header)].map((r) => r.offset),
    [100n, 103n, 107n],
  );
  validateRecords(header);
  assertBatchError(() => validateRecords(header, { produce: true }), "INVALID_RECORD");
});

test("empty batches (left by compaction) carry only offsets", () => {
  const buf = buildRecordBatch({ records: [], baseOffset: 50n, lastOffsetDelta: 4 });
  const header = validateBatch(buf);
  assert.equal(header.recordCount, 0);
  assert.equal(header.nextOffset, 55n);
  assert.equal(header.baseTimestamp, NO_TIMESTAMP);
  assert.equal(header.maxTimestamp, NO_TIMESTAMP);
  assert.deepEqual([...iterateRecords(header)], []);
  assert.deepEqual(validateRecords(header), { recordCount: 0, maxTimestamp: NO_TIMESTAMP });
  for (const compression of CODECS) {
    assert.deepEqual([...iterateRecords(validateBatch(buildRecordBatch({ records: [], compression })))], []);
  }
});

test("LogAppendTime batches give every record the append time", () => {
  const buf = buildRecordBatch({
    records: INPUTS,
    timestampType: TimestampType.LOG_APPEND_TIME,
    timestamp: T0 + 999n,
    compression: Compression.LZ4,
  });
  const header = validateBatch(buf);
  assert.equal(header.timestampType, TimestampType.LOG_APPEND_TIME);
  assert.equal(header.maxTimestamp, T0 + 999n);
  for (const r of iterateRecords(header)) assert.equal(r.timestamp, T0 + 999n);
});

test("records without timestamps take the batch's", () => {
  const records = roundTrip({
    records: [{ value: Buffer.from("a") }, { value: Buffer.from("b") }],
    timestamp: 42n,
  });
  assert.deepEqual(
    records.map((r) => r.timestamp),
    [42n, 42n],
  );
});

test("delete horizon takes the base timestamp's place and record timestamps survive", () => {
  const buf = buildRecordBatch({ records: INPUTS.slice(0, 2), deleteHorizon: T0 + 86_400_000n });
  const header = validateBatch(buf);
  assert.equal(header.hasDeleteHorizon, true);
  assert.equal(header.deleteHorizon, T0 + 86_400_000n);
  assert.deepEqual(
    [...iterateRecords(header)].map((r) => r.timestamp),
    [T0, T0 + 5n],
  );
});

test("validateRecords reports the max timestamp", () => {
  const header = validateBatch(buildRecordBatch({ records: INPUTS, compression: Compression.ZSTD }));
  assert.deepEqual(validateRecords(header), { recordCount: INPUTS.length, maxTimestamp: T0 + 5n });
});

test("the builder refuses what the format cannot carry", () => {
  const v = Buffer.from("x");
  assert.throws(
    () =>
      buildRecordBatch({
        records: [
          { value: v, offsetDelta: 1 },
          { value: v, offsetDelta: 1 },
        ],
      }),
    EncodeError,
  );
  assert.throws(() => buildRecordBatch({ records: [{ value: v, offsetDelta: -1 }] }), EncodeError);
  assert.throws(
    () => buildRecordBatch({ records: [{ value: v }, { value: v }], lastOffsetDelta: 0 }),
    EncodeError,
  );
});

/** A batch whose records section is exactly `records` (already encoded), with a valid CRC. */
function rawBatch(records: Buffer, count: number, lastOffsetDelta = count - 1): Buffer {
  const template = buildRecordBatch({ records: [], lastOffsetDelta, timestamp: T0 });
  const buf = Buffer.concat([template, records]);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(count, RECORD_COUNT_OFFSET);
  updateCrc(buf);
  return buf;
}

/** Encodes one record with the given fields written as-is (to make malformed ones). */
function rawRecord(fields: (w: Writer) => void, lengthAdjust = 0): Buffer {
  const body = new Writer();
  fields(body);
  const w = new Writer();
  w.varint(body.length + lengthAdjust);
  w.raw(body.toBuffer());
  return Buffer.from(w.toBuffer());
}

function goodFields(w: Writer): void {
  w.int8(0);
  w.varlong(0n);
  w.varint(0);
  w.varint(1);
  w.raw(Buffer.from("k"));
  w.varint(1);
  w.raw(Buffer.from("v"));
  w.varint(0);
}

test("malformed records in a CRC-valid batch are INVALID_RECORD", () => {
  const good = rawRecord(goodFields);
  assert.equal([...iterateRecords(validateBatch(rawBatch(good, 1)))].length, 1);

  const cases: Array<[string, Buffer, number]> = [
    ["count larger than the records", good, 2],
    ["trailing bytes after the records", Buffer.concat([good, Buffer.from([0])]), 1],
    ["record length too long", rawRecord(goodFields, 5), 1],
    ["record length too short", rawRecord(goodFields, -1), 1],
    ["record length negative", Buffer.from([0x01]), 1],
    [
      "key length past the record",
      rawRecord((w) => {
        w.int8(0);
        w.varlong(0n);
        w.varint(0);
        w.varint(100);
        w.raw(Buffer.from("short"));
      }),
      1,
    ],
    [
      "null header key",
      rawRecord((w) => {
        w.int8(0);
        w.varlong(0n);
        w.varint(0);
        w.varint(-1);
        w.varint(-1);
        w.varint(1);
        w.varint(-1);
        w.varint(-1);
      }),
      1,
    ],
    [
      "header count larger than the bytes",
      rawRecord((w) => {
        w.int8(0);
        w.varlong(0n);
        w.varint(0);
        w.varint(-1);
        w.varint(-1);
        w.varint(1_000_000);
      }),
      1,
    ],
    ["varint longer than 32 bits", Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 1],
  ];
  for (const [name, records, count] of cases) {
    const buf = rawBatch(records, count, Math.max(count - 1, 0));
    assert.equal(readBatchHeader(buf).crc, computeCrc(buf), name);
    const e = assertBatchError(() => [...iterateRecords(readBatchHeader(buf))], "INVALID_RECORD");
    assert.ok(e.message.length > 0, name);
  }
});

test("offset deltas must rise within lastOffsetDelta", () => {
  const at = (delta: number) =>
    rawRecord((w) => {
      w.int8(0);
      w.varlong(0n);
      w.varint(delta);
      w.varint(-1);
      w.varint(-1);
      w.varint(0);
    });
  validateRecords(validateBatch(rawBatch(Buffer.concat([at(0), at(1)]), 2)));
  assertBatchError(
    () => validateRecords(validateBatch(rawBatch(Buffer.concat([at(1), at(0)]), 2))),
    "INVALID_RECORD",
  );
  assertBatchError(
    () => validateRecords(validateBatch(rawBatch(Buffer.concat([at(0), at(0)]), 2))),
    "INVALID_RECORD",
  );
  assertBatchError(
    () => validateRecords(validateBatch(rawBatch(Buffer.concat([at(0), at(5)]), 2))),
    "INVALID_RECORD",
  );
});

test("a compressed payload that decodes to too few records is INVALID_RECORD", () => {
  const buf = buildRecordBatch({ records: INPUTS, compression: Compression.SNAPPY });
  buf.writeInt32BE(INPUTS.length + 1, RECORD_COUNT_OFFSET);
  buf.writeInt32BE(INPUTS.length, LAST_OFFSET_DELTA_OFFSET);
  updateCrc(buf);
  assertBatchError(() => [...iterateRecords(validateBatch(buf))], "INVALID_RECORD");
});

test("the decompression limit applies to iteration", () => {
  const buf = buildRecordBatch({ records: INPUTS, compression: Compression.GZIP });
  assertBatchError(
    () => [...iterateRecords(readBatchHeader(buf), { maxDecompressedBytes: 100 })],
    "MESSAGE_TOO_LARGE",
  );
});

test("an uncompressed batch's records start right after the header", () => {
  const buf = buildRecordBatch({ records: [{ value: Buffer.from("v") }], timestamp: 0n });
  assert.equal(buf.length, RECORD_BATCH_HEADER_SIZE + 8);
  assert.equal(buf.readUInt16BE(ATTRIBUTES_OFFSET), 0);
});
