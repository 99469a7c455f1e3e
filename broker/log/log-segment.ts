// One segment of a partition log, in Kafka's layout: <base offset, 20 digits>.log
// holds the batches, .index maps offsets to positions, .timeindex maps timestamps to
// offsets. Only the newest segment (the active one) is appended to; the Log object
// serializes appends, truncations and deletions, while reads run concurrently.
import type { Logger } from "../../lib/logger.ts";
import {
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  RecordBatchError,
  iterateRecords,
  readBatchHeader,
  validateBatch,
  type RecordBatchHeader,
} from "../../protocol/records/index.ts";
import { CorruptIndexError, CorruptRecordsError } from "./errors.ts";
import { FileRecords, completeBatchesLength, lastOffsetOf, type BatchLocation } from "./file-records.ts";
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  logFilePath,
  offsetIndexFilePath,
  timeIndexFilePath,
} from "./file-names.ts";
import { OffsetIndex } from "./offset-index.ts";
import { NO_TIMESTAMP, TimeIndex, type TimestampOffset } from "./time-index.ts";
import { rm, stat, utimes } from "node:fs/promises";

/** Bytes read at a time during recovery (a larger batch is read whole). */
const RECOVERY_CHUNK = 1024 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);

export interface LogSegmentOptions {
  /** index.interval.bytes */
  indexIntervalBytes: number;
  /** segment.index.bytes: each index's preallocated size while active. */
  maxIndexSize: number;
  /** This segment's share of segment.jitter.ms, subtracted from segment.ms. */
  rollJitterMs: number;
  /** The clock (ms); segment creation time and last-modified time come from it. */
  time: () => number;
  logger: Logger;
}

export interface SegmentReadResult {
  /** Whole batches, starting with the one holding the requested offset (or the first after it). */
  records: Buffer;
  /** Where the first batch starts in the segment's .log file. */
  position: number;
  /** The first batch alone is larger than maxBytes (and minOneBatch was off), so nothing was returned. */
  firstEntryIncomplete: boolean;
}

export interface RollParams {
  now: number;
  /** segment.bytes and segment.ms */
  maxSegmentBytes: number;
  maxSegmentMs: number;
  /** Largest timestamp and last offset of the batches about to be appended, and their size. */
  maxTimestampInMessages: number;
  maxOffsetInMessages: number;
  messagesSize: number;
}

