// Record batches (magic 2), handled as opaque bytes. The broker's produce and fetch
// paths never decode records: they check a batch's framing and CRC, rewrite a few
// header fields in place (base offset, leader epoch, log-append time) and pass the
// bytes on. So the header is a view over the buffer, read field by field on demand,
// and nothing here copies or allocates on the say-so of a length field.
//
// Layout (big-endian; "batchLength" counts the bytes after its own field):
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 |
//   crc uint32 | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 |
//   maxTimestamp int64 | producerId int64 | producerEpoch int16 | baseSequence int32 |
//   recordCount int32 | records...
// The CRC (CRC-32C) covers attributes..end, so the fields before it (base offset,
// length, leader epoch) can be rewritten without touching the CRC.
import { crc32c } from "@node-rs/crc32";
import { Compression, isKnownCompression } from "./compression.ts";
import { RecordBatchError } from "./errors.ts";

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the fixed batch header; the records start right after it. */
export const RECORD_BATCH_HEADER_SIZE = RECORDS_OFFSET;
/** baseOffset + batchLength: the bytes that precede what batchLength counts. */
export const LOG_OVERHEAD = BATCH_LENGTH_OFFSET + 4;
/** The smallest legal batchLength: a header with no records. */
export const MIN_BATCH_LENGTH = RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD;
/** The only batch format this module handles; magic 0 and 1 predate Kafka 0.11. */
export const RECORD_BATCH_MAGIC = 2;
/**
 * The smallest encoded record (length, attributes, timestamp delta, offset delta, key
 * length, value length and header count, one byte each), so a record count larger than
 * the uncompressed payload divided by this is a lie, caught before reading anything.
 */
export const MIN_RECORD_SIZE = 7;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_MASK = 0x10;
export const CONTROL_MASK = 0x20;
export const DELETE_HORIZON_MASK = 0x40;

export const TimestampType = {
  /** Timestamps are the producer's (per record). */
  CREATE_TIME: 0,
  /** The broker's append time, kept once in maxTimestamp and applied to every record. */
  LOG_APPEND_TIME: 1,
} as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

/** Kafka's "no producer id" / "no epoch" / "no sequence" values. */
export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1n;

const INT32_MAX = 0x7fffffff;

/**
 * A view of one batch in a buffer. Fields are read from the bytes when asked for, so
 * creating a view costs nothing and in-place rewrites (setBaseOffset, ...) show up in
 * it. Obtain one from readBatchHeader, validateBatch or splitBatches, which check that
 * the fixed header is present; the records after it may not be (see `isComplete`).
 */
export class RecordBatchHeader {
  readonly buf: Buffer;
  /** Where the batch starts in `buf`. */
  readonly pos: number;

  constructor(buf: Buffer, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }

