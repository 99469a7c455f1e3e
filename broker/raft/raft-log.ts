// The replicated log of the metadata quorum: the `__cluster_metadata-0` partition log
// plus its snapshots, seen as one sequence of entries (the snapshot stands for
// everything before the log start). What Raft needs of it: appends by the leader (its
// epoch stamped into each batch) and by followers (offsets and epochs kept as the
// leader wrote them), the epoch history that tells where a follower's log diverges
// from the leader's, truncation, and snapshots that let the log start move forward.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../lib/logger.ts";
import { DEFAULT_LOG_CONFIG, Log } from "../log/log.ts";
import { readFileIfExists, writeFileAtomically } from "../log/atomic-file.ts";
import { appendReplicated } from "../replication/follower-append.ts";
import {
  type SnapshotId,
  deleteSnapshot,
  listSnapshots,
  readSnapshotValues,
  writeSnapshot,
} from "./snapshot-files.ts";

export const METADATA_TOPIC = "__cluster_metadata";
/** Kafka's fixed topic id of the metadata topic (Uuid.METADATA_TOPIC_ID: 0, 1). */
export const METADATA_TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";
const HIGH_WATERMARK_FILE = "high-watermark-checkpoint";
/** Metadata batches may be larger than ordinary messages (Kafka allows 8 MiB). */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

export interface OffsetAndEpoch {
  endOffset: number;
  epoch: number;
}

/** Whether a follower's fetch position is on the leader's log. */
export type FetchValidation =
  | { kind: "valid" }
  | { kind: "diverging"; epoch: number; endOffset: number }
  | { kind: "snapshot"; id: SnapshotId };

export class RaftLog {
  readonly dir: string;
  private readonly log: Log;
  private readonly logger: Logger;
  /** Complete snapshots, oldest first. */
  private snapshots: SnapshotId[];

  private constructor(dir: string, log: Log, snapshots: SnapshotId[], logger: Logger) {
    this.dir = dir;
    this.log = log;
    this.snapshots = snapshots;
    this.logger = logger;
  }

  /** Opens (creating if needed) `<metadataLogDir>/__cluster_metadata-0`. */
  static async open(
    metadataLogDir: string,
    logger: Logger,
    opts: { segmentBytes?: number } = {},
  ): Promise<RaftLog> {
    const dir = path.join(metadataLogDir, `${METADATA_TOPIC}-0`);
    await mkdir(dir, { recursive: true });
    const snapshots = await listSnapshots(dir);
    const latest = snapshots.at(-1) ?? null;
    const log = await Log.open(
      dir,
      {
        ...DEFAULT_LOG_CONFIG,
        "retention.ms": -1,
        "retention.bytes": -1,
        "flush.messages": 1,
        "max.message.bytes": MAX_BATCH_BYTES,
        "file.delete.delay.ms": 1000,
        ...(opts.segmentBytes ? { "segment.bytes": opts.segmentBytes } : {}),
      },
      { logger },
    );
    const raftLog = new RaftLog(dir, log, snapshots, logger);
    if (latest) await raftLog.alignStartWithSnapshot(latest);
    return raftLog;
  }

  /** The log starts where the latest snapshot ends (a crash may have come between the two). */
  private async alignStartWithSnapshot(latest: SnapshotId): Promise<void> {
    if (this.log.logEndOffset < latest.endOffset || this.log.logStartOffset > latest.endOffset) {
      await this.log.truncateFullyAndStartAt(latest.endOffset);
    } else if (this.log.logStartOffset < latest.endOffset) {
      await this.log.deleteRecordsBefore(latest.endOffset);
    }
  }

  get endOffset(): number {
    return this.log.logEndOffset;
  }

  get startOffset(): number {
    return this.log.logStartOffset;
  }

  get latestSnapshot(): SnapshotId | null {
    return this.snapshots.at(-1) ?? null;
  }

  hasSnapshot(id: SnapshotId): boolean {
    return this.snapshots.some((s) => s.endOffset === id.endOffset && s.epoch === id.epoch);
  }

  /** The epoch history of the whole sequence: the snapshot's epoch first, then the log's. */
  private epochEntries(): Array<{ epoch: number; startOffset: number }> {
    const entries = [...this.log.leaderEpochEntries];
    const snap = this.latestSnapshot;
    if (snap && snap.endOffset > 0 && (entries.length === 0 || entries[0].epoch > snap.epoch)) {
      entries.unshift({ epoch: snap.epoch, startOffset: 0 });
    }
    return entries;
  }

  /** The epoch of the last entry (the log's, else the snapshot's), -1 for an empty log. */
  lastEpoch(): number {
    return this.epochEntries().at(-1)?.epoch ?? -1;
  }

