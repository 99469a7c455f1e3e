// The partition's leader epoch history: for each leader epoch, the first offset
// written in it. Followers and consumers ask "where does epoch N end?"
// (OffsetForLeaderEpoch) to find where their copy diverges from the leader's.
// Persisted as Kafka's leader-epoch-checkpoint file ("epoch startOffset" lines).
import path from "node:path";
import { readCheckpointFile, writeCheckpointFile } from "./checkpoints.ts";
import { LEADER_EPOCH_CHECKPOINT_FILE } from "./file-names.ts";

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/** Kafka's answers for an epoch it cannot place. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

export class LeaderEpochFileCache {
  readonly file: string;
  /** Ascending by epoch and by start offset. */
  private entries: EpochEntry[];

  private constructor(file: string, entries: EpochEntry[]) {
    this.file = file;
    this.entries = entries;
  }

  /** Reads the partition's checkpoint (empty if missing); throws MalformedCheckpointError if unreadable. */
  static async load(dir: string): Promise<LeaderEpochFileCache> {
    const file = path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    const read = await readCheckpointFile(file, (fields) => {
      if (fields.length !== 2 || !/^\d+$/.test(fields[0]) || !/^\d+$/.test(fields[1])) return null;
      return { epoch: Number(fields[0]), startOffset: Number(fields[1]) };
    });
    const cache = new LeaderEpochFileCache(file, []);
    for (const e of read ?? []) cache.assign(e.epoch, e.startOffset);
    return cache;
  }

  /** An empty cache for `dir` (nothing is written until flush()). */
  static empty(dir: string): LeaderEpochFileCache {
    return new LeaderEpochFileCache(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), []);
  }

  get epochEntries(): readonly EpochEntry[] {
    return this.entries;
  }

  get latestEntry(): EpochEntry | null {
    return this.entries.at(-1) ?? null;
  }

  get latestEpoch(): number | null {
    return this.latestEntry?.epoch ?? null;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Entries the new one contradicts
   * (an epoch as high or higher, or a start offset as late or later) are dropped
   * first, as Kafka does. Returns whether anything changed (then flush()).
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0 || startOffset < 0)
      throw new RangeError(`cannot assign epoch ${epoch} at offset ${startOffset}`);
    const latest = this.latestEntry;
    if (latest !== null && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    while (this.entries.length > 0) {
      const last = this.entries[this.entries.length - 1];
      if (last.epoch < epoch && last.startOffset < startOffset) break;
      this.entries.pop();
    }
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** The epoch the record at `offset` was written in, or null if before the first known epoch. */
  epochForOffset(offset: number): number | null {
    let previous: number | null = null;
    for (const { epoch, startOffset } of this.entries) {
      if (startOffset === offset) return epoch;
      if (startOffset > offset) return previous;
      previous = epoch;
    }
    return previous;
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer: the largest epoch <= `requested` we know and
   * the offset where the next epoch starts (the log end offset for the latest epoch).
   */
  endOffsetFor(requested: number, logEndOffset: number): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requested === UNDEFINED_EPOCH) return undefinedAnswer;
    const latest = this.latestEntry;
    if (latest !== null && latest.epoch === requested) return { epoch: requested, endOffset: logEndOffset };
    const higher = this.entries.findIndex((e) => e.epoch > requested);
    if (higher < 0) return undefinedAnswer;
    // Epochs below the first we know were removed with old segments: answer with the first start we have.
    if (higher === 0) return { epoch: requested, endOffset: this.entries[0].startOffset };
    return { epoch: this.entries[higher - 1].epoch, endOffset: this.entries[higher].startOffset };
  }

  /** Drops the epochs starting at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < endOffset);
    return this.entries.length !== before;
  }

  /**
   * Drops epochs wholly before `startOffset` (the log start moved past them); the
   * epoch in force at `startOffset` is kept, starting there.
   */
  truncateFromStart(startOffset: number): boolean {
    let removed = 0;
    while (removed < this.entries.length && this.entries[removed].startOffset <= startOffset) removed++;
    if (removed === 0) return false;
    const inForce = this.entries[removed - 1];
    if (removed === 1 && inForce.startOffset === startOffset) return false;
    this.entries = [{ epoch: inForce.epoch, startOffset }, ...this.entries.slice(removed)];
    return true;
  }

  clear(): void {
    this.entries = [];
  }

  /** Writes the checkpoint file atomically. */
  async flush(): Promise<void> {
    await writeCheckpointFile(
      this.file,
      this.entries.map((e) => `${e.epoch} ${e.startOffset}`),
    );
  }
}
