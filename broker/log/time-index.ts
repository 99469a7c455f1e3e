// Kafka's time index (<base offset>.timeindex): 12-byte entries of
//   timestamp int64 | relativeOffset int32
// An entry (t, o) says: up to and including the batch ending at offset o, the largest
// timestamp is t. Entries are added alongside offset index entries, and only when
// the largest timestamp grew, so timestamps strictly increase along the file.
import { IndexFile, countBelow, grow, largestLowerBound } from "./index-file.ts";

export const TIME_INDEX_ENTRY_SIZE = 12;
/** Kafka's "no timestamp" (RecordBatch.NO_TIMESTAMP). */
export const NO_TIMESTAMP = -1;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  private timestamps = new Float64Array(16);
  private relOffsets = new Int32Array(16);

  static async open(path: string, baseOffset: number, maxIndexSize: number): Promise<TimeIndex> {
    const { fh, existed } = await IndexFile.openFile(path);
    return new TimeIndex(path, fh, existed, baseOffset, maxIndexSize, TIME_INDEX_ENTRY_SIZE);
  }

  /** One slot stays free for the entry a segment adds when it is rolled (as in Kafka). */
  override get isFull(): boolean {
    return this.count >= this.maxEntries - 1;
  }

  protected decode(buf: Buffer): number {
    const n = buf.length / TIME_INDEX_ENTRY_SIZE;
    this.timestamps = new Float64Array(Math.max(16, n));
    this.relOffsets = new Int32Array(Math.max(16, n));
    let count = 0;
    for (let i = 0; i < n; i++) {
      const ts = Number(buf.readBigInt64BE(i * 12));
      const rel = buf.readInt32BE(i * 12 + 8);
      if (i > 0 && ts === 0 && rel === 0) {
        if (!IndexFile.isZero(buf, i * 12)) throw this.corrupt(`non-zero bytes after the zero entry ${i}`);
        break;
      }
      if (rel < 0) throw this.corrupt(`entry ${i} has a negative relative offset ${rel}`);
      if (i > 0 && (ts <= this.timestamps[i - 1] || rel < this.relOffsets[i - 1])) {
        throw this.corrupt(
          `entry ${i} (timestamp ${ts}, offset ${this.baseOffset + rel}) does not follow ` +
            `(${this.timestamps[i - 1]}, ${this.baseOffset + this.relOffsets[i - 1]})`,
        );
      }
      this.timestamps[i] = ts;
      this.relOffsets[i] = rel;
      count++;
    }
    return count;
  }

  protected encode(from: number, to: number): Buffer {
    const buf = Buffer.allocUnsafe((to - from) * TIME_INDEX_ENTRY_SIZE);
    for (let i = from; i < to; i++) {
      buf.writeBigInt64BE(BigInt(this.timestamps[i]), (i - from) * 12);
      buf.writeInt32BE(this.relOffsets[i], (i - from) * 12 + 8);
    }
    return buf;
  }

  entry(i: number): TimestampOffset {
    if (i < 0 || i >= this.count) throw new RangeError(`entry ${i} of ${this.count}`);
    return { timestamp: this.timestamps[i], offset: this.baseOffset + this.relOffsets[i] };
  }

  /** The last entry, or (NO_TIMESTAMP, baseOffset) when empty. */
  get lastEntry(): TimestampOffset {
    return this.count === 0
      ? { timestamp: NO_TIMESTAMP, offset: this.baseOffset }
      : this.entry(this.count - 1);
  }

  /**
   * The entry with the largest timestamp <= target, or (NO_TIMESTAMP, baseOffset):
   * every batch up to its offset is older than or as old as `target`, so a search for
   * the first batch at or after `target` can start there.
   */
  lookup(target: number): TimestampOffset {
    const slot = largestLowerBound(this.count, (i) => this.timestamps[i], target);
    return slot < 0 ? { timestamp: NO_TIMESTAMP, offset: this.baseOffset } : this.entry(slot);
  }

  /**
   * Adds (timestamp, offset) if the timestamp is larger than the last entry's, as
   * Kafka's maybeAppend does. `skipFullCheck` is for the final entry written when the
   * segment is rolled or closed, which the reserved slot makes room for.
   */
  maybeAppend(timestamp: number, offset: number, skipFullCheck = false): void {
    if (!skipFullCheck && this.isFull)
      throw new Error(`${this.path}: time index is full (${this.count} entries)`);
    const last = this.lastEntry;
    if (this.count > 0 && offset < last.offset) {
      throw new RangeError(`${this.path}: offset ${offset} is below the last entry's ${last.offset}`);
    }
    if (this.count > 0 && timestamp < last.timestamp) {
      throw new RangeError(
        `${this.path}: timestamp ${timestamp} is below the last entry's ${last.timestamp}`,
      );
    }
    if (timestamp <= last.timestamp) return;
    if (this.count >= this.maxEntries) return; // only reachable with skipFullCheck on a full file
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff) {
      throw new RangeError(
        `${this.path}: offset ${offset} does not fit an index based at ${this.baseOffset}`,
      );
    }
    this.timestamps = grow(this.timestamps, this.count + 1, this.count, (n) => new Float64Array(n));
    this.relOffsets = grow(this.relOffsets, this.count + 1, this.count, (n) => new Int32Array(n));
    this.timestamps[this.count] = timestamp;
    this.relOffsets[this.count] = rel;
    this.count++;
  }

  /** Removes the entries for offsets >= `offset`. */
  async truncateTo(offset: number): Promise<void> {
    await this.truncateToEntries(countBelow(this.count, (i) => this.relOffsets[i], offset - this.baseOffset));
  }
}
