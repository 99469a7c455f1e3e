// The records inside a batch: decoding (lazily, one record per step, for the few
// places that look inside batches: internal topics, deep validation, tests) and
// building whole batches (internal topics, transaction markers, tests).
//
// Record layout (varints zigzag-encoded, "length" counts the bytes after itself):
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint (-1: null) | key | valueLength varint (-1: null) | value |
//   headerCount varint | headers: keyLength varint | key (UTF-8) | valueLength varint | value
import { EncodeError } from "../wire/errors.ts";
import { Reader } from "../wire/reader.ts";
import { Writer } from "../wire/writer.ts";
import {
  CONTROL_MASK,
  DELETE_HORIZON_MASK,
  LOG_OVERHEAD,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  RECORD_BATCH_HEADER_SIZE,
  RECORD_BATCH_MAGIC,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
  TimestampType,
  updateCrc,
  type RecordBatchHeader,
} from "./batch.ts";
import {
  Compression,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  compress,
  decompress,
  type CompressionType,
} from "./compression.ts";
import { RecordBatchError, messageOf } from "./errors.ts";

export interface RecordHeader {
  /** Header keys are strings and never null. */
  key: string;
  value: Buffer | null;
}

/**
 * One decoded record. Keys, values and header values are views into the batch (or
 * its decompressed payload), not copies. Note the name shadows TypeScript's global
 * `Record<K, V>` where imported; `KafkaRecord` is the same type under another name.
 */
export interface Record {
  offset: bigint;
  /** The record's own timestamp, or the batch's append time for LogAppendTime batches. */
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** The record-level attributes byte; unused by Kafka so far, always 0 when written. */
  attributes: number;
}
export type KafkaRecord = Record;

export interface ReadRecordsOptions {
  /** Ceiling on the decompressed records section (compressed batches only). */
  maxDecompressedBytes?: number;
}

/** The smallest record body: attributes, timestamp delta, offset delta, key, value, header count. */
const MIN_RECORD_BODY = 6;
/** The smallest header: key length and value length, one byte each. */
const MIN_HEADER_SIZE = 2;

/**
 * The records of a complete batch, decoded one at a time: nothing is decompressed
 * or decoded until the first record is asked for. Throws RecordBatchError:
 * CORRUPT_MESSAGE/MESSAGE_TOO_LARGE from decompression, INVALID_RECORD for a record
 * that does not parse or a count that disagrees with the bytes. The CRC is not
 * checked here; validateBatch does that.
 */
export function* iterateRecords(
  batch: RecordBatchHeader,
  options: ReadRecordsOptions = {},
): Generator<Record, void, undefined> {
  const count = batch.recordCount;
  if (count < 0) throw invalid(`negative record count ${count}`);
  const codec = batch.compression;
  const payload = batch.recordsBytes();
  const data =
    codec === Compression.NONE
      ? payload
      : decompress(codec, payload, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  const baseOffset = batch.baseOffset;
  const baseTimestamp = batch.baseTimestamp;
  // With LogAppendTime the broker's time lives only in maxTimestamp; the records keep
  // the producer's timestamps, which readers are meant to ignore.
  const appendTime = batch.timestampType === TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp : null;
  const r = new Reader(data);
  for (let i = 0; i < count; i++) {
    if (r.remaining === 0) throw invalid(`batch declares ${count} records but holds ${i}`);
    let record: Record;
    try {
      record = readRecord(r, baseOffset, baseTimestamp, appendTime);
    } catch (e) {
      throw wrap(e, `record ${i}`);
    }
    yield record;
  }
  if (r.remaining !== 0) throw invalid(`${r.remaining} bytes left after the batch's ${count} records`);
}

function readRecord(r: Reader, baseOffset: bigint, baseTimestamp: bigint, appendTime: bigint | null): Record {
  const length = r.varint();
  if (length < MIN_RECORD_BODY || length > r.remaining) {
    throw invalid(`record length ${length} outside ${MIN_RECORD_BODY}..${r.remaining}`);
  }
  const body = r.sub(length);
  const attributes = body.int8();
  const timestampDelta = body.varlong();
  const offsetDelta = body.varint();
  const key = nullableBytes(body);
  const value = nullableBytes(body);
  const headerCount = body.varint();
  if (headerCount < 0 || headerCount > body.remaining / MIN_HEADER_SIZE) {
    throw invalid(`header count ${headerCount} does not fit in the record's ${body.remaining} bytes left`);
  }
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const keyLength = body.varint();
    if (keyLength < 0) throw invalid(`header ${i} has a null key`);
    const headerKey = body.slice(keyLength).toString("utf8");
    headers.push({ key: headerKey, value: nullableBytes(body) });
  }
  body.expectEnd("record");
  return {
    offset: baseOffset + BigInt(offsetDelta),
    timestamp: appendTime ?? baseTimestamp + timestampDelta,
    key,
    value,
    headers,
    attributes,
  };
}

