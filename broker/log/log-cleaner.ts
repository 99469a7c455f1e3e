// Log compaction (cleanup.policy=compact, or compact,delete), as Kafka's LogCleaner
// runs it: every log.cleaner.backoff.ms the cleaner picks the compacted log with the
// highest dirty ratio (see cleanable-range.ts) among those over their
// min.cleanable.dirty.ratio or past their max.compaction.lag.ms, and cleans it:
//
//   1. Build a key -> latest offset map over the dirty section (offset-map.ts), as
//      far as log.cleaner.dedupe.buffer.size allows; where the map fills, this clean
//      stops and the next one continues.
//   2. Rewrite every segment from the log start up to where the map ends, in groups
//      of consecutive segments that each become one segment, keeping only what
//      compaction-filter.ts keeps. The output is written as *.cleaned files, fsynced,
//      and swapped in under the log's append lock (Log.replaceSegments), one group at
//      a time, so appends and reads wait only for the renames and readers of the
//      old segments keep reading them until they are deleted.
//   3. Record where the dirty section now starts in cleaner-offset-checkpoint in the
//      log dir (Kafka's format: "topic partition offset" lines), so a restart
//      resumes there.
//
// Cleaning runs in the background on the event loop: file I/O is asynchronous and
// records are processed a chunk at a time. A clean is abandoned (its output deleted,
// the log left as it was) when the log is truncated, closed or deleted, or when
// retention removed the segments it was rewriting. A log whose clean fails for
// another reason (a corrupt batch) is left alone until the broker restarts, as
// Kafka marks such partitions uncleanable.
//
// Beyond Kafka: when the tombstones a clean kept reach their delete horizon, the
// log is cleaned again even if little else is dirty, so deleted keys (a consumer
// group's offsets, say) disappear about delete.retention.ms after their first
// clean instead of waiting for enough new writes. The horizons are remembered in
// memory only; after a restart Kafka's behaviour applies.
import path from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { createLogger, type Logger } from "../../lib/logger.ts";
import {
  RecordBatchError,
  iterateRecords,
  readBatchHeader,
  validateBatch,
  type RecordBatchHeader,
} from "../../protocol/records/index.ts";
import { cleanableRange, groupSegments, segmentsFrom, type CleanableRange } from "./cleanable-range.ts";
import { MalformedCheckpointError, readOffsetCheckpoint, writeOffsetCheckpoint } from "./checkpoints.ts";
import { filterBatch, type CompactionContext } from "./compaction-filter.ts";
import { CorruptRecordsError } from "./errors.ts";
import { lastOffsetOf } from "./file-records.ts";
import { partitionDirName } from "./file-names.ts";
import type { Log } from "./log.ts";
import { hasCompactPolicy } from "./log-config.ts";
import type { LogSegment } from "./log-segment.ts";
import { OffsetMap } from "./offset-map.ts";
import { SerialQueue } from "./serial-queue.ts";

/** Kafka's name for the file, one per log dir. */
export const CLEANER_OFFSET_CHECKPOINT_FILE = "cleaner-offset-checkpoint";

/** Kafka's defaults: log.cleaner.dedupe.buffer.size, log.cleaner.io.buffer.load.factor, log.cleaner.backoff.ms. */
export const DEFAULT_DEDUPE_BUFFER_SIZE = 128 * 1024 * 1024;
export const DEFAULT_DEDUPE_BUFFER_LOAD_FACTOR = 0.9;
export const DEFAULT_CLEANER_BACKOFF_MS = 15000;

/** Bytes of a segment read at a time, and of cleaned batches written at a time. */
const IO_CHUNK = 1024 * 1024;

export interface LogCleanerOptions {
  /** log.dirs: each holds a cleaner-offset-checkpoint for its partitions. */
  logDirs: readonly string[];
  /** The logs to consider (the log manager's), asked afresh each time. */
  logs: () => Iterable<Log>;
  /** The partition's high watermark; nothing at or past it is cleaned. Default: the log end. */
  highWatermarkOf?: (topic: string, partition: number) => number | undefined;
  /** log.cleaner.dedupe.buffer.size: memory for the offset map, 24 bytes a key (default 128 MiB). */
  dedupeBufferSize?: number;
  /** log.cleaner.io.buffer.load.factor: how full the offset map may get (default 0.9). */
  dedupeBufferLoadFactor?: number;
  /** log.cleaner.backoff.ms: the wait when no log needs cleaning (default 15000). */
  backoffMs?: number;
  logger?: Logger;
  time?: () => number;
}

