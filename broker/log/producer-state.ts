// Idempotent-producer state for one partition, as Kafka's ProducerStateManager keeps
// it: per producer id, the current epoch and the metadata of its last five batches.
// On append the log asks, in this order and under its append lock:
//   findDuplicate  - a retried batch already in the log? Answer with its offsets, append nothing.
//   validate       - epoch fenced or sequence out of order? Reject the request.
//   update         - after the write, record the batches.
// The state is snapshotted to <offset>.snapshot at segment roll and clean close, and
// rebuilt on open from the newest snapshot plus the batches written after it.
import { readFile, readdir, rm } from "node:fs/promises";
import type { Logger } from "../../lib/logger.ts";
import { NO_PRODUCER_EPOCH, NO_SEQUENCE, type RecordBatchHeader } from "../../protocol/records/index.ts";
import { writeFileAtomically } from "./atomic-file.ts";
import { CorruptSnapshotError, ProducerStateError } from "./errors.ts";
import { PRODUCER_SNAPSHOT_FILE_SUFFIX, offsetFromFileName, producerSnapshotFilePath } from "./file-names.ts";
import { decodeProducerSnapshot, encodeProducerSnapshot } from "./producer-snapshot.ts";

/** Batches remembered per producer: the most a producer has in flight (max.in.flight.requests.per.connection). */
export const NUM_BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fffffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's max timestamp. */
  timestamp: number;
}

export interface ProducerStateEntry {
  producerId: bigint;
  producerEpoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
  lastTimestamp: number;
  /** Reserved for transactions (not implemented yet): -1 and null. */
  coordinatorEpoch: number;
  currentTxnFirstOffset: number | null;
}

/** What the idempotence checks need of a batch header. */
export interface ProducerBatch {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  lastSequence: number;
  maxTimestamp: number;
}

/** A batch as written, with its offsets. */
export interface AppendedProducerBatch extends ProducerBatch {
  firstOffset: number;
  lastOffset: number;
}

/** The producer fields of a batch header, or null for a batch without a producer id. */
export function producerBatchOf(header: RecordBatchHeader): ProducerBatch | null {
  const producerId = header.producerId;
  if (producerId < 0n) return null;
  return {
    producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    lastSequence: header.lastSequence,
    maxTimestamp: Number(header.maxTimestamp),
  };
}

/** Kafka's sequence successor rule: +1, wrapping from Int32.MAX_VALUE to 0. */
export function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function lastSeqOf(entry: ProducerStateEntry | undefined): number {
  return entry?.batches.at(-1)?.lastSeq ?? NO_SEQUENCE;
}

export class ProducerStateManager {
  readonly dir: string;
  private readonly logger: Logger;
  private producers = new Map<bigint, ProducerStateEntry>();
  /** The state reflects every batch below this offset. */
  private _mapEndOffset = 0;
  private lastSnapOffset = -1;

  constructor(dir: string, logger: Logger) {
    this.dir = dir;
    this.logger = logger;
  }

  get mapEndOffset(): number {
    return this._mapEndOffset;
  }

  get producerCount(): number {
    return this.producers.size;
  }

  lastEntry(producerId: bigint): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  /** All producers, for inspection and snapshots. */
  entries(): IterableIterator<ProducerStateEntry> {
    return this.producers.values();
  }

  /**
   * The cached batch a retried batch duplicates: same producer epoch, same first and
   * last sequence. Only the state before this request counts, as in Kafka.
   */
  findDuplicate(batch: ProducerBatch): BatchMetadata | null {
    const entry = this.producers.get(batch.producerId);
    if (entry === undefined || entry.producerEpoch !== batch.producerEpoch) return null;
    return (
      entry.batches.find((b) => b.firstSeq === batch.baseSequence && b.lastSeq === batch.lastSequence) ?? null
    );
  }

  /**
   * Checks the batches of one request, in order, as Kafka's ProducerAppendInfo does
   * for client appends; each batch is checked against the state the earlier ones
   * would leave. Throws ProducerStateError; changes nothing.
   */
  validate(batches: readonly ProducerBatch[]): void {
    const pending = new Map<bigint, { epoch: number; lastSeq: number }>();
    for (const b of batches) {
      const current = this.producers.get(b.producerId);
      const seen = pending.get(b.producerId);
      const currentEpoch = seen?.epoch ?? current?.producerEpoch ?? NO_PRODUCER_EPOCH;
      if (b.producerEpoch < currentEpoch) {
        throw new ProducerStateError(
          "INVALID_PRODUCER_EPOCH",
          b.producerId,
          `Epoch of producer ${b.producerId} is ${b.producerEpoch}, which is smaller than the last seen epoch ${currentEpoch}`,
        );
      }
      if (b.producerEpoch !== currentEpoch) {
        // A new epoch starts its sequences over (unless we know nothing of this producer).
        if (b.baseSequence !== 0 && currentEpoch !== NO_PRODUCER_EPOCH) {
          throw new ProducerStateError(
            "OUT_OF_ORDER_SEQUENCE_NUMBER",
            b.producerId,
            `Invalid sequence number for new epoch of producer ${b.producerId}: ${b.producerEpoch} (request epoch), ` +
              `${b.baseSequence} (seq. number), ${currentEpoch} (current producer epoch)`,
          );
        }
      } else {
        const lastSeq = seen?.lastSeq ?? lastSeqOf(current);
        if (!inSequence(lastSeq, b.baseSequence)) {
          throw new ProducerStateError(
            "OUT_OF_ORDER_SEQUENCE_NUMBER",
            b.producerId,
            `Out of order sequence number for producer ${b.producerId}: ${b.baseSequence} (incoming seq. number), ` +
              `${lastSeq} (current end sequence number)`,
          );
        }
      }
      pending.set(b.producerId, { epoch: b.producerEpoch, lastSeq: b.lastSequence });
    }
  }

