// A segment's .log file: record batches back to back, exactly as they went over
// the wire (after the broker assigned offsets). Appends are positional writes at
// the end; `size` only grows when the segment commits a completed write, so
// concurrent readers that stop at `size` never see a half-written batch. Header
// scans read the file in windows and look at batch headers only, never at records.
import type { FileHandle } from "node:fs/promises";
import { open, rename, rm } from "node:fs/promises";
import {
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
  RecordBatchError,
  readBatchHeader,
  type RecordBatchHeader,
} from "../../protocol/records/index.ts";
import { CorruptRecordsError } from "./errors.ts";
import { writeFully } from "./index-file.ts";

/** Bytes read at a time while walking batch headers (about one offset-index interval). */
const HEADER_WINDOW = 16 * 1024;

export interface BatchAt {
  /** Where the batch starts in the file. */
  position: number;
  /** A view of the header (and, if the window held them, some of the records). */
  header: RecordBatchHeader;
}

export interface BatchLocation {
  position: number;
  size: number;
}

export class FileRecords {
  private _path: string;
  private fh: FileHandle | null;
  private _size: number;
  /** Written since the last fsync. */
  private dirty = false;

  private constructor(path: string, fh: FileHandle, size: number) {
    this._path = path;
    this.fh = fh;
    this._size = size;
  }