/** What one clean did. */
export interface CleanResult {
  topic: string;
  partition: number;
  /** The dirty section started here... */
  firstDirtyOffset: number;
  /** ...and now starts here (the new checkpoint). */
  endOffset: number;
  /** Segments rewritten, and into how many. */
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRead: number;
  recordsKept: number;
  /** Keys in the offset map. */
  keys: number;
  /** The map filled up before the dirty section ended: another clean follows. */
  mapFull: boolean;
}

/** Thrown inside a clean that must stop (its log changed under it, or the cleaner is stopping). */
class CleaningAborted extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "CleaningAborted";
  }
}

interface LogState {
  logDir: string;
  /** The first dirty offset (the checkpoint); null until the log is first cleaned. */
  firstDirty: number | null;
  /** The earliest delete horizon of tombstones the last clean kept, if any. */
  horizonDue: number | null;
  /** Why the log is no longer cleaned, after an unexpected failure. */
  uncleanable: string | null;
  unsubscribe: () => void;
}

interface InProgress {
  log: Log;
  /** The end of the range being cleaned: a truncation below it invalidates the clean. */
  firstUncleanable: number;
  /** Set to stop the clean, with the reason. */
  abort: string | null;
  /** The lowest offset the log was truncated to meanwhile (Infinity: none). */
  truncatedTo: number;
  done: Promise<unknown>;
}

export class LogCleaner {
  private readonly options: LogCleanerOptions;
  private readonly logger: Logger;
  private readonly time: () => number;
  private readonly maxSlots: number;
  private readonly loadFactor: number;
  private readonly backoffMs: number;
  private readonly states = new Map<Log, LogState>();
  /** Per log dir, the checkpoint as read at start (partition dir name -> offset). */
  private readonly checkpointed = new Map<string, Map<string, number>>();
  /** One clean at a time, like Kafka's single cleaner thread. */
  private readonly passes = new SerialQueue();
  private readonly checkpointWrites = new SerialQueue();
  private current: InProgress | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  private constructor(options: LogCleanerOptions) {
    this.options = options;
    this.logger = (options.logger ?? createLogger("log-cleaner")).child("component", {
      component: "cleaner",
    });
    this.time = options.time ?? Date.now;
    this.loadFactor = options.dedupeBufferLoadFactor ?? DEFAULT_DEDUPE_BUFFER_LOAD_FACTOR;
    if (!(this.loadFactor > 0 && this.loadFactor <= 1)) {
      throw new RangeError(`the dedupe buffer load factor must be in (0, 1], not ${this.loadFactor}`);
    }
    this.maxSlots = OffsetMap.slotsFor(options.dedupeBufferSize ?? DEFAULT_DEDUPE_BUFFER_SIZE);
    if (this.maxSlots * this.loadFactor < 2) {
      throw new RangeError(
        `log.cleaner.dedupe.buffer.size ${options.dedupeBufferSize} is too small to hold even one key`,
      );
    }
    this.backoffMs = Math.max(1, options.backoffMs ?? DEFAULT_CLEANER_BACKOFF_MS);
  }

