// One partition's log: a directory <log.dir>/<topic>-<partition>/ of segments in
// Kafka's layout, plus the partition's leader-epoch checkpoint, producer-state
// snapshots and partition.metadata.
//
// Concurrency: everything that changes the log (append, roll, truncation, retention,
// close) runs one at a time on the append queue. Reads do not queue: they see
// segments and sizes that only change once a write has completed, and segments
// dropped by retention or truncation are renamed *.deleted and closed only after
// file.delete.delay.ms and after the reads in flight on them finish.
//
// Durability, as in Kafka: an append is written to the OS (page cache) and is
// acknowledged without fsync; fsync happens per flush.messages / flush.ms, on
// segment roll (in the background) and on clean close. The recovery point is the
// offset below which everything is known to be on disk; after a crash, segments from
// the recovery point on are checked batch by batch and cut at the first torn or
// corrupt batch.
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { createLogger, type Logger } from "../../lib/logger.ts";
import {
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  splitBatches,
} from "../../protocol/records/index.ts";
import { KafkaError } from "../errors.ts";
import { fsyncDir } from "./atomic-file.ts";
import { MalformedCheckpointError } from "./checkpoints.ts";
import { LogStorageError, OffsetOutOfRangeError } from "./errors.ts";
import { CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX, parsePartitionDirName } from "./file-names.ts";
import { LeaderEpochFileCache, type EpochEndOffset, UNDEFINED_EPOCH_OFFSET } from "./leader-epoch-cache.ts";
import {
  DEFAULT_LOG_CONFIG,
  hasDeletePolicy,
  maxSegmentMs,
  type LogConfig,
  type TimestampTypeName,
} from "./log-config.ts";
import { loadSegments, rebuildProducerState } from "./log-loader.ts";
import { LogSegment, type LogSegmentOptions, type TimestampAndOffset } from "./log-segment.ts";
import { readPartitionMetadata, writePartitionMetadata } from "./partition-metadata.ts";
import {
  ProducerStateManager,
  producerBatchOf,
  type BatchMetadata,
  type ProducerBatch,
  type ProducerStateEntry,
} from "./producer-state.ts";
import { SerialQueue } from "./serial-queue.ts";
import { NO_TIMESTAMP } from "./time-index.ts";

export type { LogConfig, TimestampTypeName } from "./log-config.ts";
export { DEFAULT_LOG_CONFIG } from "./log-config.ts";
export type { TimestampAndOffset } from "./log-segment.ts";

/** ListOffsets' special timestamps (Kafka's ListOffsetsRequest constants). */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL_TIMESTAMP = -4;

export interface LogOpenOptions {
  logger?: Logger;
  /** Offset below which the log is known to be fsynced (from recovery-point-offset-checkpoint); default 0. */
  recoveryPoint?: number;
  /** From log-start-offset-checkpoint; default: the first segment's base offset. */
  logStartOffset?: number;
  /** The log dir was shut down cleanly (.kafka_cleanshutdown): skip the batch-by-batch check. */
  hadCleanShutdown?: boolean;
  /** The topic id, when known: checked against partition.metadata, written there if absent. */
  topicId?: string;
  /** Clock in ms (tests); default Date.now. */
  time?: () => number;
}

export interface AppendOptions {
  /** The leader epoch the batches are written in (stamped into each batch). */
  leaderEpoch: number;
  /** The topic's message.timestamp.type; LogAppendTime stamps `now` into each batch. */
  timestampType: TimestampTypeName;
  /** The broker's clock (ms): the append time, and the clock segment.ms is measured with. */
  now: number;
  /**
   * A follower's copy of batches its leader already validated: no duplicate or sequence
   * checks (the leader made them; a follower that started past a producer's first
   * batches could not), only the producer state is brought along.
   */
  replicated?: boolean;
}

export interface LogAppendResult {
  firstOffset: number;
  lastOffset: number;
  /** The append time given to LogAppendTime batches; -1 for CreateTime. */
  logAppendTime: number;
  /** Largest batch max timestamp among the appended batches. */
  maxTimestamp: number;
  /** Last offset of the batch holding maxTimestamp. */
  offsetOfMaxTimestamp: number;
  logStartOffset: number;
  /**
   * Non-null when the batch was a retry of one already in the log (same producer,
   * epoch and sequences): nothing was appended and the offsets above are the original's.
   */
  duplicateOf: BatchMetadata | null;
}

export interface ReadOptions {
  /** Exclusive upper bound (the high watermark or last stable offset); default: the log end. */
  maxOffset?: number;
  /** Return the first batch even if it is larger than maxBytes (KIP-74); default true. */
  minOneBatch?: boolean;
}

export interface LogReadResult {
  /** Whole batches; empty when there is nothing to return. */
  records: Buffer;
  /** The first batch was larger than maxBytes and minOneBatch was off. */
  firstEntryIncomplete: boolean;
  logStartOffset: number;
  logEndOffset: number;
}

const EMPTY: Buffer = Buffer.alloc(0);

