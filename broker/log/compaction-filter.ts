// What log compaction keeps of one record batch, Kafka's cleaner rules:
//   - a record is kept if no later record with its key is in the offset map, or if
//     it lies past what the map covers; records without a key are dropped;
//   - a tombstone (null value) is kept until its batch's delete horizon has passed
//     (KIP-534): the first clean that keeps a tombstone stamps the batch with
//     horizon = now + delete.retention.ms, a clean after that drops it;
//   - a batch left without records disappears, except the last batch of a producer
//     the broker still tracks (its header carries the producer's epoch and last
//     sequence, which rebuilding the producer state needs) and the batch ending
//     where this clean stops; those stay as empty batches;
//   - control batches (transaction markers) stay whole: transactions are not
//     implemented yet, so no marker can be shown to be unneeded.
// A kept batch keeps its base and last offset, producer id, epoch and base sequence,
// partition leader epoch, timestamp type, attributes and codec; when nothing in it
// changes it is copied byte for byte.
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  Compression,
  DELETE_HORIZON_MASK,
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
  RECORD_COUNT_OFFSET,
  TimestampType,
  buildRecordBatch,
  iterateRecords,
  updateCrc,
  type CompressionType,
  type KafkaRecord,
  type RecordBatchHeader,
} from "../../protocol/records/index.ts";
import { lastOffsetOf } from "./file-records.ts";
import type { OffsetMap } from "./offset-map.ts";

export interface CompactionContext {
  /** Key -> latest offset over the dirty section; records past its latestOffset are all kept. */
  map: OffsetMap;
  /** The clean's clock (ms): delete horizons are set from and compared with it. */
  now: number;
  /** delete.retention.ms */
  deleteRetentionMs: number;
  /** Producer id -> the last offset it wrote (see Log.lastOffsetsOfProducers). */
  lastOffsetOfProducer: ReadonlyMap<bigint, number>;
  /** Where this clean stops (exclusive): the batch ending just before it is never removed. */
  upperBoundOffset: number;
}

export interface FilteredBatch {
  /** The batch to write: the original bytes, or a rebuilt or emptied copy. */
  bytes: Buffer;
  /** Whether bytes differ from the original. */
  rewritten: boolean;
  recordsRead: number;
  recordsKept: number;
  /** The batch's delete horizon when it keeps tombstones (a later clean can drop them then), else null. */
  tombstoneHorizon: number | null;
}

/**
 * Applies the rules above to one complete, CRC-checked batch. Returns null when the
 * batch goes entirely. Throws RecordBatchError when its records do not decode.
 */
export function filterBatch(batch: RecordBatchHeader, ctx: CompactionContext): FilteredBatch | null {
  if (batch.isControl) {
    return {
      bytes: batch.bytes(),
      rewritten: false,
      recordsRead: batch.recordCount,
      recordsKept: batch.recordCount,
      tombstoneHorizon: null,
    };
  }
  const last = lastOffsetOf(batch);
  const horizon = batch.deleteHorizon === null ? null : Number(batch.deleteHorizon);
  const dropTombstones = horizon !== null && ctx.now >= horizon;
  const { map } = ctx;
  const kept: KafkaRecord[] = [];
  let read = 0;
  let tombstones = false;
  for (const record of iterateRecords(batch)) {
    read++;
    const offset = Number(record.offset);
    let keep: boolean;
    if (offset > map.latestOffset) keep = true;
    else if (record.key === null) keep = false;
    else keep = offset >= map.get(record.key) && (record.value !== null || !dropTombstones);
    if (!keep) continue;
    kept.push(record);
    if (record.value === null) tombstones = true;
  }

  if (kept.length === 0) {
    const producerId = batch.producerId;
    const lastOfProducer = producerId >= 0n && ctx.lastOffsetOfProducer.get(producerId) === last;
    if (!lastOfProducer && last + 1 !== ctx.upperBoundOffset) return null;
    return {
      bytes: emptyCopy(batch),
      rewritten: true,
      recordsRead: read,
      recordsKept: 0,
      tombstoneHorizon: null,
    };
  }
  const newHorizon = tombstones && horizon === null ? ctx.now + ctx.deleteRetentionMs : null;
  const tombstoneHorizon = tombstones ? (newHorizon ?? horizon) : null;
  if (kept.length === read && newHorizon === null) {
    return { bytes: batch.bytes(), rewritten: false, recordsRead: read, recordsKept: read, tombstoneHorizon };
  }
  const effectiveHorizon = newHorizon ?? horizon;
  const logAppendTime = batch.timestampType === TimestampType.LOG_APPEND_TIME;
  const bytes = buildRecordBatch({
    records: kept.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: Number(r.offset - batch.baseOffset),
    })),
    baseOffset: batch.baseOffset,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    compression: batch.compression as CompressionType,
    timestampType: batch.timestampType,
    // LogAppendTime batches keep the broker's append time as their max timestamp.
    timestamp: logAppendTime ? batch.maxTimestamp : undefined,
    transactional: batch.isTransactional,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    // The original last offset stays, so the producer's last sequence (base + delta) does too.
    lastOffsetDelta: batch.lastOffsetDelta,
    deleteHorizon: effectiveHorizon === null ? undefined : BigInt(effectiveHorizon),
  });
  return { bytes, rewritten: true, recordsRead: read, recordsKept: kept.length, tombstoneHorizon };
}

/**
 * The batch's header with no records (as Kafka writes a retained empty batch):
 * same offsets, producer fields, leader epoch and max timestamp, uncompressed.
 */
function emptyCopy(batch: RecordBatchHeader): Buffer {
  const out = Buffer.from(batch.buf.subarray(batch.pos, batch.pos + RECORD_BATCH_HEADER_SIZE));
  out.writeInt32BE(RECORD_BATCH_HEADER_SIZE - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  const attributes = batch.attributes & ~(COMPRESSION_MASK | DELETE_HORIZON_MASK);
  out.writeUInt16BE(attributes | Compression.NONE, ATTRIBUTES_OFFSET);
  out.writeBigInt64BE(batch.maxTimestamp, BASE_TIMESTAMP_OFFSET);
  out.writeInt32BE(0, RECORD_COUNT_OFFSET);
  updateCrc(out, 0);
  return out;
}