  get baseOffset(): bigint {
    return this.buf.readBigInt64BE(this.pos + BASE_OFFSET_OFFSET);
  }
  get batchLength(): number {
    return this.buf.readInt32BE(this.pos + BATCH_LENGTH_OFFSET);
  }
  /** Bytes the whole batch takes, header included. */
  get size(): number {
    return LOG_OVERHEAD + this.batchLength;
  }
  /** Where the batch ends in `buf` (exclusive). */
  get end(): number {
    return this.pos + this.size;
  }
  /** Whether all of the batch's bytes are in `buf` (a fetch response may cut the last one short). */
  get isComplete(): boolean {
    return this.end <= this.buf.length;
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.pos + PARTITION_LEADER_EPOCH_OFFSET);
  }
  get magic(): number {
    return this.buf.readInt8(this.pos + MAGIC_OFFSET);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.pos + CRC_OFFSET);
  }
  get attributes(): number {
    return this.buf.readUInt16BE(this.pos + ATTRIBUTES_OFFSET);
  }
  /** The codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd; other values are invalid). */
  get compression(): number {
    return this.attributes & COMPRESSION_MASK;
  }
  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_MASK) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_MASK) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_MASK) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.pos + LAST_OFFSET_DELTA_OFFSET);
  }
  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }
  /** The offset after this batch: where the next batch in the log starts. */
  get nextOffset(): bigint {
    return this.lastOffset + 1n;
  }
  /** The first record's timestamp, or the delete horizon when `hasDeleteHorizon`. */
  get baseTimestamp(): bigint {
    return this.buf.readBigInt64BE(this.pos + BASE_TIMESTAMP_OFFSET);
  }
  get maxTimestamp(): bigint {
    return this.buf.readBigInt64BE(this.pos + MAX_TIMESTAMP_OFFSET);
  }
  /** When log compaction may drop this batch's tombstones and markers, if it has set one. */
  get deleteHorizon(): bigint | null {
    return this.hasDeleteHorizon ? this.baseTimestamp : null;
  }
  get producerId(): bigint {
    return this.buf.readBigInt64BE(this.pos + PRODUCER_ID_OFFSET);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.pos + PRODUCER_EPOCH_OFFSET);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.pos + BASE_SEQUENCE_OFFSET);
  }
  /** The last record's sequence number; sequences wrap from 2^31-1 to 0, as in Kafka. */
  get lastSequence(): number {
    const base = this.baseSequence;
    if (base === NO_SEQUENCE) return NO_SEQUENCE;
    const delta = this.lastOffsetDelta;
    return base > INT32_MAX - delta ? delta - (INT32_MAX - base) - 1 : base + delta;
  }
  get recordCount(): number {
    return this.buf.readInt32BE(this.pos + RECORD_COUNT_OFFSET);
  }

  /** The whole batch (a view, not a copy). */
  bytes(): Buffer {
    this.requireComplete();
    return this.buf.subarray(this.pos, this.end);
  }

  /** The records section (compressed as the attributes say; a view, not a copy). */
  recordsBytes(): Buffer {
    this.requireComplete();
    return this.buf.subarray(this.pos + RECORDS_OFFSET, this.end);
  }

  private requireComplete(): void {
    if (!this.isComplete) {
      throw new RecordBatchError(
        "CORRUPT_MESSAGE",
        `batch at byte ${this.pos} needs ${this.size} bytes, only ${this.buf.length - this.pos} present`,
      );
    }
  }
}

/**
 * Checks what `available` bytes at `pos` allow of the framing: the length field
 * (when present) is at least a header, and the magic byte (when present) is 2.
 * Returns the batch's total size, or null if even the length is not there.
 */
function checkFraming(buf: Buffer, pos: number, available: number): number | null {
  if (available < LOG_OVERHEAD) return null;
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new RecordBatchError(
      "CORRUPT_MESSAGE",
      `batch at byte ${pos} has length ${batchLength}, less than the ${MIN_BATCH_LENGTH}-byte minimum`,
    );
  }
  if (available > MAGIC_OFFSET) {
    const magic = buf.readInt8(pos + MAGIC_OFFSET);
    if (magic !== RECORD_BATCH_MAGIC) {
      throw new RecordBatchError("CORRUPT_MESSAGE", `batch at byte ${pos} has magic ${magic}, expected 2`);
    }
  }
  return LOG_OVERHEAD + batchLength;
}

function checkPos(buf: Buffer, pos: number): void {
  if (!Number.isSafeInteger(pos) || pos < 0 || pos > buf.length) {
    throw new RangeError(`batch position ${pos} outside a buffer of ${buf.length} bytes`);
  }
}

/**
 * A view of the batch at `pos`. Checks that the 61-byte header is present, the length
 * is at least a header and the magic is 2; not that the records are all present or
 * the CRC matches (that is validateBatch), so a header read from disk alone works.
 */
export function readBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  checkPos(buf, pos);
  const available = buf.length - pos;
  if (available < RECORD_BATCH_HEADER_SIZE) {
    throw new RecordBatchError(
      "CORRUPT_MESSAGE",
      `batch at byte ${pos} has ${available} bytes, less than a ${RECORD_BATCH_HEADER_SIZE}-byte header`,
    );
  }
  checkFraming(buf, pos, available);
  return new RecordBatchHeader(buf, pos);
}

/** CRC-32C of the batch at `pos` as it should be stored in its crc field. */
export function computeCrc(buf: Buffer, pos = 0): number {
  const header = readBatchHeader(buf, pos);
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, completeEnd(header))) >>> 0;
}

function completeEnd(header: RecordBatchHeader): number {
  if (!header.isComplete) header.bytes(); // throws the truncation error
  return header.end;
}

