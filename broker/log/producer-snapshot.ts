// The file format of producer-state snapshots, <20-digit offset>.snapshot in the
// partition directory: the idempotent producers' state after every batch below
// <offset>. Kafka's own snapshot keeps only each producer's last batch; this one
// keeps all five that duplicate detection looks at, so a restart (clean or not)
// answers a retried batch exactly as the running broker would have. Kafka's tools
// reject the file by its first two bytes (they read a version number) rather than
// misreading it.
//
// Layout, integers big-endian:
//   magic                  4 bytes   "CPPS"
//   version                int16     1
//   crc                    uint32    CRC-32C of every byte after this field
//   producerCount          int32
//   per producer:
//     producerId           int64
//     producerEpoch        int16
//     coordinatorEpoch     int32     -1 (reserved for transactions)
//     currentTxnFirstOffset int64    -1 when no transaction is open
//     lastTimestamp        int64     max timestamp of its last batch
//     batchCount           int8      0..5, oldest first
//     per batch: firstSequence int32 | lastSequence int32 | firstOffset int64 |
//                lastOffset int64 | timestamp int64
import { crc32c } from "@node-rs/crc32";
import { CorruptSnapshotError } from "./errors.ts";

export const SNAPSHOT_MAGIC = Buffer.from("CPPS", "latin1");
export const SNAPSHOT_VERSION = 1;
const HEADER_SIZE = 4 + 2 + 4 + 4;
const PRODUCER_FIXED_SIZE = 8 + 2 + 4 + 8 + 8 + 1;
const BATCH_SIZE = 4 + 4 + 8 + 8 + 8;
/** The most batches per producer a snapshot may carry. */
export const MAX_SNAPSHOT_BATCHES = 127;

export interface SnapshotBatch {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface SnapshotProducer {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  currentTxnFirstOffset: number | null;
  lastTimestamp: number;
  batches: readonly SnapshotBatch[];
}

export function encodeProducerSnapshot(producers: readonly SnapshotProducer[]): Buffer {
  let size = HEADER_SIZE;
  for (const p of producers) size += PRODUCER_FIXED_SIZE + p.batches.length * BATCH_SIZE;
  const buf = Buffer.alloc(size);
  SNAPSHOT_MAGIC.copy(buf, 0);
  buf.writeInt16BE(SNAPSHOT_VERSION, 4);
  let pos = HEADER_SIZE - 4;
  buf.writeInt32BE(producers.length, pos);
  pos += 4;
  for (const p of producers) {
    if (p.batches.length > MAX_SNAPSHOT_BATCHES)
      throw new RangeError(`producer ${p.producerId} has too many batches`);
    buf.writeBigInt64BE(p.producerId, pos);
    buf.writeInt16BE(p.producerEpoch, pos + 8);
    buf.writeInt32BE(p.coordinatorEpoch, pos + 10);
    buf.writeBigInt64BE(BigInt(p.currentTxnFirstOffset ?? -1), pos + 14);
    buf.writeBigInt64BE(BigInt(p.lastTimestamp), pos + 22);
    buf.writeInt8(p.batches.length, pos + 30);
    pos += PRODUCER_FIXED_SIZE;
    for (const b of p.batches) {
      buf.writeInt32BE(b.firstSeq, pos);
      buf.writeInt32BE(b.lastSeq, pos + 4);
      buf.writeBigInt64BE(BigInt(b.firstOffset), pos + 8);
      buf.writeBigInt64BE(BigInt(b.lastOffset), pos + 16);
      buf.writeBigInt64BE(BigInt(b.timestamp), pos + 24);
      pos += BATCH_SIZE;
    }
  }
  buf.writeUInt32BE(crc32c(buf.subarray(HEADER_SIZE - 4)) >>> 0, 6);
  return buf;
}

/** Decodes a snapshot file's bytes; throws CorruptSnapshotError for anything but a valid v1 snapshot. */
export function decodeProducerSnapshot(buf: Buffer): SnapshotProducer[] {
  if (buf.length < HEADER_SIZE || !buf.subarray(0, 4).equals(SNAPSHOT_MAGIC)) {
    throw new CorruptSnapshotError("not a producer-state snapshot (bad magic)");
  }
  const version = buf.readInt16BE(4);
  if (version !== SNAPSHOT_VERSION) throw new CorruptSnapshotError(`unknown snapshot version ${version}`);
  const stored = buf.readUInt32BE(6);
  const actual = crc32c(buf.subarray(HEADER_SIZE - 4)) >>> 0;
  if (stored !== actual) throw new CorruptSnapshotError(`CRC mismatch: stored ${stored}, computed ${actual}`);
  const count = buf.readInt32BE(10);
  if (count < 0 || count > (buf.length - HEADER_SIZE) / PRODUCER_FIXED_SIZE) {
    throw new CorruptSnapshotError(`producer count ${count} does not fit ${buf.length} bytes`);
  }
  const producers: SnapshotProducer[] = [];
  let pos = HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    if (pos + PRODUCER_FIXED_SIZE > buf.length) throw new CorruptSnapshotError(`producer ${i} is cut short`);
    const txnFirst = Number(buf.readBigInt64BE(pos + 14));
    const batchCount = buf.readInt8(pos + 30);
    const producer: SnapshotProducer = {
      producerId: buf.readBigInt64BE(pos),
      producerEpoch: buf.readInt16BE(pos + 8),
      coordinatorEpoch: buf.readInt32BE(pos + 10),
      currentTxnFirstOffset: txnFirst < 0 ? null : txnFirst,
      lastTimestamp: Number(buf.readBigInt64BE(pos + 22)),
      batches: [],
    };
    pos += PRODUCER_FIXED_SIZE;
    if (batchCount < 0 || pos + batchCount * BATCH_SIZE > buf.length) {
      throw new CorruptSnapshotError(`producer ${producer.producerId} has a bad batch count ${batchCount}`);
    }
    const batches: SnapshotBatch[] = [];
    for (let j = 0; j < batchCount; j++) {
      batches.push({
        firstSeq: buf.readInt32BE(pos),
        lastSeq: buf.readInt32BE(pos + 4),
        firstOffset: Number(buf.readBigInt64BE(pos + 8)),
        lastOffset: Number(buf.readBigInt64BE(pos + 16)),
        timestamp: Number(buf.readBigInt64BE(pos + 24)),
      });
      pos += BATCH_SIZE;
    }
    producer.batches = batches;
    producers.push(producer);
  }
  if (pos !== buf.length) throw new CorruptSnapshotError(`${buf.length - pos} bytes after the last producer`);
  return producers;
}