/** A record found by timestamp: its offset, timestamp and its batch's leader epoch (null if unknown). */
export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
  leaderEpoch: number | null;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly log: FileRecords;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  private readonly indexIntervalBytes: number;
  private readonly rollJitterMs: number;
  private readonly time: () => number;
  private readonly logger: Logger;
  private bytesSinceLastIndexEntry = 0;
  /** Largest batch max timestamp so far and the last offset of that batch (Kafka's "shallow" offset). */
  private maxTimestampAndOffset: TimestampOffset = { timestamp: NO_TIMESTAMP, offset: -1 };
  /** The first batch's max timestamp, which time-based rolling measures from; undefined until read. */
  private rollingBasedTimestamp: number | null | undefined = undefined;
  private created: number;
  private _lastModified: number;
  private _nextOffset: number;
  private readers = 0;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    baseOffset: number,
    log: FileRecords,
    offsetIndex: OffsetIndex,
    timeIndex: TimeIndex,
    lastModified: number,
    options: LogSegmentOptions,
  ) {
    this.baseOffset = baseOffset;
    this.log = log;
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.indexIntervalBytes = options.indexIntervalBytes;
    this.rollJitterMs = options.rollJitterMs;
    this.time = options.time;
    this.logger = options.logger;
    this.created = options.time();
    this._lastModified = lastModified;
    this._nextOffset = baseOffset;
  }

  /**
   * Opens the segment's three files (creating missing ones when `create`). An
   * existing segment is not usable until load() or recover() has run.
   */
  static async open(
    dir: string,
    baseOffset: number,
    options: LogSegmentOptions,
    create = false,
    suffix = "",
  ): Promise<LogSegment> {
    const log = await FileRecords.open(logFilePath(dir, baseOffset, suffix), create);
    try {
      const offsetIndex = await OffsetIndex.open(
        offsetIndexFilePath(dir, baseOffset, suffix),
        baseOffset,
        options.maxIndexSize,
      );
      const timeIndex = await TimeIndex.open(
        timeIndexFilePath(dir, baseOffset, suffix),
        baseOffset,
        options.maxIndexSize,
      );
      const mtime = (await stat(log.path)).mtimeMs;
      return new LogSegment(baseOffset, log, offsetIndex, timeIndex, Math.floor(mtime), options);
    } catch (e) {
      await log.close();
      throw e;
    }
  }

  /**
   * Creates a new, empty segment with preallocated indexes: the new active segment,
   * or (with the ".cleaned" suffix) the log cleaner's replacement for old segments.
   */
  static async create(
    dir: string,
    baseOffset: number,
    options: LogSegmentOptions,
    suffix = "",
  ): Promise<LogSegment> {
    if (suffix === CLEANED_FILE_SUFFIX) {
      // Output of an earlier, interrupted clean is worthless: start afresh.
      for (const file of [logFilePath, offsetIndexFilePath, timeIndexFilePath]) {
        await rm(file(dir, baseOffset, suffix), { force: true });
      }
    }
    const segment = await LogSegment.open(dir, baseOffset, options, true, suffix);
    if (segment.size > 0) {
      await segment.closeHandlers();
      throw new Error(`segment ${logFilePath(dir, baseOffset)} already exists and holds data`);
    }
    // Leftover empty files (an interrupted roll) are reused; stale index entries are dropped.
    await segment.offsetIndex.reset();
    await segment.timeIndex.reset();
    await segment.makeActive();
    segment.rollingBasedTimestamp = null;
    return segment;
  }

  /**
   * Loads the indexes of a segment written before and checks them against the .log
   * file (as far as a scan of the batches after the last index entry shows), then
   * learns the next offset and largest timestamp. Throws CorruptIndexError or
   * CorruptRecordsError when the files disagree; the caller then runs recover().
   */
  async load(): Promise<void> {
    if (!this.offsetIndex.fileExisted)
      throw new CorruptIndexError(this.offsetIndex.path, "the file is missing");
    if (!this.timeIndex.fileExisted) throw new CorruptIndexError(this.timeIndex.path, "the file is missing");
    await this.offsetIndex.load();
    await this.timeIndex.load();
    await this.scanTail(true);
  }

  /**
   * Finds the next offset and the largest timestamp from the time index's last entry
   * and a scan of the batches after the last offset index entry.
   */
  private async scanTail(checkIndex: boolean): Promise<void> {
    const index = this.offsetIndex;
    const start = index.lastPosition;
    if (index.entries > 0 && start >= this.size) {
      throw new CorruptIndexError(
        index.path,
        `last entry points at byte ${start}, past the log's ${this.size} bytes`,
      );
    }
    let max: TimestampOffset =
      this.timeIndex.entries > 0 ? this.timeIndex.lastEntry : { timestamp: NO_TIMESTAMP, offset: -1 };
    let next = this.baseOffset;
    let first = true;
    for await (const { header } of this.log.batches(start)) {
      const last = lastOffsetOf(header);
      if (first && checkIndex && index.entries > 0 && last !== index.lastOffset) {
        throw new CorruptIndexError(
          index.path,
          `last entry says offset ${index.lastOffset}, the batch there ends at ${last}`,
        );
      }
      first = false;
      const ts = Number(header.maxTimestamp);
      if (ts > max.timestamp) max = { timestamp: ts, offset: last };
      next = last + 1;
    }
    if (this.timeIndex.entries > 0 && this.timeIndex.lastEntry.offset >= next) {
      throw new CorruptIndexError(
        this.timeIndex.path,
        `last entry names offset ${this.timeIndex.lastEntry.offset}, the segment ends before ${next}`,
      );
    }
    this._nextOffset = next;
    this.maxTimestampAndOffset = max;
  }

  /**
   * Rebuilds the indexes from the .log file, checking every batch (framing, CRC,
   * offsets increasing), and truncates the file at the first batch that fails (a
   * torn write or corruption). Returns the number of bytes truncated. `onBatch` sees
   * each valid batch, for rebuilding state kept outside the segment.
   */
  async recover(maxBatchSize: number, onBatch?: (header: RecordBatchHeader) => void): Promise<number> {
    await this.offsetIndex.reset();
    await this.timeIndex.reset();
    this.maxTimestampAndOffset = { timestamp: NO_TIMESTAMP, offset: -1 };
    this.rollingBasedTimestamp = null;
    const fileSize = this.log.size;
    let validBytes = 0;
    let lastIndexEntry = 0;
    let next = this.baseOffset;
    let chunk: Buffer = EMPTY;
    let chunkStart = 0;
    let problem: string | null = null;

    while (validBytes < fileSize) {
      const remaining = fileSize - validBytes;
      if (remaining < LOG_OVERHEAD) {
        problem = `${remaining} trailing bytes, too few for a batch`;
        break;
      }
      if (validBytes + LOG_OVERHEAD > chunkStart + chunk.length) {
        chunk = await this.log.read(validBytes, Math.min(remaining, RECOVERY_CHUNK));
        chunkStart = validBytes;
      }
      const batchLength = chunk.readInt32BE(validBytes - chunkStart + LOG_OVERHEAD - 4);
      const size = LOG_OVERHEAD + batchLength;
      if (batchLength < MIN_BATCH_LENGTH || size > maxBatchSize) {
        problem = `batch length ${batchLength} is outside ${MIN_BATCH_LENGTH}..${maxBatchSize - LOG_OVERHEAD}`;
        break;
      }
      if (size > remaining) {
        problem = `a partial batch: ${remaining} of its ${size} bytes are present`;
        break;
      }
      if (validBytes + size > chunkStart + chunk.length) {
        chunk = await this.log.read(validBytes, Math.min(remaining, Math.max(size, RECOVERY_CHUNK)));
        chunkStart = validBytes;
      }
      let header: RecordBatchHeader;
      try {
        header = validateBatch(chunk, validBytes - chunkStart);
      } catch (e) {
        if (!(e instanceof RecordBatchError)) throw e;
        problem = e.message;
        break;
      }
      const base = Number(header.baseOffset);
      const last = lastOffsetOf(header);
      if (base < next || last < base) {
        problem = `batch offsets ${base}..${last} do not follow offset ${next - 1}`;
        break;
      }
      if (!this.offsetIndex.canAppendOffset(last)) {
        problem = `offset ${last} does not fit an index based at ${this.baseOffset}`;
        break;
      }
      onBatch?.(header);
      const ts = Number(header.maxTimestamp);
      if (this.rollingBasedTimestamp === null) this.rollingBasedTimestamp = ts;
      if (ts > this.maxTimestampAndOffset.timestamp)
        this.maxTimestampAndOffset = { timestamp: ts, offset: last };
      if (validBytes - lastIndexEntry > this.indexIntervalBytes) {
        this.offsetIndex.append(last, validBytes);
        this.timeIndex.maybeAppend(this.maxTimestampAndOffset.timestamp, this.maxTimestampAndOffset.offset);
        lastIndexEntry = validBytes;
      }
      validBytes += size;
      next = last + 1;
    }

    const truncated = fileSize - validBytes;
    if (truncated > 0) {
      this.logger.warn("found invalid bytes in a log segment during recovery", {
        file: this.log.path,
        position: validBytes,
        offset: next,
        truncatedBytes: truncated,
        problem,
      });
      await this.log.truncateTo(validBytes);
    }
    this._nextOffset = next;
    this.bytesSinceLastIndexEntry = validBytes - lastIndexEntry;
    // A cleanly closed segment ends its time index with the largest timestamp; so does a recovered one.
    this.timeIndex.maybeAppend(this.maxTimestampAndOffset.timestamp, this.maxTimestampAndOffset.offset, true);
    await this.offsetIndex.trimToValidSize();
    await this.timeIndex.trimToValidSize();
    return truncated;
  }

  /** Bytes in the .log file (complete writes only). */
  get size(): number {
    return this.log.size;
  }

  /** The offset the next batch appended here would get: one past the last batch's last offset. */
  get nextOffset(): number {
    return this._nextOffset;
  }

  /** Largest batch max timestamp in the segment, NO_TIMESTAMP (-1) if none. */
  get maxTimestampSoFar(): number {
    return this.maxTimestampAndOffset.timestamp;
  }

  /** Last offset of the batch with the largest timestamp, -1 if none. */
  get offsetOfMaxTimestampSoFar(): number {
    return this.maxTimestampAndOffset.offset;
  }

  /** What retention.ms measures: the largest timestamp, or the file's last-modified time without one. */
  get largestTimestamp(): number {
    return this.maxTimestampSoFar >= 0 ? this.maxTimestampSoFar : this._lastModified;
  }

  get lastModified(): number {
    return this._lastModified;
  }

  /**
   * Sets the .log file's modification time. The log cleaner gives its output the
   * time of the newest segment it replaces, so retention by time (for batches
   * without timestamps) and the compaction lag see the data's age, not the clean's.
   */
  async setLastModified(ms: number): Promise<void> {
    const when = new Date(ms);
    await utimes(this.log.path, when, when);
    this._lastModified = ms;
  }

  /** Whether `offset` can be indexed in this segment (relative offsets are int32). */
  canConvertToRelativeOffset(offset: number): boolean {
    return this.offsetIndex.canAppendOffset(offset);
  }

  /** Kafka's roll rules: size, age, a full index, or offsets the index cannot hold. */
  async shouldRoll(p: RollParams): Promise<boolean> {
    const size = this.size;
    if (size > p.maxSegmentBytes - p.messagesSize) return true;
    if (this.offsetIndex.isFull || this.timeIndex.isFull) return true;
    if (!this.canConvertToRelativeOffset(p.maxOffsetInMessages)) return true;
    if (size === 0) return false;
    return (
      (await this.timeWaitedForRoll(p.now, p.maxTimestampInMessages)) > p.maxSegmentMs - this.rollJitterMs
    );
  }

  /**
   * How long this segment has waited to be rolled: measured in record time from the
   * first batch's timestamp when it has one (so a replayed or mirrored log rolls
   * where the original did), else in wall-clock time from the segment's creation.
   */
  async timeWaitedForRoll(now: number, messageTimestamp: number): Promise<number> {
    const first = await this.firstBatchTimestamp();
    return first !== null && first >= 0 ? messageTimestamp - first : now - this.created;
  }

  /**
   * The first batch's max timestamp (null for an empty segment): what time-based
   * rolling and max.compaction.lag.ms measure from.
   */
  async firstBatchTimestamp(): Promise<number | null> {
    if (this.rollingBasedTimestamp === undefined) {
      this.rollingBasedTimestamp = null;
      if (this.size > 0) {
        for await (const { header } of this.log.batches(0)) {
          this.rollingBasedTimestamp = Number(header.maxTimestamp);
          break;
        }
      }
    }
    return this.rollingBasedTimestamp;
  }

  /**
   * Appends batches whose offsets are already assigned (largestOffset is the last
   * one's last offset). Index entries are added per batch, each pointing at a batch
   * start with that batch's last offset, every index.interval.bytes, as Kafka (3.8+)
   * writes them and its DumpLogSegments tool checks them.
   */
  async append(
    largestOffset: number,
    largestTimestamp: number,
    offsetOfMaxTimestamp: number,
    batches: Buffer,
  ): Promise<void> {
    if (batches.length === 0) return;
    if (!this.canConvertToRelativeOffset(largestOffset)) {
      throw new RangeError(`offset ${largestOffset} does not fit segment ${this.log.path}`);
    }
    const position = await this.log.write(batches);
    // From here to the end of the loop nothing awaits: readers see the new bytes, the
    // new next offset and the new index entries together.
    this.log.commit(position + batches.length);
    this._lastModified = this.time();
    if (position === 0) this.rollingBasedTimestamp = largestTimestamp;
    let pos = 0;
    while (pos < batches.length) {
      const header = readBatchHeader(batches, pos);
      const ts = Number(header.maxTimestamp);
      const last = lastOffsetOf(header);
      if (ts > this.maxTimestampAndOffset.timestamp) {
        this.maxTimestampAndOffset = { timestamp: ts, offset: last };
      }
      if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes) {
        this.offsetIndex.append(last, position + pos);
        this.timeIndex.maybeAppend(this.maxTimestampAndOffset.timestamp, this.maxTimestampAndOffset.offset);
        this.bytesSinceLastIndexEntry = 0;
      }
      this.bytesSinceLastIndexEntry += header.size;
      pos += header.size;
    }
    if (largestTimestamp > this.maxTimestampAndOffset.timestamp) {
      this.maxTimestampAndOffset = { timestamp: largestTimestamp, offset: offsetOfMaxTimestamp };
    }
    this._nextOffset = largestOffset + 1;
    await this.offsetIndex.persist();
    await this.timeIndex.persist();
  }

  /**
   * Where the batch holding `offset` (or the first batch after it) starts, and its
   * size; null if the segment has no such batch below `maxPosition`.
   */
  async translateOffset(offset: number, maxPosition = this.size): Promise<BatchLocation | null> {
    return this.reading(() =>
      this.log.searchForOffset(
        offset,
        Math.min(this.offsetIndex.lookup(offset).position, maxPosition),
        maxPosition,
      ),
    );
  }

  /**
   * Reads whole batches starting with the one holding `startOffset` (or the first
   * after it): at most `maxBytes`, none at or past `maxPosition`, and with
   * `minOneBatch` at least the first batch however large. One index lookup, a short
   * header scan, one sequential read. Null when no batch here is at or past startOffset.
   */
  async read(
    startOffset: number,
    maxBytes: number,
    maxPosition = this.size,
    minOneBatch = false,
  ): Promise<SegmentReadResult | null> {
    if (!(maxBytes >= 0))
      throw new RangeError(`invalid maxBytes ${maxBytes} for a read from ${this.log.path}`);
    return this.reading(async () => {
      const start = Math.min(this.offsetIndex.lookup(startOffset).position, maxPosition);
      const found = await this.log.searchForOffset(startOffset, start, maxPosition);
      if (found === null) return null;
      const limit = minOneBatch ? Math.max(maxBytes, found.size) : maxBytes;
      if (limit < found.size) return { records: EMPTY, position: found.position, firstEntryIncomplete: true };
      const buf = await this.log.read(found.position, Math.min(maxPosition - found.position, limit));
      const length = completeBatchesLength(buf);
      return {
        records: length === buf.length ? buf : buf.subarray(0, length),
        position: found.position,
        firstEntryIncomplete: false,
      };
    });
  }

  /**
   * The first record with timestamp >= `timestamp` and offset >= `startingOffset`:
   * the time index narrows the scan, batch max timestamps pick the batch, and only
   * that batch's records are decoded.
   */
  async findOffsetByTimestamp(
    timestamp: number,
    startingOffset = this.baseOffset,
  ): Promise<TimestampAndOffset | null> {
    return this.reading(async () => {
      const fromIndex = this.timeIndex.lookup(timestamp);
      const start = this.offsetIndex.lookup(Math.max(fromIndex.offset, startingOffset)).position;
      for await (const { position, header } of this.log.batches(start, this.size)) {
        if (Number(header.maxTimestamp) < timestamp || lastOffsetOf(header) < startingOffset) continue;
        const found = await this.firstRecordMatching(
          position,
          header.size,
          (offset, ts) => ts >= timestamp && offset >= startingOffset,
        );
        if (found !== null) return found;
      }
      return null;
    });
  }

  /**
   * The record with the largest timestamp (the first such, by offset), for
   * ListOffsets with MAX_TIMESTAMP (-3); null for an empty segment.
   */
  async findMaxTimestampRecord(): Promise<TimestampAndOffset | null> {
    const { timestamp, offset } = this.maxTimestampAndOffset;
    if (offset < 0) return null;
    return this.reading(async () => {
      const start = this.offsetIndex.lookup(offset).position;
      for await (const { position, header } of this.log.batches(start, this.size)) {
        if (Number(header.maxTimestamp) !== timestamp) continue;
        const found = await this.firstRecordMatching(position, header.size, (_o, ts) => ts === timestamp);
        // A batch whose records disagree with its header: answer at batch granularity, as Kafka once did.
        return found ?? { offset: lastOffsetOf(header), timestamp, leaderEpoch: epochOf(header) };
      }
      return null;
    });
  }

  private async firstRecordMatching(
    position: number,
    size: number,
    match: (offset: number, timestamp: number) => boolean,
  ): Promise<TimestampAndOffset | null> {
    const bytes = await this.log.read(position, size);
    let header: RecordBatchHeader;
    try {
      header = readBatchHeader(bytes, 0);
      for (const record of iterateRecords(header)) {
        const offset = Number(record.offset);
        const ts = Number(record.timestamp);
        if (match(offset, ts)) return { offset, timestamp: ts, leaderEpoch: epochOf(header) };
      }
    } catch (e) {
      if (e instanceof RecordBatchError)
        throw new CorruptRecordsError(this.log.path, position, e.message, { cause: e });
      throw e;
    }
    return null;
  }

  /**
   * Removes every batch from the one holding `offset` on, and their index entries;
   * returns the bytes removed. The segment becomes (or stays) the active one.
   */
  async truncateTo(offset: number): Promise<number> {
    const mapping = await this.translateOffset(offset);
    await this.offsetIndex.truncateTo(offset);
    await this.timeIndex.truncateTo(offset);
    await this.makeActive();
    const removed = mapping === null ? 0 : await this.log.truncateTo(mapping.position);
    if (this.size === 0) {
      this.created = this.time();
      this.rollingBasedTimestamp = null;
    } else if (removed > 0 && this.rollingBasedTimestamp !== null) {
      this.rollingBasedTimestamp = undefined; // re-read from the file if needed
    }
    this.bytesSinceLastIndexEntry = 0;
    await this.scanTail(false);
    return removed;
  }

  /** Preallocates the indexes, as the active segment's are. */
  async makeActive(): Promise<void> {
    await this.offsetIndex.preallocate();
    await this.timeIndex.preallocate();
  }

  /** The segment was rolled: add the final time index entry and trim the indexes to size. */
  async onBecomeInactiveSegment(): Promise<void> {
    this.appendFinalTimeIndexEntry();
    await this.offsetIndex.trimToValidSize();
    await this.timeIndex.trimToValidSize();
  }

  private appendFinalTimeIndexEntry(): void {
    const { timestamp, offset } = this.maxTimestampAndOffset;
    if (offset >= 0) this.timeIndex.maybeAppend(timestamp, offset, true);
  }

  /** fsyncs the .log file and the indexes. */
  async flush(): Promise<void> {
    await this.log.flush();
    await this.offsetIndex.flush();
    await this.timeIndex.flush();
  }

  /** A clean close: final time index entry, indexes trimmed, everything fsynced. */
  async close(): Promise<void> {
    if (!this.log.isOpen) return;
    this.appendFinalTimeIndexEntry();
    await this.offsetIndex.trimToValidSize();
    await this.timeIndex.trimToValidSize();
    await this.flush();
    await this.closeHandlers();
  }

  /** Closes the files without writing anything (a crash, an offline log dir). */
  async closeHandlers(): Promise<void> {
    await this.offsetIndex.closeHandler();
    await this.timeIndex.closeHandler();
    await this.log.close();
  }

  /** Renames the three files, e.g. adding ".deleted" before they are removed. */
  async changeFileSuffixes(oldSuffix: string, newSuffix: string): Promise<void> {
    const swap = (p: string): string =>
      (p.endsWith(oldSuffix) ? p.slice(0, p.length - oldSuffix.length) : p) + newSuffix;
    await this.log.renameTo(swap(this.log.path));
    await this.offsetIndex.renameTo(swap(this.offsetIndex.path));
    await this.timeIndex.renameTo(swap(this.timeIndex.path));
  }

  /** Marks the segment for deletion by renaming its files to *.deleted (reads still work). */
  async markDeleted(): Promise<void> {
    await this.changeFileSuffixes("", DELETED_FILE_SUFFIX);
  }

  /** Closes and removes the files, once in-flight reads have finished. */
  async delete(): Promise<void> {
    await this.whenNoReaders();
    await this.offsetIndex.delete();
    await this.timeIndex.delete();
    await this.log.delete();
  }

  /** Resolves when no read of this segment is in flight. */
  whenNoReaders(): Promise<void> {
    if (this.readers === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Counts a reader of the files until the returned function is called, so
   * deletion waits for it (the log cleaner holds segments it reads this way).
   */
  pinForReading(): () => void {
    this.readers++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.readers === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    };
  }

  /** Counts a read in flight so deletion waits for it. */
  private async reading<T>(fn: () => Promise<T>): Promise<T> {
    const release = this.pinForReading();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  toString(): string {
    return `LogSegment(baseOffset=${this.baseOffset}, size=${this.size}, nextOffset=${this.nextOffset})`;
  }
}

function epochOf(header: RecordBatchHeader): number | null {
  const epoch = header.partitionLeaderEpoch;
  return epoch >= 0 ? epoch : null;
}
