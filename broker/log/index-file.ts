// What the offset and time indexes share: a file of fixed-size entries that is
// preallocated (zero-filled, sparse) to its maximum size while its segment is active
// and trimmed to the entries it holds once the segment is rolled or closed, as
// Kafka's AbstractIndex does. Kafka maps the file into memory; Node cannot, so the
// entries live in typed arrays (subclasses) for lookups, and new entries are written
// to the file with positional writes, batched per append (`persist`).
import type { FileHandle } from "node:fs/promises";
import { open, rename, rm } from "node:fs/promises";
import { CorruptIndexError } from "./errors.ts";

export abstract class IndexFile {
  readonly baseOffset: number;
  readonly entrySize: number;
  /** The preallocated size: the configured maximum rounded down to whole entries. */
  readonly maxIndexSize: number;
  protected count = 0;
  private _path: string;
  private fh: FileHandle | null;
  /** Entries [0, persisted) are in the file; later ones only in memory until persist(). */
  private persisted = 0;
  private preallocated = false;
  private readonly existed: boolean;
  /** Written or resized since the last fsync. */
  private dirty = false;
  /** The file holds exactly the persisted entries (no preallocated or stale tail). */
  private fileSizeIsExact = false;

  protected constructor(
    path: string,
    fh: FileHandle,
    existed: boolean,
    baseOffset: number,
    maxIndexSize: number,
    entrySize: number,
  ) {
    this._path = path;
    this.fh = fh;
    this.existed = existed;
    this.baseOffset = baseOffset;
    this.entrySize = entrySize;
    this.maxIndexSize = Math.max(entrySize, Math.floor(maxIndexSize / entrySize) * entrySize);
  }

  /** Opens the file for reading and writing, creating it (empty) if missing. */
  protected static async openFile(path: string): Promise<{ fh: FileHandle; existed: boolean }> {
    try {
      return { fh: await open(path, "r+"), existed: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      return { fh: await open(path, "w+"), existed: false };
    }
  }

  get path(): string {
    return this._path;
  }

  /** Whether the file was there when opened (a missing index means the segment needs rebuilding). */
  get fileExisted(): boolean {
    return this.existed;
  }

  get entries(): number {
    return this.count;
  }

  get maxEntries(): number {
    return this.maxIndexSize / this.entrySize;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Store the entries parsed from `buf` (the whole file) and return how many; throw CorruptIndexError if insane. */
  protected abstract decode(buf: Buffer): number;
  /** Entries [from, to) in the file's format. */
  protected abstract encode(from: number, to: number): Buffer;

  protected corrupt(message: string): CorruptIndexError {
    return new CorruptIndexError(this._path, message);
  }

  /** Reads and sanity-checks the entries on disk (a trailing run of preallocated zeros is allowed). */
  async load(): Promise<void> {
    const fh = this.handle();
    const { size } = await fh.stat();
    if (size % this.entrySize !== 0) {
      throw this.corrupt(`size ${size} is not a multiple of the ${this.entrySize}-byte entry size`);
    }
    const buf = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await fh.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.count = this.decode(buf.subarray(0, filled));
    this.persisted = this.count;
    this.preallocated = size > this.count * this.entrySize;
    this.fileSizeIsExact = !this.preallocated;
  }

  /** Whether the trailing bytes from `from` are all zero, as a preallocated tail is. */
  protected static isZero(buf: Buffer, from: number): boolean {
    for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
    return true;
  }

  /** Writes the entries appended since the last persist, in one positional write. */
  async persist(): Promise<void> {
    if (this.persisted >= this.count) return;
    const from = this.persisted;
    const to = this.count;
    this.dirty = true;
    await writeFully(this.handle(), this.encode(from, to), from * this.entrySize);
    // A truncation may have run while the write was in flight; never claim more than exists.
    this.persisted = Math.max(this.persisted, Math.min(to, this.count));
  }

  /** Keeps the first `n` entries, in memory and on disk (no stale entries are left beyond them). */
  protected async truncateToEntries(n: number): Promise<void> {
    if (n >= this.count) return;
    this.count = n;
    if (this.persisted > n) {
      this.persisted = n;
      this.dirty = true;
      await this.handle().truncate(n * this.entrySize);
      if (this.preallocated) await this.handle().truncate(this.maxIndexSize);
    }
  }

  /** Drops every entry (before a rebuild). */
  async reset(): Promise<void> {
    await this.truncateToEntries(0);
  }

  /** Shrinks the file to its entries: what a rolled or closed segment's index looks like. */
  async trimToValidSize(): Promise<void> {
    await this.persist();
    if (!this.preallocated && this.fileSizeIsExact) return;
    this.dirty = true;
    await this.handle().truncate(this.count * this.entrySize);
    this.preallocated = false;
    this.fileSizeIsExact = true;
  }

  /** Grows the file (zero-filled, sparse) to the maximum size, for the active segment. */
  async preallocate(): Promise<void> {
    await this.persist();
    if (this.count * this.entrySize > this.maxIndexSize) return; // holds more than the current limit allows
    this.dirty = true;
    await this.handle().truncate(this.maxIndexSize);
    this.preallocated = true;
    this.fileSizeIsExact = false;
  }

  /** Persists pending entries and fsyncs if anything changed since the last fsync. */
  async flush(): Promise<void> {
    await this.persist();
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.handle().sync();
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }

  /** Persists, trims and closes (a cleanly closed index holds exactly its entries). */
  async close(): Promise<void> {
    if (this.fh === null) return;
    await this.trimToValidSize();
    await this.closeHandler();
  }

  /** Closes the file as it is, without writing (a crashed or offline log). */
  async closeHandler(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }

  async renameTo(path: string): Promise<void> {
    await rename(this._path, path);
    this._path = path;
  }

  /** Closes and removes the file. */
  async delete(): Promise<void> {
    await this.closeHandler();
    await rm(this._path, { force: true });
  }

  private handle(): FileHandle {
    if (this.fh === null) throw new Error(`${this._path} is closed`);
    return this.fh;
  }
}

/** Positional write that retries short writes. */
export async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`short write at ${position + done}`);
    done += bytesWritten;
  }
}

/** Largest i in [0, n) with key(i) <= target (keys ascending), or -1 if none. */
export function largestLowerBound(n: number, key: (i: number) => number, target: number): number {
  let lo = 0;
  let hi = n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (key(mid) <= target) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Number of leading entries with key(i) < target (keys non-decreasing). */
export function countBelow(n: number, key: (i: number) => number, target: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(mid) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A typed array with room for at least `needed` entries, copying `used` of them over. */
export function grow<T extends Int32Array | Float64Array>(
  arr: T,
  needed: number,
  used: number,
  make: (n: number) => T,
): T {
  if (needed <= arr.length) return arr;
  let size = Math.max(16, arr.length);
  while (size < needed) size *= 2;
  const next = make(size);
  next.set(arr.subarray(0, used));
  return next;
}