  /** Opens the file for reading and appending; creates it when `create` and missing. */
  static async open(path: string, create: boolean): Promise<FileRecords> {
    let fh: FileHandle;
    try {
      fh = await open(path, "r+");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || !create) throw e;
      fh = await open(path, "w+");
    }
    const { size } = await fh.stat();
    return new FileRecords(path, fh, size);
  }

  get path(): string {
    return this._path;
  }

  /** Bytes of complete writes. */
  get size(): number {
    return this._size;
  }

  get isOpen(): boolean {
    return this.fh !== null;
  }

  /**
   * Writes `data` after the last committed byte and returns where. The bytes stay
   * invisible (outside `size`) until commit(), so the segment can publish the new
   * size together with its next offset. Callers serialize writes.
   */
  async write(data: Buffer): Promise<number> {
    const position = this._size;
    this.dirty = true;
    await writeFully(this.handle(), data, position);
    return position;
  }

  /** Makes the bytes written up to `size` visible to readers. */
  commit(size: number): void {
    if (size < this._size)
      throw new RangeError(`cannot commit ${size} bytes of ${this._path}, ${this._size} are`);
    this._size = size;
  }

  /** Reads up to `length` bytes at `position` (fewer only at the end of the file). */
  async read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(Math.max(0, length));
    let filled = 0;
    const fh = this.handle();
    while (filled < length) {
      const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buf : buf.subarray(0, filled);
  }

  /**
   * Walks the batch headers in [start, end): each batch's framing is checked (length
   * and magic), not its CRC. Throws CorruptRecordsError where the framing breaks or
   * a batch runs past `end`. The yielded header views stay valid after iteration moves on.
   */
  async *batches(start = 0, end = this._size): AsyncGenerator<BatchAt, void, undefined> {
    let window: Buffer = Buffer.alloc(0);
    let windowStart = start;
    let pos = start;
    while (pos < end) {
      let rel = pos - windowStart;
      if (rel + RECORD_BATCH_HEADER_SIZE > window.length) {
        const want = Math.min(end - pos, HEADER_WINDOW);
        if (want < RECORD_BATCH_HEADER_SIZE) {
          throw new CorruptRecordsError(this._path, pos, `${end - pos} bytes left, less than a batch header`);
        }
        window = await this.read(pos, want);
        windowStart = pos;
        rel = 0;
        if (window.length < RECORD_BATCH_HEADER_SIZE) {
          throw new CorruptRecordsError(this._path, pos, "the file ends inside a batch header");
        }
      }
      let header: RecordBatchHeader;
      try {
        header = readBatchHeader(window, rel);
      } catch (e) {
        if (e instanceof RecordBatchError)
          throw new CorruptRecordsError(this._path, pos, e.message, { cause: e });
        throw e;
      }
      const size = header.size;
      if (pos + size > end) {
        throw new CorruptRecordsError(this._path, pos, `batch of ${size} bytes runs past byte ${end}`);
      }
      yield { position: pos, header };
      pos += size;
    }
  }

  /**
   * Walks the batches in [start, end) with all their bytes: reads about
   * `chunkBytes` at a time (a larger batch whole), so each yielded header's buffer
   * holds the complete batch (the log cleaner decodes and copies them). Framing is
   * checked as in batches(); CRCs are not.
   */
  async *wholeBatches(start = 0, end = this._size, chunkBytes = 1024 * 1024): AsyncGenerator<BatchAt> {
    let pos = start;
    while (pos < end) {
      let chunk = await this.read(pos, Math.min(end - pos, chunkBytes));
      let rel = 0;
      while (chunk.length - rel >= LOG_OVERHEAD) {
        const size = LOG_OVERHEAD + chunk.readInt32BE(rel + LOG_OVERHEAD - 4);
        if (size < RECORD_BATCH_HEADER_SIZE) {
          throw new CorruptRecordsError(
            this._path,
            pos + rel,
            `batch length ${size - LOG_OVERHEAD} is too small`,
          );
        }
        if (pos + rel + size > end) {
          throw new CorruptRecordsError(
            this._path,
            pos + rel,
            `batch of ${size} bytes runs past byte ${end}`,
          );
        }
        if (rel + size > chunk.length) {
          if (rel > 0) break; // the next read starts with this batch
          chunk = await this.read(pos, size);
          if (chunk.length < size)
            throw new CorruptRecordsError(this._path, pos, "the file ends inside a batch");
        }
        let header: RecordBatchHeader;
        try {
          header = readBatchHeader(chunk, rel);
        } catch (e) {
          if (e instanceof RecordBatchError)
            throw new CorruptRecordsError(this._path, pos + rel, e.message, { cause: e });
          throw e;
        }
        yield { position: pos + rel, header };
        rel += size;
      }
      if (rel === 0)
        throw new CorruptRecordsError(this._path, pos, `${end - pos} bytes left, less than a batch`);
      pos += rel;
    }
  }

  /**
   * The first batch at or after `start` (and before `end`) whose last offset is >=
   * `target`, i.e. the batch holding `target` or the first one after it; null if none.
   */
  async searchForOffset(target: number, start: number, end = this._size): Promise<BatchLocation | null> {
    for await (const { position, header } of this.batches(start, end)) {
      if (lastOffsetOf(header) >= target) return { position, size: header.size };
    }
    return null;
  }

  /** Cuts the file to `size` bytes; returns how many were removed. */
  async truncateTo(size: number): Promise<number> {
    if (size < 0 || size > this._size)
      throw new RangeError(`cannot truncate ${this._path} (${this._size} bytes) to ${size}`);
    const removed = this._size - size;
    if (removed === 0) return 0;
    this.dirty = true;
    await this.handle().truncate(size);
    this._size = size;
    return removed;
  }

  /** fsyncs the file if anything was written since the last fsync. */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.handle().sync();
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }

  async renameTo(path: string): Promise<void> {
    await rename(this._path, path);
    this._path = path;
  }

  async delete(): Promise<void> {
    await this.close();
    await rm(this._path, { force: true });
  }

  private handle(): FileHandle {
    if (this.fh === null) throw new Error(`${this._path} is closed`);
    return this.fh;
  }
}

/** The last offset of a batch, read as a number (offsets stay far below 2^53). */
export function lastOffsetOf(header: RecordBatchHeader): number {
  return Number(header.baseOffset) + header.lastOffsetDelta;
}

/**
 * The length of the complete batches at the start of `buf`, walking only the
 * length fields. Used to cut a read at a batch boundary.
 */
export function completeBatchesLength(buf: Buffer): number {
  let pos = 0;
  while (pos + LOG_OVERHEAD <= buf.length) {
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + LOG_OVERHEAD - 4);
    if (size < RECORD_BATCH_HEADER_SIZE || pos + size > buf.length) break;
    pos += size;
  }
  return pos;
}