export class Log {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  private _config: LogConfig;
  /** Ascending by base offset; replaced, never mutated, so readers can hold on to one. */
  private segments: readonly LogSegment[] = [];
  private _logStartOffset = 0;
  private _recoveryPoint = 0;
  private _topicId: string | null = null;
  private readonly logger: Logger;
  private readonly time: () => number;
  private readonly appendQueue = new SerialQueue();
  private readonly flushQueue = new SerialQueue();
  private readonly producerState: ProducerStateManager;
  private epochCache: LeaderEpochFileCache;
  private unflushedMessages = 0;
  private lastFlushTime: number;
  /** Bumped when segments are replaced or truncated; invalidates cached positions. */
  private generation = 0;
  private maxOffsetCache: {
    offset: number;
    generation: number;
    baseOffset: number;
    position: number;
  } | null = null;
  private readonly pendingDeletions = new Map<LogSegment, ReturnType<typeof setTimeout> | null>();
  private readonly deletionsInFlight = new Set<Promise<void>>();
  private readonly truncationListeners = new Set<(offset: number) => void>();
  private closed = false;
  private failure: Error | null = null;

  private constructor(
    dir: string,
    topic: string,
    partition: number,
    config: LogConfig,
    options: LogOpenOptions,
  ) {
    this.dir = dir;
    this.topic = topic;
    this.partition = partition;
    this._config = { ...config };
    this.logger = (options.logger ?? createLogger("log")).child("partition", {
      partition: `${topic}-${partition}`,
    });
    this.time = options.time ?? Date.now;
    this.lastFlushTime = this.time();
    this.producerState = new ProducerStateManager(dir, this.logger);
    this.epochCache = LeaderEpochFileCache.empty(dir);
  }

  /**
   * Opens (creating if needed) the partition log in `dir`, which must be named
   * <topic>-<partition>. Loads the segments, recovers what may be torn, rebuilds
   * missing or broken indexes and the producer state.
   */
  static async open(
    dir: string,
    config: LogConfig = DEFAULT_LOG_CONFIG,
    options: LogOpenOptions = {},
  ): Promise<Log> {
    const tp = parsePartitionDirName(path.basename(dir));
    if (tp === null) throw new Error(`${dir} is not a partition directory (<topic>-<partition>)`);
    await mkdir(dir, { recursive: true });
    const log = new Log(dir, tp.topic, tp.partition, config, options);
    try {
      await log.load(options);
    } catch (e) {
      await Promise.allSettled(log.segments.map((s) => s.closeHandlers()));
      throw e;
    }
    return log;
  }

  // ---- state ----

  get config(): Readonly<LogConfig> {
    return this._config;
  }

  /** Offset of the first record a reader may ask for. */
  get logStartOffset(): number {
    return this._logStartOffset;
  }

  /** Offset the next appended record will get. */
  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  /** Everything below this offset has been fsynced. */
  get recoveryPoint(): number {
    return this._recoveryPoint;
  }

  get topicId(): string | null {
    return this._topicId;
  }

