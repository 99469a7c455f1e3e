// Kafka's sparse offset index (<base offset>.index): 8-byte entries of
//   relativeOffset int32 (offset - segment base offset) | position int32 (byte in the .log)
// An entry (o, p) says: the batch starting at byte p ends at offset o. Entries are
// added every index.interval.bytes of appended batches, so finding an offset means a
// binary search here and then a short scan of batch headers in the .log file.
import { IndexFile, countBelow, grow, largestLowerBound } from "./index-file.ts";

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  private relOffsets = new Int32Array(16);
  private positions = new Int32Array(16);

  /** Opens (or creates) the index file; call load() to read existing entries. */
  static async open(path: string, baseOffset: number, maxIndexSize: number): Promise<OffsetIndex> {
    const { fh, existed } = await IndexFile.openFile(path);
    return new OffsetIndex(path, fh, existed, baseOffset, maxIndexSize, OFFSET_INDEX_ENTRY_SIZE);
  }

  protected decode(buf: Buffer): number {
    const n = buf.length / OFFSET_INDEX_ENTRY_SIZE;
    this.relOffsets = new Int32Array(Math.max(16, n));
    this.positions = new Int32Array(Math.max(16, n));
    let count = 0;
    for (let i = 0; i < n; i++) {
      const rel = buf.readInt32BE(i * 8);
      const pos = buf.readInt32BE(i * 8 + 4);
      // A preallocated file left by a crash ends in zeros; (0, 0) after the first entry can only be that.
      if (i > 0 && rel === 0 && pos === 0) {
        if (!IndexFile.isZero(buf, i * 8)) throw this.corrupt(`non-zero bytes after the zero entry ${i}`);
        break;
      }
      if (rel < 0 || pos < 0)
        throw this.corrupt(`entry ${i} has a negative offset or position (${rel}, ${pos})`);
      if (i > 0 && (rel <= this.relOffsets[i - 1] || pos <= this.positions[i - 1])) {
        throw this.corrupt(
          `entry ${i} (offset ${this.baseOffset + rel}, position ${pos}) does not follow ` +
            `(${this.baseOffset + this.relOffsets[i - 1]}, ${this.positions[i - 1]})`,
        );
      }
      this.relOffsets[i] = rel;
      this.positions[i] = pos;
      count++;
    }
    return count;
  }

  protected encode(from: number, to: number): Buffer {
    const buf = Buffer.allocUnsafe((to - from) * OFFSET_INDEX_ENTRY_SIZE);
    for (let i = from; i < to; i++) {
      buf.writeInt32BE(this.relOffsets[i], (i - from) * 8);
      buf.writeInt32BE(this.positions[i], (i - from) * 8 + 4);
    }
    return buf;
  }

  entry(i: number): OffsetPosition {
    if (i < 0 || i >= this.count) throw new RangeError(`entry ${i} of ${this.count}`);
    return { offset: this.baseOffset + this.relOffsets[i], position: this.positions[i] };
  }

  /** The last entry's offset, or the base offset when empty. */
  get lastOffset(): number {
    return this.count === 0 ? this.baseOffset : this.baseOffset + this.relOffsets[this.count - 1];
  }

  /** The last entry's position, or 0 when empty. */
  get lastPosition(): number {
    return this.count === 0 ? 0 : this.positions[this.count - 1];
  }

  /**
   * The entry with the largest offset <= target: where to start scanning for the
   * batch holding `target`. (baseOffset, 0) if no entry is that small.
   */
  lookup(target: number): OffsetPosition {
    const slot = largestLowerBound(this.count, (i) => this.relOffsets[i], target - this.baseOffset);
    return slot < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(slot);
  }

  /** Whether `offset` fits in an entry: relative to the base offset, within int32. */
  canAppendOffset(offset: number): boolean {
    const rel = offset - this.baseOffset;
    return rel >= 0 && rel <= 0x7fffffff;
  }

  /** Adds an entry in memory (persist() writes it); offsets and positions must increase. */
  append(offset: number, position: number): void {
    if (this.isFull) throw new Error(`${this.path}: index is full (${this.count} entries)`);
    if (!this.canAppendOffset(offset)) {
      throw new RangeError(
        `${this.path}: offset ${offset} does not fit an index based at ${this.baseOffset}`,
      );
    }
    const rel = offset - this.baseOffset;
    if (
      this.count > 0 &&
      (rel <= this.relOffsets[this.count - 1] || position <= this.positions[this.count - 1])
    ) {
      throw new RangeError(
        `${this.path}: entry (${offset}, ${position}) does not follow (${this.lastOffset}, ${this.lastPosition})`,
      );
    }
    this.relOffsets = grow(this.relOffsets, this.count + 1, this.count, (n) => new Int32Array(n));
    this.positions = grow(this.positions, this.count + 1, this.count, (n) => new Int32Array(n));
    this.relOffsets[this.count] = rel;
    this.positions[this.count] = position;
    this.count++;
  }

  /** Removes the entries for offsets >= `offset`. */
  async truncateTo(offset: number): Promise<void> {
    await this.truncateToEntries(countBelow(this.count, (i) => this.relOffsets[i], offset - this.baseOffset));
  }
}
