// Splits a TCP byte stream into Kafka request frames (int32 size + body). The size
// is checked against the limit before any allocation; a frame that arrives whole in
// one chunk is a slice of that chunk, not a copy.
import { ProtocolError } from "../../protocol/wire/index.ts";

export class FrameReader {
  private readonly maxSize: number;
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  private frame: Buffer | null = null;
  private frameFill = 0;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  /** Feeds a chunk; returns the frames it completed. Throws ProtocolError on a bad size. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.frame === null) {
        if (this.headerFill === 0 && chunk.length - off >= 4) {
          const size = this.checkSize(chunk.readInt32BE(off));
          if (chunk.length - off - 4 >= size) {
            out.push(chunk.subarray(off + 4, off + 4 + size));
            off += 4 + size;
            continue;
          }
          this.header.writeInt32BE(size, 0);
          this.headerFill = 4;
          off += 4;
        } else {
          const n = Math.min(4 - this.headerFill, chunk.length - off);
          chunk.copy(this.header, this.headerFill, off, off + n);
          this.headerFill += n;
          off += n;
          if (this.headerFill < 4) break;
          this.checkSize(this.header.readInt32BE(0));
        }
        this.frame = Buffer.allocUnsafe(this.header.readInt32BE(0));
        this.frameFill = 0;
      }
      const n = Math.min(this.frame.length - this.frameFill, chunk.length - off);
      chunk.copy(this.frame, this.frameFill, off, off + n);
      this.frameFill += n;
      off += n;
      if (this.frameFill === this.frame.length) {
        out.push(this.frame);
        this.frame = null;
        this.headerFill = 0;
      }
    }
    return out;
  }

  private checkSize(size: number): number {
    if (size < 8)
      throw new ProtocolError("invalid-length", `request size ${size} is too small for a header`, 0);
    if (size > this.maxSize) {
      throw new ProtocolError(
        "invalid-length",
        `request size ${size} is larger than socket.request.max.bytes (${this.maxSize})`,
        0,
      );
    }
    return size;
  }
}
