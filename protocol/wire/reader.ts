// Bounds-checked reader for Kafka's wire types. Every length and count is checked
// against the bytes actually left before anything is allocated, so a hostile length
// field can never make us allocate or loop on its say-so.
import { ProtocolError } from "./errors.ts";
import { uuidFromBytes } from "./uuid.ts";

/** A tagged field this codec does not know, kept as raw bytes so re-encoding is exact. */
export interface RawTaggedField {
  tag: number;
  data: Buffer;
}

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) {
      throw new ProtocolError("truncated", `need ${n} bytes, ${this.end - this.pos} left`, this.pos);
    }
  }

  /** Fails unless the whole input was consumed. */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new ProtocolError("trailing-bytes", `${this.end - this.pos} bytes after ${what}`, this.pos);
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  uuid(): string {
    this.need(16);
    const v = uuidFromBytes(this.buf, this.pos);
    this.pos += 16;
    return v;
  }

  /** Unsigned LEB128 varint of at most 32 bits (Kafka's compact lengths and tags). */
  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) break;
        return result;
      }
    }
    throw new ProtocolError("invalid-value", "unsigned varint longer than 32 bits", this.pos);
  }

  /** Zigzag-encoded signed varint of at most 32 bits (record fields). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zigzag-encoded signed varint of at most 64 bits (record timestamps). */
  varlong(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      this.need(1);
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (result >> 64n !== 0n) break;
        return (result >> 1n) ^ -(result & 1n);
      }
    }
    throw new ProtocolError("invalid-value", "varlong longer than 64 bits", this.pos);
  }

  /** A slice of the input (no copy). */
  slice(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  private checkLength(n: number, what: string): void {
    if (n < 0) throw new ProtocolError("invalid-length", `negative ${what} length ${n}`, this.pos);
    if (n > this.end - this.pos) {
      throw new ProtocolError(
        "invalid-length",
        `${what} length ${n} exceeds the ${this.end - this.pos} bytes left`,
        this.pos,
      );
    }
  }

  private utf8(n: number): string {
    this.checkLength(n, "string");
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  private nonNull<T>(v: T | null, what: string): T {
    if (v === null)
      throw new ProtocolError("invalid-value", `null ${what} where the schema forbids null`, this.pos);
    return v;
  }

  nullableString(): string | null {
    const n = this.int16();
    return n === -1 ? null : this.utf8(n);
  }

  string(): string {
    return this.nonNull(this.nullableString(), "string");
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1);
  }

  compactString(): string {
    return this.nonNull(this.compactNullableString(), "string");
  }

  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n === -1) return null;
    this.checkLength(n, "bytes");
    return this.slice(n);
  }

  bytes(): Buffer {
    return this.nonNull(this.nullableBytes(), "bytes");
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.checkLength(n - 1, "bytes");
    return this.slice(n - 1);
  }

  compactBytes(): Buffer {
    return this.nonNull(this.compactNullableBytes(), "bytes");
  }

  /**
   * An array count (-1 for null). Every element takes at least one byte on the wire,
   * so a count larger than the bytes left is rejected before any element is read.
   */
  arrayLength(): number {
    const n = this.int32();
    if (n === -1) return -1;
    this.checkLength(n, "array");
    return n;
  }

  compactArrayLength(): number {
    const n = this.uvarint() - 1;
    if (n === -1) return -1;
    this.checkLength(n, "array");
    return n;
  }

  /**
   * Reads a tagged-field section. `field` gets each tag with a reader bounded to that
   * field's bytes and returns false for a tag it does not know; those are kept raw.
   */
  taggedFields(field: (tag: number, r: Reader) => boolean): RawTaggedField[] | undefined {
    const count = this.uvarint();
    this.checkLength(count, "tagged field section");
    let unknown: RawTaggedField[] | undefined;
    let lastTag = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= lastTag) {
        throw new ProtocolError(
          "invalid-value",
          `tagged field ${tag} out of order after ${lastTag}`,
          this.pos,
        );
      }
      lastTag = tag;
      const size = this.uvarint();
      this.checkLength(size, "tagged field");
      const r = this.sub(size);
      if (field(tag, r)) r.expectEnd(`tagged field ${tag}`);
      else (unknown ??= []).push({ tag, data: r.buf.subarray(r.pos, r.end) });
    }
    return unknown;
  }

  /** A reader over the next `size` bytes, advancing this one past them. */
  sub(size: number): Reader {
    this.need(size);
    const r = new Reader(this.buf, this.pos, this.pos + size);
    this.pos += size;
    return r;
  }
}