export interface ValidateBatchOptions {
  /**
   * Apply the rules for batches a client produces, as Kafka's broker does: base offset
   * 0, record count equal to lastOffsetDelta + 1 and at least 1, no control batches,
   * transactional batches carry a producer id. Leave off for batches read back from a
   * log, where compaction leaves fewer records than offsets.
   */
  produce?: boolean;
  /** Largest batch (total bytes) to accept; larger ones fail with MESSAGE_TOO_LARGE. */
  maxBatchSize?: number;
}

/**
 * Checks the batch at `pos` without decoding its records: framing, presence of all
 * its bytes, CRC, codec, and header fields that contradict each other. Returns its
 * view; throws RecordBatchError. Decoding the records is validateRecords' job.
 */
export function validateBatch(buf: Buffer, pos = 0, options: ValidateBatchOptions = {}): RecordBatchHeader {
  const header = readBatchHeader(buf, pos);
  const size = header.size;
  if (options.maxBatchSize !== undefined && size > options.maxBatchSize) {
    throw new RecordBatchError(
      "MESSAGE_TOO_LARGE",
      `batch of ${size} bytes is larger than the ${options.maxBatchSize}-byte limit`,
    );
  }
  const end = completeEnd(header);
  const stored = header.crc;
  const actual = crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, end)) >>> 0;
  if (stored !== actual) {
    throw new RecordBatchError(
      "CORRUPT_MESSAGE",
      `batch at byte ${pos} has CRC ${hex(stored)} but its bytes give ${hex(actual)}`,
    );
  }
  if (!isKnownCompression(header.compression)) {
    throw new RecordBatchError(
      "UNSUPPORTED_COMPRESSION_TYPE",
      `unknown compression codec ${header.compression}`,
    );
  }

  const count = header.recordCount;
  const lastOffsetDelta = header.lastOffsetDelta;
  if (count < 0) throw new RecordBatchError("INVALID_RECORD", `negative record count ${count}`);
  if (lastOffsetDelta < -1) {
    throw new RecordBatchError("INVALID_RECORD", `negative lastOffsetDelta ${lastOffsetDelta}`);
  }
  // Compaction may remove records from a batch but never adds offsets to one.
  if (count > lastOffsetDelta + 1) {
    throw new RecordBatchError(
      "INVALID_RECORD",
      `record count ${count} exceeds the ${lastOffsetDelta + 1} offsets the batch spans`,
    );
  }
  if (
    header.compression === Compression.NONE &&
    count > (size - RECORD_BATCH_HEADER_SIZE) / MIN_RECORD_SIZE
  ) {
    throw new RecordBatchError(
      "INVALID_RECORD",
      `record count ${count} cannot fit in ${size - RECORD_BATCH_HEADER_SIZE} bytes of records`,
    );
  }
  if (options.produce) validateProduced(header);
  return header;
}