  /** Records a written batch (no checks: also used to replay the log on open). */
  update(batch: AppendedProducerBatch): void {
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined) {
      entry = {
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        batches: [],
        lastTimestamp: batch.maxTimestamp,
        coordinatorEpoch: -1,
        currentTxnFirstOffset: null,
      };
      this.producers.set(batch.producerId, entry);
    }
    if (entry.producerEpoch !== batch.producerEpoch) {
      entry.producerEpoch = batch.producerEpoch;
      entry.batches = [];
    }
    entry.batches.push({
      firstSeq: batch.baseSequence,
      lastSeq: batch.lastSequence,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      timestamp: batch.maxTimestamp,
    });
    if (entry.batches.length > NUM_BATCHES_TO_RETAIN) entry.batches.shift();
    entry.lastTimestamp = batch.maxTimestamp;
  }

  updateMapEndOffset(offset: number): void {
    this._mapEndOffset = offset;
  }

  /**
   * Forgets producers silent for `expirationMs` (producer.id.expiration.ms), judged
   * by their last batch's timestamp as in Kafka. Returns how many were removed.
   */
  removeExpiredProducers(now: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (entry.currentTxnFirstOffset === null && now - entry.lastTimestamp >= expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets everything and deletes every snapshot; the state now starts at `offset`. */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.producers.clear();
    for (const o of await this.snapshotOffsets()) await this.deleteSnapshot(o);
    this._mapEndOffset = offset;
    this.lastSnapOffset = -1;
  }

  /** Writes a snapshot at mapEndOffset, unless one was already written there. */
  async takeSnapshot(): Promise<void> {
    if (this._mapEndOffset <= this.lastSnapOffset) return;
    const producers = [...this.producers.values()].map((e) => ({ ...e, batches: e.batches }));
    await writeFileAtomically(
      producerSnapshotFilePath(this.dir, this._mapEndOffset),
      encodeProducerSnapshot(producers),
    );
    this.lastSnapOffset = this._mapEndOffset;
  }

  /** Offsets of the snapshot files in the directory, ascending. */
  async snapshotOffsets(): Promise<number[]> {
    const names = await readdir(this.dir);
    const offsets: number[] = [];
    for (const name of names) {
      if (!name.endsWith(PRODUCER_SNAPSHOT_FILE_SUFFIX)) continue;
      const offset = offsetFromFileName(name);
      if (offset !== null) offsets.push(offset);
    }
    return offsets.sort((a, b) => a - b);
  }

  /**
   * Replaces the state with the newest readable snapshot at or below `maxOffset`
   * (deleting newer snapshots, which describe a log that no longer exists, and
   * unreadable ones). Returns the snapshot's offset, or null (state emptied) if none.
   */
  async loadLatestSnapshot(maxOffset: number): Promise<number | null> {
    this.producers.clear();
    this.lastSnapOffset = -1;
    const offsets = await this.snapshotOffsets();
    for (const o of offsets) if (o > maxOffset) await this.deleteSnapshot(o);
    const candidates = offsets.filter((o) => o <= maxOffset).reverse();
    for (const offset of candidates) {
      const file = producerSnapshotFilePath(this.dir, offset);
      try {
        const producers = decodeProducerSnapshot(await readFile(file));
        for (const p of producers) this.producers.set(p.producerId, { ...p, batches: [...p.batches] });
        this._mapEndOffset = offset;
        this.lastSnapOffset = offset;
        return offset;
      } catch (e) {
        if (!(e instanceof CorruptSnapshotError)) throw e;
        this.logger.warn("deleting an unreadable producer-state snapshot", { file, problem: e.message });
        await this.deleteSnapshot(offset);
      }
    }
    return null;
  }

  /** Deletes snapshots below `offset` (their segments are gone), always keeping the newest. */
  async deleteSnapshotsBefore(offset: number): Promise<void> {
    const offsets = await this.snapshotOffsets();
    const newest = offsets.at(-1);
    for (const o of offsets) if (o < offset && o !== newest) await this.deleteSnapshot(o);
  }

  /** Deletes snapshots above `offset` (the log was truncated below them). */
  async deleteSnapshotsAfter(offset: number): Promise<void> {
    for (const o of await this.snapshotOffsets()) if (o > offset) await this.deleteSnapshot(o);
    if (this.lastSnapOffset > offset) this.lastSnapOffset = -1;
  }

  /**
   * Deletes snapshots that match no segment base offset, except the newest (taken at
   * clean close, at the log end), as Kafka's removeStraySnapshots does.
   */
  async removeStraySnapshots(segmentBaseOffsets: readonly number[]): Promise<void> {
    const bases = new Set(segmentBaseOffsets);
    const offsets = await this.snapshotOffsets();
    const newest = offsets.at(-1);
    for (const o of offsets) if (!bases.has(o) && o !== newest) await this.deleteSnapshot(o);
  }

  private async deleteSnapshot(offset: number): Promise<void> {
    await rm(producerSnapshotFilePath(this.dir, offset), { force: true });
  }
}
