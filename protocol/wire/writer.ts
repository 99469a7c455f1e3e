// Growable writer for Kafka's wire types. Large opaque payloads (record batches)
// are not copied: they are kept as separate chunks, so a fetch response can go to
// the socket as a list of buffers.
import { EncodeError } from "./errors.ts";
import type { RawTaggedField } from "./reader.ts";
import { uuidToBytes } from "./uuid.ts";

/** Payloads at least this large are referenced, not copied. */
const CHUNK_THRESHOLD = 4096;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Finished chunks before `buf`; empty unless a large payload was added. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunkBytes + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  bool(v: boolean): void {
    this.int8(v ? 1 : 0);
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  uuid(v: string): void {
    this.raw(uuidToBytes(v));
  }

  uvarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(`uvarint out of range: ${v}`);
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  /** Appends bytes: copied when small, referenced as their own chunk when large. */
  raw(b: Buffer): void {
    if (b.length >= CHUNK_THRESHOLD) {
      this.flushChunk();
      this.chunks.push(b);
      this.chunkBytes += b.length;
      return;
    }
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private flushChunk(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.chunkBytes += this.pos;
    this.buf = Buffer.allocUnsafe(Math.max(256, this.buf.length - this.pos));
    this.pos = 0;
  }

  private utf8(v: string, lengthPrefix: (n: number) => void): void {
    const n = Buffer.byteLength(v, "utf8");
    lengthPrefix(n);
    this.ensure(n);
    this.buf.write(v, this.pos, n, "utf8");
    this.pos += n;
  }

  string(v: string): void {
    this.utf8(v, (n) => {
      if (n > 0x7fff) throw new EncodeError("string longer than 32767 bytes");
      this.int16(n);
    });
  }

  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }

  compactString(v: string): void {
    this.utf8(v, (n) => this.uvarint(n + 1));
  }

  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }

  bytes(v: Buffer): void {
    this.int32(v.length);
    this.raw(v);
  }

  nullableBytes(v: Buffer | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }

  compactBytes(v: Buffer): void {
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  compactNullableBytes(v: Buffer | null): void {
    if (v === null) this.uvarint(0);
    else this.compactBytes(v);
  }

  arrayLength(n: number): void {
    this.int32(n);
  }

  compactArrayLength(n: number): void {
    this.uvarint(n + 1);
  }

  /**
   * Writes a tagged-field section: the known fields (each encoded by its callback,
   * skipped when the callback is undefined) and the unknown ones kept from decoding,
   * in ascending tag order as the protocol requires.
   */
  taggedFields(known: Array<[number, ((w: Writer) => void) | undefined]>, unknown?: RawTaggedField[]): void {
    const entries: Array<[number, Buffer]> = [];
    for (const [tag, encode] of known) {
      if (encode === undefined) continue;
      const w = new Writer(64);
      encode(w);
      entries.push([tag, w.toBuffer()]);
    }
    if (unknown) for (const f of unknown) entries.push([f.tag, f.data]);
    if (entries.length > 1) entries.sort((a, b) => a[0] - b[0]);
    this.uvarint(entries.length);
    for (const [tag, data] of entries) {
      this.uvarint(tag);
      this.uvarint(data.length);
      this.raw(data);
    }
  }

  /** An empty tagged-field section, or only the unknown fields kept from decoding. */
  emptyTaggedFields(unknown?: RawTaggedField[]): void {
    if (unknown === undefined || unknown.length === 0) this.uvarint(0);
    else this.taggedFields([], unknown);
  }

  /** The bytes as a list of buffers (large payloads not copied). */
  toChunks(): Buffer[] {
    this.flushChunk();
    return this.chunks;
  }

  /** The bytes as one buffer. */
  toBuffer(): Buffer {
    if (this.chunks.length === 0) return this.buf.subarray(0, this.pos);
    const chunks = this.toChunks();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }
}