  /** Reads each log dir's cleaner-offset-checkpoint; the cleaner is idle until start(). */
  static async open(options: LogCleanerOptions): Promise<LogCleaner> {
    const cleaner = new LogCleaner(options);
    for (const logDir of options.logDirs) {
      const entries = new Map<string, number>();
      try {
        for (const e of await readOffsetCheckpoint(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE))) {
          entries.set(partitionDirName(e.topic, e.partition), e.offset);
        }
      } catch (e) {
        if (!(e instanceof MalformedCheckpointError)) throw e;
        // Kafka too starts over: the whole log is treated as dirty.
        cleaner.logger.warn("ignoring an unreadable cleaner checkpoint", { problem: e.message });
      }
      cleaner.checkpointed.set(path.resolve(logDir), entries);
    }
    return cleaner;
  }

  /** Starts cleaning in the background: a pass now and then every log.cleaner.backoff.ms. */
  start(): void {
    if (this.stopped || this.timer !== null) return;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.cleanFilthiestLog()
        .catch((e: unknown) => {
          this.logger.error("log cleaner pass failed", { error: e instanceof Error ? e.message : String(e) });
          return null;
        })
        // Straight on after a clean (another log may be waiting); back off when there was nothing to do.
        .then((cleaned) => this.schedule(cleaned === null ? this.backoffMs : 0));
    }, delay);
    this.timer.unref();
  }

  /** Stops the background cleaning, abandoning a clean in progress, and waits for it to end. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.current !== null) this.current.abort ??= "the cleaner is shutting down";
    await this.passes.idle();
    for (const state of this.states.values()) state.unsubscribe();
  }

  /**
   * Abandons a clean of `log` in progress and waits for it to end (before the log
   * is deleted or closed); the log's checkpoint entry is dropped at the next write
   * once the log manager no longer lists it.
   */
  async abortCleaning(log: Log): Promise<void> {
    const current = this.current;
    if (current === null || current.log !== log) return;
    current.abort ??= "the log is being closed or deleted";
    await current.done.catch(() => undefined);
  }

  /**
   * Forgets a log (deleted): its entry leaves the checkpoint file, so a partition
   * created later under the same name starts dirty.
   */
  async forget(log: Log): Promise<void> {
    const dir = logDirOf(log);
    const state = this.states.get(log);
    state?.unsubscribe();
    this.states.delete(log);
    const hadEntry = this.checkpointed.get(dir)?.delete(partitionDirName(log.topic, log.partition)) ?? false;
    if (state !== undefined || hadEntry) await this.writeCheckpoint(dir);
  }

  /** Where the dirty section of `log` starts, as far as the cleaner knows (null: the log start). */
  firstDirtyOffset(log: Log): number | null {
    return this.stateOf(log).firstDirty;
  }

  /** Whether an unexpected failure stopped the cleaning of `log` (until restart), and why. */
  uncleanableReason(log: Log): string | null {
    return this.states.get(log)?.uncleanable ?? null;
  }

  /** The cleanable range of a log now (for inspection, metrics and tests). */
  async cleanableRangeOf(log: Log, now: number = this.time()): Promise<CleanableRange> {
    return cleanableRange(
      log,
      this.firstDirtyOffset(log),
      now,
      this.options.highWatermarkOf?.(log.topic, log.partition),
    );
  }

  /**
   * Cleans the dirtiest compacted log that is due (Kafka's grabFilthiestCompactedLog
   * and cleanLog), if any. Returns what was done, or null if no log needed cleaning
   * or the clean was abandoned.
   */
  cleanFilthiestLog(now?: number): Promise<CleanResult | null> {
    return this.passes.run(async () => {
      if (this.stopped) return null;
      const at = now ?? this.time();
      const chosen = await this.grabFilthiestLog(at);
      if (chosen === null) return null;
      return this.runClean(chosen.log, chosen.range, at);
    });
  }

  /** Cleans logs until none needs it (tests, tools); returns the cleans done. */
  async cleanAll(now?: number): Promise<CleanResult[]> {
    const results: CleanResult[] = [];
    // Bounded: a log whose clean is abandoned every time must not spin here.
    for (let i = 0; i < 1000; i++) {
      const result = await this.cleanFilthiestLog(now);
      if (result === null) break;
      results.push(result);
    }
    return results;
  }

  /** Cleans one particular log now if it has anything cleanable, whatever its dirty ratio. */
  cleanLog(log: Log, now?: number): Promise<CleanResult | null> {
    return this.passes.run(async () => {
      if (this.stopped || !log.isOpen) return null;
      const at = now ?? this.time();
      const state = this.stateOf(log);
      const range = await cleanableRange(
        log,
        state.firstDirty,
        at,
        this.options.highWatermarkOf?.(log.topic, log.partition),
      );
      if (range.totalBytes === 0) return null;
      return this.runClean(log, range, at);
    });
  }

  // ---- choosing ----

  private stateOf(log: Log): LogState {
    let state = this.states.get(log);
    if (state === undefined) {
      const dir = logDirOf(log);
      const checkpoint = this.checkpointed.get(dir)?.get(partitionDirName(log.topic, log.partition));
      const created: LogState = {
        logDir: dir,
        firstDirty: checkpoint ?? null,
        horizonDue: null,
        uncleanable: null,
        unsubscribe: () => undefined,
      };
      created.unsubscribe = log.onTruncation((offset) => {
        // Records past the truncation point are new: they must count as dirty. A clean in
        // progress may rely on records that are gone, so it stops (Kafka aborts it too).
        if (created.firstDirty !== null && created.firstDirty > offset) created.firstDirty = offset;
        const current = this.current;
        if (current?.log === log && offset < current.firstUncleanable) {
          current.abort ??= `the log was truncated to ${offset}`;
          current.truncatedTo = Math.min(current.truncatedTo, offset);
        }
      });
      state = created;
      this.states.set(log, state);
    }
    return state;
  }

  private async grabFilthiestLog(now: number): Promise<{ log: Log; range: CleanableRange } | null> {
    let best: { log: Log; range: CleanableRange } | null = null;
    const resetDirs = new Set<string>();
    for (const log of this.options.logs()) {
      if (!log.isOpen || !hasCompactPolicy(log.config)) continue;
      const state = this.stateOf(log);
      if (state.uncleanable !== null) continue;
      const range = await cleanableRange(
        log,
        state.firstDirty,
        now,
        this.options.highWatermarkOf?.(log.topic, log.partition),
      );
      if (range.checkpointReset) {
        state.firstDirty = range.firstDirtyOffset;
        resetDirs.add(state.logDir);
      }
      if (range.totalBytes === 0) continue;
      const due =
        (range.needCompactionNow && range.cleanableBytes > 0) ||
        range.dirtyRatio > log.config["min.cleanable.dirty.ratio"] ||
        (state.horizonDue !== null && state.horizonDue <= now && range.cleanBytes > 0);
      if (due && (best === null || range.dirtyRatio > best.range.dirtyRatio)) best = { log, range };
    }
    for (const dir of resetDirs) await this.writeCheckpoint(dir);
    return best;
  }

  // ---- cleaning ----

  private async runClean(log: Log, range: CleanableRange, now: number): Promise<CleanResult | null> {
    const state = this.stateOf(log);
    const current: InProgress = {
      log,
      firstUncleanable: range.firstUncleanableOffset,
      abort: null,
      truncatedTo: Infinity,
      done: Promise.resolve(),
    };
    this.current = current;
    const work = this.clean(log, range, now, current);
    current.done = work;
    try {
      const result = await work;
      // A truncation after the last swap still moves the dirty section back.
      state.firstDirty = Math.min(result.endOffset, current.truncatedTo);
      await this.writeCheckpoint(state.logDir);
      this.logger.info("cleaned log", { ...result });
      return result;
    } catch (e) {
      if (e instanceof CleaningAborted || !log.isOpen) {
        this.logger.info("abandoned a log clean", {
          log: log.dir,
          reason: e instanceof Error ? e.message : String(e),
        });
        return null;
      }
      const reason = e instanceof Error ? e.message : String(e);
      state.uncleanable = reason;
      this.logger.error("log cleaning failed; the log will not be cleaned again until restart", {
        log: log.dir,
        error: reason,
      });
      return null;
    } finally {
      this.current = null;
    }
  }

  private async clean(
    log: Log,
    range: CleanableRange,
    now: number,
    current: InProgress,
  ): Promise<CleanResult> {
    const state = this.stateOf(log);
    const checkDone = (): void => {
      if (this.stopped) current.abort ??= "the cleaner is shutting down";
      if (current.abort !== null) throw new CleaningAborted(current.abort);
      if (!log.isOpen) throw new CleaningAborted("the log was closed");
    };
    const { firstDirtyOffset: firstDirty, firstUncleanableOffset: firstUncleanable } = range;
    // The range was judged a moment ago; a truncation since then may have cut into it.
    if (firstUncleanable > log.activeSegment.baseOffset) throw new CleaningAborted("the log was truncated");

    // 1. The offset map over the dirty section, sized for what it can hold at most.
    const dirtyOffsets = Math.max(0, firstUncleanable - firstDirty);
    const map = new OffsetMap(Math.min(this.maxSlots, Math.ceil(dirtyOffsets / this.loadFactor) + 64));
    const maxEntries = Math.max(1, Math.floor(map.slots * this.loadFactor));
    map.updateLatestOffset(firstDirty - 1);
    const mapFull = await this.buildOffsetMap(log, firstDirty, firstUncleanable, map, maxEntries, checkDone);
    const endOffset = map.latestOffset + 1;
    if (dirtyOffsets > 0 && endOffset <= firstDirty) {
      throw new Error(
        `the offset map (${map.slots} slots) cannot hold the keys of one batch at offset ${firstDirty}; ` +
          `raise log.cleaner.dedupe.buffer.size`,
      );
    }

    // 2. Rewrite the segments below endOffset, group by group.
    const segments = log.logSegments;
    const toClean = segments.slice(0, -1).filter((s) => s.baseOffset < endOffset);
    const config = log.config;
    const groups = groupSegments(
      toClean,
      { maxBytes: config["segment.bytes"], maxIndexBytes: config["segment.index.bytes"] },
      firstUncleanable,
    );
    const ctx: CompactionContext = {
      map,
      now,
      deleteRetentionMs: config["delete.retention.ms"],
      lastOffsetOfProducer: log.lastOffsetsOfProducers(),
      upperBoundOffset: firstUncleanable,
    };
    const totals = { segmentsAfter: 0, bytesBefore: 0, bytesAfter: 0, recordsRead: 0, recordsKept: 0 };
    let horizonDue: number | null = null;
    for (const group of groups) {
      checkDone();
      const done = await this.cleanGroup(log, group, ctx, current, checkDone);
      totals.segmentsAfter++;
      totals.bytesBefore += done.bytesBefore;
      totals.bytesAfter += done.bytesAfter;
      totals.recordsRead += done.recordsRead;
      totals.recordsKept += done.recordsKept;
      if (done.horizon !== null && (horizonDue === null || done.horizon < horizonDue))
        horizonDue = done.horizon;
      await yieldToEventLoop();
    }
    state.horizonDue = horizonDue;

    return {
      topic: log.topic,
      partition: log.partition,
      firstDirtyOffset: firstDirty,
      endOffset: Math.max(endOffset, firstDirty),
      segmentsBefore: toClean.length,
      keys: map.size,
      mapFull,
      ...totals,
    };
  }

  /**
   * Adds the keys of the dirty section [start, end) to the map, segment by segment,
   * moving its latestOffset along; stops early (returning true) when the map is full.
   */
  private async buildOffsetMap(
    log: Log,
    start: number,
    end: number,
    map: OffsetMap,
    maxEntries: number,
    checkDone: () => void,
  ): Promise<boolean> {
    const inactive = log.logSegments.slice(0, -1);
    const dirty = segmentsFrom(inactive, start).filter((s) => s.baseOffset < end && s.nextOffset > start);
    for (let i = 0; i < dirty.length; i++) {
      const segment = dirty[i];
      const next = i + 1 < dirty.length ? dirty[i + 1].baseOffset : end;
      const release = segment.pinForReading();
      try {
        const from = segment.offsetIndex.lookup(start).position;
        let records = 0;
        for await (const { position, header } of segment.log.wholeBatches(from, segment.size, IO_CHUNK)) {
          checkDone();
          if (Number(header.baseOffset) >= end) break;
          checkBatch(segment, header.buf, header.pos, position);
          const last = lastOffsetOf(header);
          if (!header.isControl && last >= start) {
            if (!mapKeys(segment, header, position, start, map, maxEntries)) return true;
            records += header.recordCount;
          }
          if (last >= start) map.updateLatestOffset(last);
          // Decoding is synchronous work: let appends and fetches in between now and then.
          if (records >= 10000) {
            records = 0;
            await yieldToEventLoop();
          }
        }
      } finally {
        release();
      }
      // Offsets missing at the end of a segment (compacted away before) are covered too.
      map.updateLatestOffset(next - 1);
    }
    return false;
  }

  /** Rewrites one group of segments into a single cleaned segment and swaps it in. */
  private async cleanGroup(
    log: Log,
    group: readonly LogSegment[],
    ctx: CompactionContext,
    current: InProgress,
    checkDone: () => void,
  ): Promise<{
    bytesBefore: number;
    bytesAfter: number;
    recordsRead: number;
    recordsKept: number;
    horizon: number | null;
  }> {
    const config = log.config;
    const bytesBefore = group.reduce((n, s) => n + s.size, 0);
    // The indexes must hold whatever the group becomes, whatever index.interval.bytes was when it was written.
    const interval = Math.max(1, config["index.interval.bytes"]);
    const neededIndexBytes = (Math.ceil(bytesBefore / interval) + 2) * 12;
    const cleaned = await log.createCleanedSegment(
      group[0].baseOffset,
      Math.max(config["segment.index.bytes"], neededIndexBytes),
    );
    let recordsRead = 0;
    let recordsKept = 0;
    let horizon: number | null = null;
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let lastOffset = -1;
      let maxTimestamp = -1;
      let offsetOfMaxTimestamp = -1;
      const flush = async (): Promise<void> => {
        if (pending.length === 0) return;
        await cleaned.append(
          lastOffset,
          maxTimestamp,
          offsetOfMaxTimestamp,
          Buffer.concat(pending, pendingBytes),
        );
        pending = [];
        pendingBytes = 0;
      };
      for (const segment of group) {
        const release = segment.pinForReading();
        try {
          for await (const { position, header } of segment.log.wholeBatches(0, segment.size, IO_CHUNK)) {
            checkDone();
            checkBatch(segment, header.buf, header.pos, position);
            let filtered;
            try {
              filtered = filterBatch(header, ctx);
            } catch (e) {
              if (!(e instanceof RecordBatchError)) throw e;
              throw new CorruptRecordsError(segment.log.path, position, e.message, { cause: e });
            }
            if (filtered === null) {
              recordsRead += header.recordCount;
              continue;
            }
            recordsRead += filtered.recordsRead;
            recordsKept += filtered.recordsKept;
            const h = filtered.tombstoneHorizon;
            if (h !== null && h > ctx.now && (horizon === null || h < horizon)) horizon = h;
            const out = readBatchHeader(filtered.bytes, 0);
            lastOffset = lastOffsetOf(out);
            const ts = Number(out.maxTimestamp);
            if (ts > maxTimestamp) {
              maxTimestamp = ts;
              offsetOfMaxTimestamp = lastOffset;
            }
            pending.push(filtered.bytes);
            pendingBytes += filtered.bytes.length;
            if (pendingBytes >= IO_CHUNK) await flush();
          }
        } finally {
          release();
        }
      }
      await flush();
      await cleaned.onBecomeInactiveSegment();
      await cleaned.flush();
      await cleaned.setLastModified(group[group.length - 1].lastModified);
    } catch (e) {
      await cleaned.delete().catch(() => undefined);
      throw e;
    }
    // From here on the files are the log's business: a failed swap takes the log
    // offline and the next start finishes or undoes it (segment-files.ts).
    const swapped = await log.replaceSegments(cleaned, group, () => current.abort === null);
    if (!swapped) {
      await cleaned.delete().catch(() => undefined);
      throw new CleaningAborted(
        current.abort ?? "the segments being cleaned changed (retention or truncation)",
      );
    }
    return { bytesBefore, bytesAfter: cleaned.size, recordsRead, recordsKept, horizon };
  }

  // ---- checkpoint ----

  /**
   * Rewrites cleaner-offset-checkpoint in `logDir`: every log there the cleaner
   * knows a first dirty offset for, plus entries read at start for logs it has not
   * looked at yet; entries of logs no longer listed are dropped, as in Kafka.
   */
  private writeCheckpoint(logDir: string): Promise<void> {
    return this.checkpointWrites.run(async () => {
      const dir = path.resolve(logDir);
      const offsets = new Map<string, { topic: string; partition: number; offset: number }>();
      const listed = [...this.options.logs()].filter((l) => logDirOf(l) === dir);
      const fromStart = this.checkpointed.get(dir);
      for (const log of listed) {
        const name = partitionDirName(log.topic, log.partition);
        const offset = this.states.get(log)?.firstDirty ?? fromStart?.get(name);
        if (offset !== undefined && offset !== null) {
          offsets.set(name, { topic: log.topic, partition: log.partition, offset });
        }
      }
      const entries = [...offsets.values()].sort((a, b) =>
        a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
      );
      try {
        await writeOffsetCheckpoint(path.join(dir, CLEANER_OFFSET_CHECKPOINT_FILE), entries);
      } catch (e) {
        // Losing it only means cleaning more next time.
        this.logger.error("could not write the cleaner checkpoint", {
          dir,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    });
  }
}

/** The log dir (one of log.dirs) a partition log lives in. */
function logDirOf(log: Log): string {
  return path.resolve(path.dirname(log.dir));
}

/** CRC and framing of a batch about to be decoded; a bad one makes the clean fail. */
function checkBatch(segment: LogSegment, buf: Buffer, pos: number, position: number): void {
  try {
    validateBatch(buf, pos);
  } catch (e) {
    if (!(e instanceof RecordBatchError)) throw e;
    throw new CorruptRecordsError(segment.log.path, position, e.message, { cause: e });
  }
}

/**
 * Puts the keys of a batch's records at or after `start` into the map; false when
 * the map filled up first.
 */
function mapKeys(
  segment: LogSegment,
  header: RecordBatchHeader,
  position: number,
  start: number,
  map: OffsetMap,
  maxEntries: number,
): boolean {
  try {
    for (const record of iterateRecords(header)) {
      const offset = Number(record.offset);
      if (record.key === null || offset < start) continue;
      if (!map.put(record.key, offset, maxEntries)) return false;
    }
    return true;
  } catch (e) {
    if (!(e instanceof RecordBatchError)) throw e;
    throw new CorruptRecordsError(segment.log.path, position, e.message, { cause: e });
  }
}