function validateProduced(header: RecordBatchHeader): void {
  if (header.baseOffset !== 0n) {
    throw new RecordBatchError(
      "INVALID_RECORD",
      `produced batch has base offset ${header.baseOffset}, not 0`,
    );
  }
  if (header.recordCount === 0) throw new RecordBatchError("INVALID_RECORD", "produced batch has no records");
  if (header.recordCount !== header.lastOffsetDelta + 1) {
    throw new RecordBatchError(
      "INVALID_RECORD",
      `record count ${header.recordCount} does not match lastOffsetDelta ${header.lastOffsetDelta} + 1`,
    );
  }
  // Control batches (transaction markers) are written by the broker, never by clients.
  if (header.isControl) {
    throw new RecordBatchError("INVALID_RECORD", "clients may not produce control batches");
  }
  if (header.isTransactional && header.producerId < 0n) {
    throw new RecordBatchError("INVALID_RECORD", "transactional batch without a producer id");
  }
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

/** A batch cut short at the end of a buffer. */
export interface TruncatedBatch {
  /** Where it starts. */
  pos: number;
  /** How many of its bytes are present. */
  available: number;
  /** Its full size, when the length field is present. */
  size: number | null;
}

export interface SplitBatchesResult {
  /** The complete batches, in order (framing checked, CRC not: see validateBatch). */
  batches: RecordBatchHeader[];
  /** The partial batch at the end, if any (only when `allowTruncated`). */
  truncated: TruncatedBatch | null;
}

export interface SplitBatchesOptions {
  /**
   * Accept a partial last batch and report it instead of failing. Fetch responses
   * stop at the byte limit mid-batch; Produce requests never legitimately do.
   */
  allowTruncated?: boolean;
  /** Largest batch (total bytes) to accept; larger ones fail with MESSAGE_TOO_LARGE. */
  maxBatchSize?: number;
}

/**
 * Splits concatenated batches (a Produce or Fetch records field) at their boundaries,
 * checking each length and magic on the way; does not check CRCs.
 */
export function splitBatches(buf: Buffer, options: SplitBatchesOptions = {}): SplitBatchesResult {
  const batches: RecordBatchHeader[] = [];
  let truncated: TruncatedBatch | null = null;
  let pos = 0;
  while (pos < buf.length) {
    const available = buf.length - pos;
    const size = checkFraming(buf, pos, available);
    if (size !== null && options.maxBatchSize !== undefined && size > options.maxBatchSize) {
      throw new RecordBatchError(
        "MESSAGE_TOO_LARGE",
        `batch at byte ${pos} of ${size} bytes is larger than the ${options.maxBatchSize}-byte limit`,
      );
    }
    if (size === null || size > available) {
      truncated = { pos, available, size };
      break;
    }
    batches.push(new RecordBatchHeader(buf, pos));
    pos += size;
  }
  if (truncated !== null && !options.allowTruncated) {
    throw new RecordBatchError(
      "CORRUPT_MESSAGE",
      `batch at byte ${truncated.pos} is cut short: ${truncated.available} of ` +
        `${truncated.size ?? "at least " + LOG_OVERHEAD} bytes present`,
    );
  }
  return { batches, truncated };
}

/**
 * Sets the base offset in place: the broker assigns offsets on append by rewriting
 * this one field (records hold only deltas). Outside the CRC, so the CRC stays valid.
 */
export function setBaseOffset(buf: Buffer, pos: number, offset: bigint): void {
  readBatchHeader(buf, pos);
  buf.writeBigInt64BE(offset, pos + BASE_OFFSET_OFFSET);
}

/** Sets the partition leader epoch in place (outside the CRC, which stays valid). */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  readBatchHeader(buf, pos);
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Stamps the batch with the broker's append time, for topics with
 * message.timestamp.type=LogAppendTime: sets the timestamp-type bit and maxTimestamp
 * (readers then use maxTimestamp for every record) and recomputes the CRC, which
 * covers both fields. Record timestamps are left alone, as Kafka does.
 */
export function setLogAppendTime(buf: Buffer, pos: number, timestamp: bigint): void {
  setMaxTimestamp(buf, pos, TimestampType.LOG_APPEND_TIME, timestamp);
}

/**
 * Sets the timestamp type and maxTimestamp, recomputing the CRC; leaves the batch
 * (and its CRC) untouched when both already hold. Returns whether anything changed.
 * A broker uses this with CREATE_TIME to correct a producer's wrong maxTimestamp.
 */
export function setMaxTimestamp(
  buf: Buffer,
  pos: number,
  type: TimestampType,
  maxTimestamp: bigint,
): boolean {
  const header = readBatchHeader(buf, pos);
  const end = completeEnd(header);
  if (header.timestampType === type && header.maxTimestamp === maxTimestamp) return false;
  const attributes = header.attributes & ~TIMESTAMP_TYPE_MASK;
  buf.writeUInt16BE(
    type === TimestampType.LOG_APPEND_TIME ? attributes | TIMESTAMP_TYPE_MASK : attributes,
    pos + ATTRIBUTES_OFFSET,
  );
  buf.writeBigInt64BE(maxTimestamp, pos + MAX_TIMESTAMP_OFFSET);
  writeCrc(buf, pos, end);
  return true;
}

/** Recomputes and stores the CRC of the complete batch at `pos` (after header edits). */
export function updateCrc(buf: Buffer, pos = 0): void {
  writeCrc(buf, pos, completeEnd(readBatchHeader(buf, pos)));
}

function writeCrc(buf: Buffer, pos: number, end: number): void {
  buf.writeUInt32BE(crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, end)) >>> 0, pos + CRC_OFFSET);
}