  /** Bytes in all segments. */
  get size(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  /** Base offset of the oldest segment (the log start offset may be past it, after DeleteRecords). */
  get firstSegmentBaseOffset(): number {
    return this.segments[0].baseOffset;
  }

  get numberOfSegments(): number {
    return this.segments.length;
  }

  /** The segments' base offsets, ascending (for inspection and tests). */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  /**
   * The segments, oldest first, the last one active (for the log cleaner). The
   * array is never mutated: changes replace it, so a holder keeps a consistent view.
   */
  get logSegments(): readonly LogSegment[] {
    return this.segments;
  }

  /** Neither closed nor taken offline by an I/O failure. */
  get isOpen(): boolean {
    return !this.closed && this.failure === null;
  }

  /** Messages appended since the last fsync. */
  get unflushedMessageCount(): number {
    return this.unflushedMessages;
  }

  get latestEpoch(): number | null {
    return this.epochCache.latestEpoch;
  }

  /** The leader-epoch history, (epoch, start offset) ascending. */
  get leaderEpochEntries(): readonly { epoch: number; startOffset: number }[] {
    return this.epochCache.epochEntries;
  }

  /** An idempotent producer's state, for inspection. */
  producerStateOf(producerId: bigint): Readonly<ProducerStateEntry> | undefined {
    return this.producerState.lastEntry(producerId);
  }

  get producerCount(): number {
    return this.producerState.producerCount;
  }

  /**
   * Each known idempotent producer's last written offset (the last offset of its
   * last batch). The log cleaner keeps the batch ending there, emptied if need be,
   * so the producer state can still be rebuilt from the log after compaction.
   */
  lastOffsetsOfProducers(): Map<bigint, number> {
    const out = new Map<bigint, number>();
    for (const entry of this.producerState.entries()) {
      const last = entry.batches.at(-1);
      if (last !== undefined) out.set(entry.producerId, last.lastOffset);
    }
    return out;
  }

  /**
   * Calls `listener` with the offset whenever the log is truncated (its end moves
   * back, or it starts over): the log cleaner abandons a clean in progress and
   * moves its checkpoint back. Returns a function that removes the listener.
   */
  onTruncation(listener: (offset: number) => void): () => void {
    this.truncationListeners.add(listener);
    return () => this.truncationListeners.delete(listener);
  }

  private notifyTruncation(offset: number): void {
    for (const listener of this.truncationListeners) {
      try {
        listener(offset);
      } catch (e) {
        this.logger.warn("a truncation listener failed", { error: String(e) });
      }
    }
  }

  /** New settings; segments created from now on use them (the active segment's index size stays). */
  updateConfig(config: LogConfig): void {
    this._config = { ...config };
  }

  // ---- loading ----

  private segmentOptions(): LogSegmentOptions {
    const jitter = this._config["segment.jitter.ms"];
    return {
      indexIntervalBytes: this._config["index.interval.bytes"],
      maxIndexSize: this._config["segment.index.bytes"],
      rollJitterMs: jitter > 0 ? Math.floor(Math.random() * Math.min(jitter, this._config["segment.ms"])) : 0,
      time: this.time,
      logger: this.logger,
    };
  }

  /** A sane upper bound on a stored batch, for recovery (see recover()). */
  private maxBatchSizeForRecovery(): number {
    // Batches were accepted under max.message.bytes and never exceed a segment; the larger of
    // the two keeps a lowered setting from truncating batches written before it changed.
    return Math.max(this._config["max.message.bytes"], this._config["segment.bytes"], 1024 * 1024);
  }

  private async load(options: LogOpenOptions): Promise<void> {
    const hadCleanShutdown = options.hadCleanShutdown ?? false;
    const recoveryPointCheckpoint = options.recoveryPoint ?? 0;
    const logStartCheckpoint = options.logStartOffset ?? 0;

    await this.loadEpochCache();
    const loaded = await loadSegments({
      dir: this.dir,
      segmentOptions: this.segmentOptions(),
      maxBatchSize: this.maxBatchSizeForRecovery(),
      hadCleanShutdown,
      recoveryPoint: recoveryPointCheckpoint,
      epochCache: this.epochCache,
      logger: this.logger,
    });
    this.segments = loaded.segments;
    let epochsChanged = loaded.epochsChanged;

    const last = this.segments.at(-1);
    if (last !== undefined && last.nextOffset < logStartCheckpoint) {
      // Segment files were removed behind our back; Kafka starts over at the checkpointed start.
      this.logger.warn("deleting all segments: the log ends before the checkpointed log start offset", {
        logEndOffset: last.nextOffset,
        logStartOffset: logStartCheckpoint,
      });
      for (const s of this.segments) await s.delete();
      this.segments = [];
      this.epochCache.clear();
      epochsChanged = true;
      await this.producerState.truncateFullyAndStartAt(logStartCheckpoint);
    }
    if (this.segments.length === 0) {
      this.segments = [await LogSegment.create(this.dir, logStartCheckpoint, this.segmentOptions())];
    }
    await this.activeSegment.makeActive();

    const logEndOffset = this.logEndOffset;
    this._logStartOffset = Math.max(logStartCheckpoint, this.segments[0].baseOffset);
    epochsChanged = this.epochCache.truncateFromEnd(logEndOffset) || epochsChanged;
    epochsChanged = this.epochCache.truncateFromStart(this._logStartOffset) || epochsChanged;
    if (epochsChanged) await this.epochCache.flush();
    // Only a flush moves the recovery point past what the checkpoint said (unless the shutdown was clean).
    this._recoveryPoint = hadCleanShutdown ? logEndOffset : Math.min(recoveryPointCheckpoint, logEndOffset);

    await rebuildProducerState(this.producerState, this.segments, logEndOffset, this.logger);
    await this.producerState.removeStraySnapshots(this.segments.map((s) => s.baseOffset));
    await this.loadTopicId(options.topicId);
    this.logger.debug("loaded log", {
      segments: this.segments.length,
      logStartOffset: this._logStartOffset,
      logEndOffset,
      recoveryPoint: this._recoveryPoint,
    });
  }

  private async loadEpochCache(): Promise<void> {
    try {
      this.epochCache = await LeaderEpochFileCache.load(this.dir);
    } catch (e) {
      if (!(e instanceof MalformedCheckpointError)) throw e;
      this.logger.warn("ignoring an unreadable leader epoch checkpoint", { problem: e.message });
      this.epochCache = LeaderEpochFileCache.empty(this.dir);
    }
  }

  private async loadTopicId(topicId: string | undefined): Promise<void> {
    let stored: string | null = null;
    try {
      stored = await readPartitionMetadata(this.dir);
    } catch (e) {
      if (!(e instanceof MalformedCheckpointError)) throw e;
      this.logger.warn("ignoring an unreadable partition.metadata", { problem: e.message });
    }
    if (stored !== null && topicId !== undefined && stored !== topicId) {
      throw new KafkaError(
        "INCONSISTENT_TOPIC_ID",
        `${this.dir} belongs to topic id ${stored}, not ${topicId}; it is left over from a deleted topic`,
      );
    }
    this._topicId = stored;
    if (topicId !== undefined && stored === null) await this.assignTopicId(topicId);
  }

  /** Records the topic id in partition.metadata (once the topic id is known). */
  async assignTopicId(topicId: string): Promise<void> {
    if (this._topicId === topicId) return;
    if (this._topicId !== null) {
      throw new KafkaError(
        "INCONSISTENT_TOPIC_ID",
        `${this.dir} already belongs to topic id ${this._topicId}`,
      );
    }
    await writePartitionMetadata(this.dir, topicId);
    this._topicId = topicId;
  }

  // ---- appending ----

  /**
   * Appends one or more record batches (magic 2, already validated by the caller)
   * from a Produce request: assigns offsets from the log end by rewriting each
   * batch's base offset in place, stamps the leader epoch (and the append time for
   * LogAppendTime), rolls the segment if needed and writes. Idempotent-producer
   * retries are answered with the original offsets (duplicateOf) and not written.
   *
   * Throws RecordBatchError (MESSAGE_TOO_LARGE, CORRUPT_MESSAGE) for batches that do
   * not frame or exceed max.message.bytes, KafkaError RECORD_LIST_TOO_LARGE for a
   * request larger than a segment, ProducerStateError (OUT_OF_ORDER_SEQUENCE_NUMBER,
   * INVALID_PRODUCER_EPOCH) and LogStorageError (KAFKA_STORAGE_ERROR).
   */
  append(batches: Buffer, options: AppendOptions): Promise<LogAppendResult> {
    return this.appendQueue.run(() => this.appendLocked(batches, options));
  }

  private async appendLocked(buf: Buffer, options: AppendOptions): Promise<LogAppendResult> {
    this.checkWritable();
    const config = this._config;
    const { batches } = splitBatches(buf, { maxBatchSize: config["max.message.bytes"] });
    if (batches.length === 0) {
      return {
        firstOffset: -1,
        lastOffset: -1,
        logAppendTime: -1,
        maxTimestamp: NO_TIMESTAMP,
        offsetOfMaxTimestamp: -1,
        logStartOffset: this._logStartOffset,
        duplicateOf: null,
      };
    }
    if (buf.length > config["segment.bytes"]) {
      throw new KafkaError(
        "RECORD_LIST_TOO_LARGE",
        `${buf.length} bytes of records exceed the segment size (segment.bytes ${config["segment.bytes"]})`,
      );
    }

    // Idempotence checks against the state before this request, as Kafka does.
    if (!options.replicated) {
      const producerBatches = batches.map(producerBatchOf);
      for (const batch of producerBatches) {
        if (batch === null) continue;
        const duplicate = this.producerState.findDuplicate(batch);
        if (duplicate !== null) return this.duplicateResult(duplicate, options);
      }
      this.producerState.validate(producerBatches.filter((b): b is ProducerBatch => b !== null));
    }

    // Assign offsets in place.
    const logAppendTime = options.timestampType === "LogAppendTime";
    const firstOffset = this.logEndOffset;
    let next = firstOffset;
    let maxTimestamp = NO_TIMESTAMP;
    let offsetOfMaxTimestamp = -1;
    for (const header of batches) {
      setBaseOffset(buf, header.pos, BigInt(next));
      setPartitionLeaderEpoch(buf, header.pos, options.leaderEpoch);
      if (logAppendTime) setLogAppendTime(buf, header.pos, BigInt(options.now));
      const last = next + header.lastOffsetDelta;
      const ts = Number(header.maxTimestamp);
      if (ts > maxTimestamp) {
        maxTimestamp = ts;
        offsetOfMaxTimestamp = last;
      }
      next = last + 1;
    }
    const lastOffset = next - 1;
    if (!Number.isSafeInteger(lastOffset))
      throw new LogStorageError(`offset ${lastOffset} is beyond what this log supports`);

    try {
      let segment = this.activeSegment;
      const roll = await segment.shouldRoll({
        now: options.now,
        maxSegmentBytes: config["segment.bytes"],
        maxSegmentMs: maxSegmentMs(config),
        maxTimestampInMessages: maxTimestamp,
        maxOffsetInMessages: lastOffset,
        messagesSize: buf.length,
      });
      if (roll) segment = await this.roll();
      if (options.leaderEpoch >= 0 && this.epochCache.assign(options.leaderEpoch, firstOffset)) {
        await this.epochCache.flush();
      }
      await segment.append(lastOffset, maxTimestamp, offsetOfMaxTimestamp, buf);
    } catch (e) {
      throw this.fail(e, "append");
    }

    for (const header of batches) {
      const batch = producerBatchOf(header);
      if (batch !== null) {
        const base = Number(header.baseOffset);
        this.producerState.update({ ...batch, firstOffset: base, lastOffset: base + header.lastOffsetDelta });
      }
    }
    this.producerState.updateMapEndOffset(next);
    this.unflushedMessages += next - firstOffset;
    if (this.unflushedMessages >= config["flush.messages"]) await this.flush();

    return {
      firstOffset,
      lastOffset,
      logAppendTime: logAppendTime ? options.now : -1,
      maxTimestamp,
      offsetOfMaxTimestamp,
      logStartOffset: this._logStartOffset,
      duplicateOf: null,
    };
  }

  private duplicateResult(duplicate: BatchMetadata, options: AppendOptions): LogAppendResult {
    return {
      firstOffset: duplicate.firstOffset,
      lastOffset: duplicate.lastOffset,
      logAppendTime: options.timestampType === "LogAppendTime" ? duplicate.timestamp : -1,
      maxTimestamp: duplicate.timestamp,
      offsetOfMaxTimestamp: duplicate.lastOffset,
      logStartOffset: this._logStartOffset,
      duplicateOf: duplicate,
    };
  }

  /**
   * Starts a new active segment at the log end: the old one gets its final time
   * index entry and trimmed indexes, the producer state is snapshotted at the new
   * base offset, and the old segment is fsynced in the background (advancing the
   * recovery point), as Kafka's roll does.
   */
  private async roll(): Promise<LogSegment> {
    const previous = this.activeSegment;
    const newOffset = this.logEndOffset;
    if (previous.baseOffset === newOffset && previous.size === 0) return previous;
    await previous.onBecomeInactiveSegment();
    const segment = await LogSegment.create(this.dir, newOffset, this.segmentOptions());
    this.segments = [...this.segments, segment];
    this.generation++;
    this.producerState.updateMapEndOffset(newOffset);
    await this.producerState.takeSnapshot();
    this.logger.info("rolled a new log segment", { baseOffset: newOffset, previousSize: previous.size });
    void this.flushUpTo(newOffset).catch((e: unknown) => {
      this.logger.error("background flush after roll failed", {
        error: e instanceof Error ? e.message : String(e),
      });
    });
    return segment;
  }

  /** Rolls the active segment now if it holds anything (e.g. before an operator copies the files). */
  rollNow(): Promise<void> {
    return this.appendQueue.run(async () => {
      this.checkWritable();
      if (this.activeSegment.size > 0) await this.roll();
    });
  }

  // ---- reading ----

  /**
   * Reads whole batches from `offset` (the batch holding it comes first), at most
   * `maxBytes` (but the first batch whole when minOneBatch), stopping before the
   * batch that holds `maxOffset`. Throws OffsetOutOfRangeError unless
   * logStartOffset <= offset <= logEndOffset; an offset at the end (or at maxOffset)
   * reads nothing.
   */
  async read(offset: number, maxBytes: number, options: ReadOptions = {}): Promise<LogReadResult> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new LogStorageError(`the log of ${this.topic}-${this.partition} is closed`);
      const segments = this.segments;
      try {
        return await this.readFrom(segments, offset, maxBytes, options);
      } catch (e) {
        // A segment this read had not reached yet was deleted under it (compaction or
        // retention replaced the segments): read again from the current ones.
        if (attempt < 3 && segments !== this.segments && !(e instanceof OffsetOutOfRangeError)) continue;
        throw e;
      }
    }
  }

  private async readFrom(
    segments: readonly LogSegment[],
    offset: number,
    maxBytes: number,
    options: ReadOptions,
  ): Promise<LogReadResult> {
    const logEndOffset = segments[segments.length - 1].nextOffset;
    const logStartOffset = this._logStartOffset;
    const result = (records: Buffer, firstEntryIncomplete = false): LogReadResult => ({
      records,
      firstEntryIncomplete,
      logStartOffset,
      logEndOffset,
    });
    if (offset < logStartOffset || offset > logEndOffset) {
      throw new OffsetOutOfRangeError(offset, logStartOffset, logEndOffset);
    }
    const upper = Math.min(options.maxOffset ?? logEndOffset, logEndOffset);
    if (offset >= upper) return result(EMPTY);
    const bound = upper < logEndOffset ? await this.positionOf(upper, segments) : null;
    const minOneBatch = options.minOneBatch ?? true;

    for (let i = floorIndex(segments, offset); i < segments.length; i++) {
      const segment = segments[i];
      if (bound !== null && segment.baseOffset > bound.baseOffset) break;
      const maxPosition =
        bound !== null && segment.baseOffset === bound.baseOffset ? bound.position : segment.size;
      const read = await segment.read(offset, maxBytes, maxPosition, minOneBatch);
      if (read !== null) return result(read.records, read.firstEntryIncomplete);
    }
    return result(EMPTY);
  }

  /** Where the batch holding `offset` starts: its segment and position (cached for the latest bound). */
  private async positionOf(
    offset: number,
    segments: readonly LogSegment[],
  ): Promise<{ baseOffset: number; position: number }> {
    const cached = this.maxOffsetCache;
    if (cached !== null && cached.offset === offset && cached.generation === this.generation) return cached;
    const generation = this.generation;
    const segment = segments[Math.max(0, floorIndex(segments, offset))];
    const found = await segment.translateOffset(offset);
    const bound = {
      offset,
      generation,
      baseOffset: segment.baseOffset,
      position: found?.position ?? segment.size,
    };
    if (generation === this.generation) this.maxOffsetCache = bound;
    return bound;
  }

  /**
   * ListOffsets by timestamp: the first record whose timestamp is >= `timestamp`
   * (its offset, timestamp and batch leader epoch), or null if none. Also answers
   * Kafka's special timestamps: -1 latest, -2 earliest, -3 max timestamp, -4 earliest local.
   */
  async fetchOffsetByTimestamp(timestamp: number): Promise<TimestampAndOffset | null> {
    const logStartOffset = this._logStartOffset;
    if (timestamp === EARLIEST_TIMESTAMP || timestamp === EARLIEST_LOCAL_TIMESTAMP) {
      return {
        offset: logStartOffset,
        timestamp: NO_TIMESTAMP,
        leaderEpoch: this.epochCache.epochForOffset(logStartOffset),
      };
    }
    if (timestamp === LATEST_TIMESTAMP) {
      return { offset: this.logEndOffset, timestamp: NO_TIMESTAMP, leaderEpoch: this.epochCache.latestEpoch };
    }
    if (timestamp === MAX_TIMESTAMP) return this.maxTimestampOffset();
    const segments = this.segments;
    for (const segment of segments) {
      if (segment.maxTimestampSoFar < timestamp || segment.nextOffset <= logStartOffset) continue;
      const found = await segment.findOffsetByTimestamp(timestamp, logStartOffset);
      if (found !== null) return found;
    }
    return null;
  }

  /**
   * The record with the largest timestamp in the log (ListOffsets MAX_TIMESTAMP),
   * found through the segments' largest timestamps; null for an empty log.
   */
  async maxTimestampOffset(): Promise<TimestampAndOffset | null> {
    let best: LogSegment | null = null;
    for (const segment of this.segments) {
      if (segment.offsetOfMaxTimestampSoFar < 0) continue;
      if (best === null || segment.maxTimestampSoFar > best.maxTimestampSoFar) best = segment;
    }
    return best === null ? null : best.findMaxTimestampRecord();
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch <= `epoch` this log has and the offset
   * where it ended (the log end for the current epoch), or null if unknown.
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset | null {
    const found = this.epochCache.endOffsetFor(epoch, this.logEndOffset);
    return found.endOffset === UNDEFINED_EPOCH_OFFSET ? null : found;
  }

  // ---- deleting records ----

  /**
   * DeleteRecords: moves the log start offset up to `offset` (never past
   * `highWatermark`, default the log end) and deletes the segments wholly below it.
   * Returns the new log start offset (the partition's low watermark).
   */
  deleteRecordsBefore(offset: number, highWatermark?: number): Promise<number> {
    return this.appendQueue.run(async () => {
      this.checkWritable();
      const limit = highWatermark ?? this.logEndOffset;
      if (offset > limit || offset < 0) {
        throw new OffsetOutOfRangeError(
          offset,
          this._logStartOffset,
          limit,
          "Cannot delete records before offset",
        );
      }
      if (offset > this._logStartOffset) {
        await this.advanceLogStartOffset(offset);
        await this.deleteOldSegments(
          (_s, next) => next.baseOffset <= this._logStartOffset,
          "log start offset",
          limit,
        );
      }
      return this._logStartOffset;
    });
  }

  /**
   * Deletes old segments: those wholly below the log start offset, then (when
   * cleanup.policy includes delete) the oldest while the log is over retention.bytes
   * and those whose newest record is older than retention.ms. Never deletes the
   * active segment, nor a segment the next of which starts above `highWatermark`.
   * Returns the number of segments deleted.
   */
  applyRetention(now: number = this.time(), highWatermark?: number): Promise<number> {
    return this.appendQueue.run(async () => {
      if (this.closed || this.failure !== null) return 0;
      const limit = highWatermark ?? this.logEndOffset;
      const config = this._config;
      let deleted = await this.deleteOldSegments(
        (_s, next) => next.baseOffset <= this._logStartOffset,
        "log start offset",
        limit,
      );
      if (!hasDeletePolicy(config)) return deleted;
      const retentionBytes = config["retention.bytes"];
      if (retentionBytes >= 0) {
        let excess = this.size - retentionBytes;
        deleted += await this.deleteOldSegments(
          (segment) => {
            if (excess - segment.size < 0) return false;
            excess -= segment.size;
            return true;
          },
          "retention.bytes",
          limit,
        );
      }
      const retentionMs = config["retention.ms"];
      if (retentionMs >= 0) {
        deleted += await this.deleteOldSegments(
          (segment) => now - segment.largestTimestamp > retentionMs,
          "retention.ms",
          limit,
        );
      }
      return deleted;
    });
  }

  private async deleteOldSegments(
    shouldDelete: (segment: LogSegment, next: LogSegment) => boolean,
    reason: string,
    upperBound: number,
  ): Promise<number> {
    const segments = this.segments;
    let count = 0;
    // The last (active) segment is never a candidate.
    while (count < segments.length - 1) {
      const segment = segments[count];
      const next = segments[count + 1];
      if (!shouldDelete(segment, next) || next.baseOffset > upperBound) break;
      count++;
    }
    if (count === 0) return 0;
    const doomed = segments.slice(0, count);
    this.segments = segments.slice(count);
    this.generation++;
    this.logger.info("deleting log segments", {
      reason,
      baseOffsets: doomed.map((s) => s.baseOffset),
      bytes: doomed.reduce((n, s) => n + s.size, 0),
    });
    const newStart = this.segments[0].baseOffset;
    if (newStart > this._logStartOffset) await this.advanceLogStartOffset(newStart);
    await this.retire(doomed);
    await this.producerState.deleteSnapshotsBefore(newStart);
    return count;
  }

  private async advanceLogStartOffset(offset: number): Promise<void> {
    this._logStartOffset = offset;
    if (this.epochCache.truncateFromStart(offset)) await this.epochCache.flush();
    // Kafka moves the recovery point along: nothing below the log start needs recovering.
    if (this._recoveryPoint < offset) this._recoveryPoint = offset;
  }

  /** Renames segments to *.deleted and deletes them after file.delete.delay.ms (and once unread). */
  private async retire(segments: readonly LogSegment[]): Promise<void> {
    for (const segment of segments) {
      try {
        await segment.markDeleted();
      } catch (e) {
        this.logger.warn("could not rename a deleted segment", { file: segment.log.path, error: String(e) });
      }
      this.scheduleDeletion(segment);
    }
  }

  /** Deletes a segment (already renamed *.deleted) after file.delete.delay.ms and once unread. */
  private scheduleDeletion(segment: LogSegment): void {
    const delay = this._config["file.delete.delay.ms"];
    if (delay <= 0) {
      this.deleteNow(segment);
      return;
    }
    const timer = setTimeout(() => this.deleteNow(segment), delay);
    timer.unref();
    this.pendingDeletions.set(segment, timer);
  }

  // ---- compaction (the log cleaner's side) ----

  /**
   * A new, empty segment at `baseOffset` whose files carry the ".cleaned" suffix,
   * for the log cleaner to write the compacted copy of old segments into. It is
   * not part of the log until replaceSegments swaps it in.
   */
  createCleanedSegment(baseOffset: number, maxIndexSize: number): Promise<LogSegment> {
    return LogSegment.create(
      this.dir,
      baseOffset,
      { ...this.segmentOptions(), maxIndexSize, rollJitterMs: 0 },
      CLEANED_FILE_SUFFIX,
    );
  }

  /**
   * Swaps a cleaned segment (complete, fsynced, files *.cleaned) in for the
   * consecutive non-active segments it was made from, under the append lock, so
   * appends wait only for a few renames. Crash safety comes from the order, which
   * the loader knows how to finish (segment-files.ts): the new files become *.swap
   * (and the directory is fsynced) before any old file is touched, the old
   * segments are renamed *.deleted, then the new files take their final names.
   * Readers holding the old segments keep reading them until they are deleted,
   * after file.delete.delay.ms, as after retention.
   *
   * Returns false, changing nothing, when the log moved on while the cleaner
   * worked (closed, truncated, those segments deleted or no longer the same) or
   * `stillValid` says no; the caller then discards the cleaned segment.
   */
  replaceSegments(
    cleaned: LogSegment,
    replaced: readonly LogSegment[],
    stillValid: () => boolean = () => true,
  ): Promise<boolean> {
    return this.appendQueue.run(async () => {
      if (this.closed || this.failure !== null || replaced.length === 0 || !stillValid()) return false;
      const segments = this.segments;
      const first = segments.indexOf(replaced[0]);
      // Never the active segment: the replaced run must end before the last one.
      if (first < 0 || first + replaced.length >= segments.length) return false;
      for (let i = 0; i < replaced.length; i++) if (segments[first + i] !== replaced[i]) return false;
      if (cleaned.baseOffset !== replaced[0].baseOffset) {
        throw new RangeError(
          `a cleaned segment based at ${cleaned.baseOffset} cannot replace one at ${replaced[0].baseOffset}`,
        );
      }
      try {
        await cleaned.changeFileSuffixes(CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX);
        await fsyncDir(this.dir);
        this.segments = [...segments.slice(0, first), cleaned, ...segments.slice(first + replaced.length)];
        this.generation++;
        for (const segment of replaced) {
          // Unlike retention, a failed rename here must stop the swap: an old file left
          // under its live name would overlap the new segment when the log is next loaded.
          await segment.markDeleted();
          this.scheduleDeletion(segment);
        }
        await cleaned.changeFileSuffixes(SWAP_FILE_SUFFIX, "");
        await fsyncDir(this.dir);
      } catch (e) {
        throw this.fail(e, "segment swap");
      }
      this.logger.info("swapped in a cleaned segment", {
        baseOffset: cleaned.baseOffset,
        replaced: replaced.map((s) => s.baseOffset),
        bytesBefore: replaced.reduce((n, s) => n + s.size, 0),
        bytesAfter: cleaned.size,
      });
      return true;
    });
  }

  private deleteNow(segment: LogSegment): void {
    const timer = this.pendingDeletions.get(segment);
    if (timer) clearTimeout(timer);
    this.pendingDeletions.delete(segment);
    const task = segment.delete().catch((e: unknown) => {
      this.logger.warn("could not delete a segment's files", { file: segment.log.path, error: String(e) });
    });
    this.deletionsInFlight.add(task);
    void task.finally(() => this.deletionsInFlight.delete(task));
  }

  private async finishDeletions(): Promise<void> {
    for (const segment of [...this.pendingDeletions.keys()]) this.deleteNow(segment);
    await Promise.all([...this.deletionsInFlight]);
  }

  // ---- truncation (replication) ----

  /**
   * Removes every record at or after `offset` (a follower diverged from its leader).
   * Returns false if the log ends at or before `offset` (nothing to do).
   */
  truncateTo(offset: number): Promise<boolean> {
    return this.appendQueue.run(async () => {
      this.checkWritable();
      if (offset < 0) throw new RangeError(`cannot truncate to a negative offset ${offset}`);
      if (offset >= this.logEndOffset) return false;
      this.notifyTruncation(offset);
      try {
        if (this.segments[0].baseOffset > offset) {
          await this.truncateFullyAndStartAtLocked(offset);
          return true;
        }
        const doomed = this.segments.filter((s) => s.baseOffset > offset);
        this.segments = this.segments.filter((s) => s.baseOffset <= offset);
        this.generation++;
        await this.retire(doomed);
        const removed = await this.activeSegment.truncateTo(offset);
        this.logger.info("truncated the log", { offset, bytes: removed, deletedSegments: doomed.length });
        if (this.epochCache.truncateFromEnd(offset)) await this.epochCache.flush();
        this._logStartOffset = Math.min(this._logStartOffset, offset);
        this._recoveryPoint = Math.min(this._recoveryPoint, offset);
        await this.producerState.deleteSnapshotsAfter(offset);
        await rebuildProducerState(this.producerState, this.segments, offset, this.logger);
        return true;
      } catch (e) {
        throw this.fail(e, "truncate");
      }
    });
  }

  /** Deletes everything and starts over, empty, at `offset` (a follower far behind a leader's log start). */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.appendQueue.run(async () => {
      this.checkWritable();
      try {
        await this.truncateFullyAndStartAtLocked(offset);
      } catch (e) {
        throw this.fail(e, "truncate");
      }
    });
  }

  private async truncateFullyAndStartAtLocked(offset: number): Promise<void> {
    if (offset < 0) throw new RangeError(`cannot start the log at a negative offset ${offset}`);
    this.notifyTruncation(offset);
    const doomed = this.segments;
    // Retiring renames the old files to *.deleted, freeing their names for the new segment.
    await this.retire(doomed);
    this.segments = [await LogSegment.create(this.dir, offset, this.segmentOptions())];
    this.generation++;
    this.epochCache.clear();
    await this.epochCache.flush();
    await this.producerState.truncateFullyAndStartAt(offset);
    this._logStartOffset = offset;
    this._recoveryPoint = offset;
    this.unflushedMessages = 0;
    this.logger.info("truncated the whole log", { newStartOffset: offset, deletedSegments: doomed.length });
  }

  // ---- producers ----

  /** Forgets idempotent producers silent for `expirationMs` (producer.id.expiration.ms). */
  removeExpiredProducers(now: number, expirationMs: number): Promise<number> {
    return this.appendQueue.run(async () => this.producerState.removeExpiredProducers(now, expirationMs));
  }

  // ---- durability and lifecycle ----

  /** fsyncs every segment and the directory, then moves the recovery point to the log end. */
  flush(): Promise<void> {
    return this.flushUpTo(this.logEndOffset);
  }

  /** Flushes if flush.ms has passed since the last flush and something is unflushed. */
  async flushIfDue(now: number = this.time()): Promise<boolean> {
    if (this.closed || this.unflushedMessages === 0) return false;
    if (now - this.lastFlushTime < this._config["flush.ms"]) return false;
    await this.flush();
    return true;
  }

  private flushUpTo(offset: number): Promise<void> {
    return this.flushQueue.run(async () => {
      if (offset <= this._recoveryPoint) return;
      const coversLogEnd = offset >= this.logEndOffset;
      const unflushedBefore = this.unflushedMessages;
      for (const segment of this.segments) {
        if (segment.baseOffset >= offset) break;
        if (segment.nextOffset <= this._recoveryPoint || !segment.log.isOpen) continue;
        try {
          await segment.flush();
        } catch (e) {
          // Retention or compaction replaced (and may have closed) the segment meanwhile:
          // its data is gone or lives on, fsynced, in the segment that replaced it.
          if (!this.segments.includes(segment)) continue;
          throw this.fail(e, "flush");
        }
      }
      await fsyncDir(this.dir);
      if (offset > this._recoveryPoint) this._recoveryPoint = offset;
      this.lastFlushTime = this.time();
      // Messages appended while this flush ran stay counted for the next one.
      if (coversLogEnd) this.unflushedMessages = Math.max(0, this.unflushedMessages - unflushedBefore);
    });
  }

  /**
   * Clean close: waits for appends in flight, finishes pending segment deletions,
   * snapshots the producer state at the log end, trims and fsyncs every segment.
   */
  close(): Promise<void> {
    return this.appendQueue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.flushQueue.idle();
      await this.finishDeletions();
      if (this.failure === null) {
        const logEndOffset = this.logEndOffset;
        this.producerState.updateMapEndOffset(logEndOffset);
        await this.producerState.takeSnapshot();
        for (const segment of this.segments) await segment.close();
        await fsyncDir(this.dir);
        this._recoveryPoint = logEndOffset;
        this.unflushedMessages = 0;
      } else {
        await Promise.allSettled(this.segments.map((s) => s.closeHandlers()));
      }
    });
  }

  /**
   * Closes the files without writing anything (Kafka's closeHandlers, for an
   * offline log dir): the next open treats it as a crash. Pending deletions are
   * left as *.deleted files, which the next open removes.
   */
  closeHandlers(): Promise<void> {
    return this.appendQueue.run(async () => {
      this.closed = true;
      await this.flushQueue.idle();
      for (const [segment, timer] of this.pendingDeletions) {
        if (timer) clearTimeout(timer);
        await segment.closeHandlers();
      }
      this.pendingDeletions.clear();
      await Promise.all([...this.deletionsInFlight]);
      await Promise.allSettled(this.segments.map((s) => s.closeHandlers()));
    });
  }

  /** Closes the files and removes the partition directory. */
  async delete(): Promise<void> {
    await this.closeHandlers();
    await rm(this.dir, { recursive: true, force: true });
  }

  private checkWritable(): void {
    if (this.closed) throw new LogStorageError(`the log of ${this.topic}-${this.partition} is closed`);
    if (this.failure !== null) {
      throw new LogStorageError(
        `the log of ${this.topic}-${this.partition} is offline: ${this.failure.message}`,
      );
    }
  }

  /** An I/O failure takes the log offline (clients see KAFKA_STORAGE_ERROR), as Kafka does. */
  private fail(e: unknown, during: string): Error {
    if (e instanceof KafkaError && !(e instanceof LogStorageError)) return e;
    const error = e instanceof Error ? e : new Error(String(e));
    if (this.failure === null) {
      this.failure = error;
      this.logger.error(`log ${during} failed; the log is offline until restarted`, { error: error.message });
    }
    return e instanceof LogStorageError
      ? e
      : new LogStorageError(`${during} failed: ${error.message}`, { cause: e });
  }
}

/** Index of the last segment whose base offset is <= offset (0 when offset precedes them all). */
function floorIndex(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