  /** The epoch the entry at `offset` belongs to (offset < endOffset), -1 if unknown. */
  epochOf(offset: number): number {
    let epoch = -1;
    for (const e of this.epochEntries()) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /**
   * Where `epoch` ends in this log: the largest epoch <= `epoch` it holds and the offset
   * after that epoch's last entry (the log end for the latest epoch). Epoch -1 with end
   * 0 when it holds nothing of `epoch` or before.
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    const entries = this.epochEntries();
    let i = -1;
    for (let j = 0; j < entries.length && entries[j].epoch <= epoch; j++) i = j;
    if (i < 0) return { epoch: -1, endOffset: entries.length > 0 ? entries[0].startOffset : 0 };
    const end = i + 1 < entries.length ? entries[i + 1].startOffset : this.endOffset;
    return { epoch: entries[i].epoch, endOffset: end };
  }

  /**
   * The leader's check of a follower's position (fetchOffset, lastFetchedEpoch): valid
   * if the leader has the same entry there; diverging, with where the leader's copy of
   * that epoch ends, if not; a snapshot id if the position is below the log start.
   */
  validateFetchPosition(fetchOffset: number, lastFetchedEpoch: number): FetchValidation {
    const snap = this.latestSnapshot;
    const start = this.startOffset;
    if (fetchOffset === 0 && lastFetchedEpoch < 0) {
      return start > 0 && snap ? { kind: "snapshot", id: snap } : { kind: "valid" };
    }
    if (snap && (fetchOffset < start || (fetchOffset === start && lastFetchedEpoch !== snap.epoch))) {
      return { kind: "snapshot", id: snap };
    }
    const end = this.endOffsetForEpoch(lastFetchedEpoch);
    if (end.epoch < 0 && snap) return { kind: "snapshot", id: snap };
    if (end.epoch !== lastFetchedEpoch || end.endOffset < fetchOffset) {
      // Epoch -1 would read as "no divergence": a follower with nothing in common truncates to 0.
      return {
        kind: "diverging",
        epoch: Math.max(end.epoch, 0),
        endOffset: end.epoch < 0 ? 0 : end.endOffset,
      };
    }
    return { kind: "valid" };
  }

  /** Appends one batch the leader built, stamped with its epoch; returns its offsets. */
  async appendAsLeader(batch: Buffer, epoch: number): Promise<{ baseOffset: number; lastOffset: number }> {
    const r = await this.log.append(batch, {
      leaderEpoch: epoch,
      timestampType: "CreateTime",
      now: Date.now(),
    });
    return { baseOffset: r.firstOffset, lastOffset: r.lastOffset };
  }

  /** Appends batches fetched from the leader as it wrote them (offsets and epochs kept). */
  appendAsFollower(records: Buffer): Promise<number> {
    return appendReplicated(this.log, records, MAX_BATCH_BYTES);
  }

  /** Whole batches from `offset`, at most `maxBytes` (the first batch whole), below `maxOffset`. */
  async read(offset: number, maxBytes: number, maxOffset?: number): Promise<Buffer> {
    const r = await this.log.read(offset, maxBytes, { maxOffset, minOneBatch: true });
    return r.records;
  }

  /** Removes entries from `offset` on. */
  async truncateTo(offset: number): Promise<void> {
    if (offset < this.startOffset) throw new Error(`cannot truncate to ${offset}, below the log start`);
    if (await this.log.truncateTo(offset)) this.logger.info("truncated the metadata log", { offset });
  }

  /**
   * Truncates after the leader said our copy of `divergence.epoch` should end at
   * `divergence.endOffset`: to that, or earlier if our own copy of the epoch ends
   * earlier (what follows it here is from an epoch the leader does not have).
   */
  async truncateToDivergence(divergence: OffsetAndEpoch): Promise<number> {
    const own = this.endOffsetForEpoch(divergence.epoch);
    const target = Math.max(this.startOffset, Math.min(own.endOffset, divergence.endOffset, this.endOffset));
    await this.truncateTo(target);
    return target;
  }

  /**
   * Writes a snapshot of the state at `endOffset` (the state machine's records), then
   * moves the log start to it and drops older snapshots.
   */
  async createSnapshot(
    endOffset: number,
    values: Iterable<Buffer>,
    lastTimestamp: number,
  ): Promise<SnapshotId> {
    if (endOffset > this.endOffset || endOffset <= this.startOffset) {
      throw new Error(`no snapshot at ${endOffset}: the log holds ${this.startOffset}..${this.endOffset}`);
    }
    const id = { endOffset, epoch: this.epochOf(endOffset - 1) };
    await writeSnapshot(this.dir, id, values, lastTimestamp);
    this.snapshots.push(id);
    await this.log.deleteRecordsBefore(endOffset);
    await this.dropSnapshotsBefore(id);
    this.logger.info("metadata snapshot written", { endOffset, epoch: id.epoch, logStart: this.startOffset });
    return id;
  }

  /** Adopts a snapshot received from the leader: the log restarts empty at its end. */
  async installSnapshot(id: SnapshotId): Promise<void> {
    this.snapshots.push(id);
    this.snapshots.sort((a, b) => a.endOffset - b.endOffset);
    await this.log.truncateFullyAndStartAt(id.endOffset);
    await this.dropSnapshotsBefore(id);
    this.logger.info("installed a metadata snapshot from the leader", {
      endOffset: id.endOffset,
      epoch: id.epoch,
    });
  }

  private async dropSnapshotsBefore(id: SnapshotId): Promise<void> {
    for (const s of this.snapshots.filter((s) => s.endOffset < id.endOffset))
      await deleteSnapshot(this.dir, s);
    this.snapshots = this.snapshots.filter((s) => s.endOffset >= id.endOffset);
  }

  readSnapshot(id: SnapshotId): Promise<Buffer[]> {
    return readSnapshotValues(this.dir, id);
  }

  /** The high watermark last recorded here (everything below it is committed), 0 if none. */
  async readHighWatermark(): Promise<number> {
    const text = await readFileIfExists(path.join(this.dir, HIGH_WATERMARK_FILE));
    const n = text === null ? 0 : Number(text.trim());
    return Number.isSafeInteger(n) && n > 0 ? Math.min(n, this.endOffset) : 0;
  }

  async writeHighWatermark(hw: number): Promise<void> {
    await writeFileAtomically(path.join(this.dir, HIGH_WATERMARK_FILE), `${hw}\n`);
  }

  async flush(): Promise<void> {
    await this.log.flush();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