/** A varint-length byte string; any negative length means null, as Kafka reads it. */
function nullableBytes(r: Reader): Buffer | null {
  const n = r.varint();
  return n < 0 ? null : r.slice(n);
}

function invalid(message: string): RecordBatchError {
  return new RecordBatchError("INVALID_RECORD", message);
}

/** Malformed bytes inside a CRC-valid batch (the Reader's ProtocolErrors) are invalid records. */
function wrap(e: unknown, where: string): RecordBatchError {
  if (e instanceof RecordBatchError) return e;
  return new RecordBatchError("INVALID_RECORD", `${where}: ${messageOf(e)}`, { cause: e });
}

export interface ValidateRecordsOptions extends ReadRecordsOptions {
  /** Produce-side rule: offset deltas are exactly 0, 1, 2, ... (no compaction gaps). */
  produce?: boolean;
}

export interface RecordsSummary {
  recordCount: number;
  /** The largest record timestamp (NO_TIMESTAMP for an empty batch), so a broker can fix maxTimestamp. */
  maxTimestamp: bigint;
}

/**
 * Decodes every record of a batch (whose header validateBatch accepted) and checks
 * what the header cannot show: the records parse, their count matches, offset deltas
 * rise and stay within lastOffsetDelta, control records carry a control key.
 */
export function validateRecords(
  batch: RecordBatchHeader,
  options: ValidateRecordsOptions = {},
): RecordsSummary {
  const baseOffset = batch.baseOffset;
  const lastOffsetDelta = batch.lastOffsetDelta;
  const control = batch.isControl;
  let recordCount = 0;
  let previousDelta = -1;
  let maxTimestamp = NO_TIMESTAMP;
  for (const record of iterateRecords(batch, options)) {
    const delta = Number(record.offset - baseOffset);
    if (delta <= previousDelta || delta > lastOffsetDelta) {
      throw invalid(
        `record ${recordCount} has offset delta ${delta}, after ${previousDelta}, limit ${lastOffsetDelta}`,
      );
    }
    if (options.produce && delta !== recordCount) {
      throw invalid(`record ${recordCount} has offset delta ${delta}; produced records must be consecutive`);
    }
    if (control && (record.key === null || record.key.length < 4)) {
      throw invalid(`control record ${recordCount} lacks a control key`);
    }
    if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
    previousDelta = delta;
    recordCount++;
  }
  return { recordCount, maxTimestamp };
}

/** A record to build; absent fields default to null keys and values, no headers. */
export interface RecordInput {
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: readonly RecordHeader[];
  /** Defaults to the batch's `timestamp`. */
  timestamp?: bigint;
  /** Position within the batch; defaults to the record's index. Compacted batches have gaps. */
  offsetDelta?: number;
}

