// The log cleaner's key -> latest offset map over the dirty part of a compacted log,
// in a fixed amount of memory as Kafka's SkimpyOffsetMap keeps it: keys are not
// stored, only their MD5 (16 bytes) beside the offset (8 bytes), 24 bytes a slot in
// an open-addressed table. Two keys with the same MD5 would count as one key and
// the older's records could be dropped; with 128-bit hashes that is a risk Kafka
// accepts and so do we.
import { hash } from "node:crypto";

/** Bytes a slot takes: the key's 16-byte hash and its 8-byte offset. */
export const OFFSET_MAP_SLOT_SIZE = 24;
const HASH_SIZE = 16;
const EMPTY = -1;

export class OffsetMap {
  /** Table size: a prime, so double hashing visits every slot. */
  readonly slots: number;
  private readonly hashes: Buffer;
  private readonly offsets: Float64Array;
  private entries = 0;
  private _latestOffset = -1;

  /** A map of at most `maxSlots` slots (rounded down to a prime, at least 3): 24 bytes each. */
  constructor(maxSlots: number) {
    this.slots = largestPrimeAtMost(Math.max(3, Math.floor(maxSlots)));
    this.hashes = Buffer.alloc(this.slots * HASH_SIZE);
    this.offsets = new Float64Array(this.slots).fill(EMPTY);
  }

  /** How many slots `bytes` of memory hold (log.cleaner.dedupe.buffer.size). */
  static slotsFor(bytes: number): number {
    return Math.floor(bytes / OFFSET_MAP_SLOT_SIZE);
  }

  /** Distinct keys stored. */
  get size(): number {
    return this.entries;
  }

  /** The share of slots in use. */
  get utilization(): number {
    return this.entries / this.slots;
  }

  /** The last offset the map covers: records above it were not looked at. */
  get latestOffset(): number {
    return this._latestOffset;
  }

  /** Moves latestOffset up (never down). */
  updateLatestOffset(offset: number): void {
    if (offset > this._latestOffset) this._latestOffset = offset;
  }

  /**
   * Records `offset` as the latest for `key`. A key already present is always
   * updated; a new one only while the map holds fewer than `maxEntries` keys.
   * Returns false (storing nothing) when the map is that full.
   */
  put(key: Buffer, offset: number, maxEntries = this.slots - 1): boolean {
    const h = keyHash(key);
    const slot = this.find(h);
    if (this.offsets[slot] === EMPTY) {
      if (this.entries >= Math.min(maxEntries, this.slots - 1)) return false;
      h.copy(this.hashes, slot * HASH_SIZE);
      this.entries++;
    }
    this.offsets[slot] = offset;
    return true;
  }

  /** The latest offset recorded for `key`, or -1. */
  get(key: Buffer): number {
    return this.offsets[this.find(keyHash(key))];
  }

  clear(): void {
    this.offsets.fill(EMPTY);
    this.entries = 0;
    this._latestOffset = -1;
  }

  /** The slot holding hash `h`, or the empty slot where it would go (one is always left empty). */
  private find(h: Buffer): number {
    const n = this.slots;
    let slot = h.readUInt32BE(0) % n;
    const step = 1 + (h.readUInt32BE(4) % (n - 1));
    for (;;) {
      if (this.offsets[slot] === EMPTY) return slot;
      const at = slot * HASH_SIZE;
      if (this.hashes.compare(h, 0, HASH_SIZE, at, at + HASH_SIZE) === 0) return slot;
      slot += step;
      if (slot >= n) slot -= n;
    }
  }
}

function keyHash(key: Buffer): Buffer {
  return hash("md5", key, "buffer");
}

function largestPrimeAtMost(n: number): number {
  for (let candidate = n; candidate > 2; candidate--) if (isPrime(candidate)) return candidate;
  return 2;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}