export interface BuildRecordBatchOptions {
  records: readonly RecordInput[];
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  compression?: CompressionType;
  timestampType?: TimestampType;
  /**
   * The timestamp of records that give none, and for LogAppendTime batches the
   * append time stored in maxTimestamp. Defaults to now.
   */
  timestamp?: bigint;
  transactional?: boolean;
  /** A control batch (transaction markers and the like; see control.ts). */
  control?: boolean;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the last record's offset delta (-1 when empty); larger after compaction. */
  lastOffsetDelta?: number;
  /** Sets the delete-horizon attribute; this then takes baseTimestamp's place, as in Kafka. */
  deleteHorizon?: bigint;
}

/** Builds one complete batch with a valid CRC. Throws EncodeError for inputs the format cannot carry. */
export function buildRecordBatch(options: BuildRecordBatchOptions): Buffer {
  const { records } = options;
  const codec = options.compression ?? Compression.NONE;
  const timestampType = options.timestampType ?? TimestampType.CREATE_TIME;
  const now = options.timestamp ?? BigInt(Date.now());

  const timestamps = records.map((r) => r.timestamp ?? now);
  const deltas = records.map((r, i) => r.offsetDelta ?? i);
  let previous = -1;
  for (const delta of deltas) {
    if (!Number.isInteger(delta) || delta <= previous || delta > 0x7fffffff) {
      throw new EncodeError(`offset deltas must rise from 0 within int32, got ${delta} after ${previous}`);
    }
    previous = delta;
  }
  const lastOffsetDelta = options.lastOffsetDelta ?? previous;
  if (lastOffsetDelta < previous) {
    throw new EncodeError(`lastOffsetDelta ${lastOffsetDelta} is below the last record's delta ${previous}`);
  }

  const baseTimestamp = options.deleteHorizon ?? (records.length > 0 ? timestamps[0] : NO_TIMESTAMP);
  let maxTimestamp = NO_TIMESTAMP;
  if (timestampType === TimestampType.LOG_APPEND_TIME) maxTimestamp = now;
  else for (const t of timestamps) if (t > maxTimestamp) maxTimestamp = t;

  const w = new Writer(256);
  records.forEach((record, i) => {
    const body = new Writer(64);
    body.int8(0);
    body.varlong(timestamps[i] - baseTimestamp);
    body.varint(deltas[i]);
    writeNullableBytes(body, record.key ?? null);
    writeNullableBytes(body, record.value ?? null);
    const headers = record.headers ?? [];
    body.varint(headers.length);
    for (const header of headers) {
      writeNullableBytes(body, Buffer.from(header.key, "utf8"));
      writeNullableBytes(body, header.value);
    }
    w.varint(body.length);
    w.raw(body.toBuffer());
  });
  const payload = compress(codec, w.toBuffer());

  const attributes =
    codec |
    (timestampType === TimestampType.LOG_APPEND_TIME ? TIMESTAMP_TYPE_MASK : 0) |
    (options.transactional ? TRANSACTIONAL_MASK : 0) |
    (options.control ? CONTROL_MASK : 0) |
    (options.deleteHorizon !== undefined ? DELETE_HORIZON_MASK : 0);

  const header = new Writer(RECORD_BATCH_HEADER_SIZE);
  header.int64(options.baseOffset ?? 0n);
  header.int32(RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD + payload.length);
  header.int32(options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH);
  header.int8(RECORD_BATCH_MAGIC);
  header.uint32(0); // CRC, filled in below once the bytes it covers are in place
  header.int16(attributes);
  header.int32(lastOffsetDelta);
  header.int64(baseTimestamp);
  header.int64(maxTimestamp);
  header.int64(options.producerId ?? NO_PRODUCER_ID);
  header.int16(options.producerEpoch ?? NO_PRODUCER_EPOCH);
  header.int32(options.baseSequence ?? NO_SEQUENCE);
  header.int32(records.length);

  const batch = Buffer.concat([header.toBuffer(), payload]);
  updateCrc(batch, 0);
  return batch;
}

function writeNullableBytes(w: Writer, b: Buffer | null): void {
  if (b === null) {
    w.varint(-1);
    return;
  }
  w.varint(b.length);
  w.raw(b);
}
