// LZ4 as Kafka's v2 batches use it: the standard LZ4 frame format. We walk the frame
// ourselves and hand each block to lz4-napi's block decoder with an output ceiling,
// because the library's frame decoder has no output limit: a frame of 4 MiB blocks
// could otherwise expand a small batch into gigabytes before we could object.
//
// Frame: magic 0x184D2204 (LE) | FLG | BD | [content size 8] | [dict id 4] | HC |
//   blocks of (uint32 LE size, high bit = stored uncompressed | data | [checksum 4]) |
//   end mark (size 0) | [content checksum 4]
// Checksums are skipped, not verified: the batch CRC-32C already covers these bytes.
import { compressFrameSync, uncompressSync } from "lz4-napi";
import { RecordBatchError, decompressedTooLarge, messageOf } from "./errors.ts";

const FRAME_MAGIC = 0x184d2204;
/** Skippable frames carry metadata a decoder ignores: magic 0x184D2A50..0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const UNCOMPRESSED_BIT = 0x80000000;
/** A linked block may copy from the 64 KiB of output before it. */
const LINKED_WINDOW = 64 * 1024;

const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
/** BD: bits other than the block maximum size (bits 4-6) are reserved, zero. */
const BD_RESERVED = 0x8f;

/**
 * A frame with independent blocks and no checksums (lz4-napi's defaults), which every
 * Kafka reader accepts; the Java client decodes each block on its own, so linked
 * blocks would not do.
 */
export function compressLz4Frame(data: Buffer): Buffer {
  return compressFrameSync(data);
}

/** Decodes one or more concatenated LZ4 frames, failing once output passes `maxBytes`. */
export function decompressLz4Frames(data: Buffer, maxBytes: number): Buffer {
  const out: Buffer[] = [];
  let total = 0;
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (data.length - pos < n) throw corrupt(`${what} cut short at byte ${pos}`);
  };

  do {
    need(4, "frame magic");
    const magic = data.readUInt32LE(pos);
    pos += 4;
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(4, "skippable frame size");
      const size = data.readUInt32LE(pos);
      pos += 4;
      need(size, "skippable frame");
      pos += size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`);

    need(2, "frame descriptor");
    const flg = data[pos];
    const bd = data[pos + 1];
    pos += 2;
    if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) {
      throw corrupt(`unsupported frame version in FLG 0x${hex2(flg)}`);
    }
    if (flg & FLG_RESERVED || bd & BD_RESERVED) {
      throw corrupt(`reserved descriptor bits set (FLG 0x${hex2(flg)}, BD 0x${hex2(bd)})`);
    }
    // A dictionary id names an external dictionary agreed out of band; Kafka has none.
    if (flg & FLG_DICT_ID) throw corrupt("frame needs an external dictionary");
    const sizeCode = (bd >> 4) & 0x07;
    if (sizeCode < 4) throw corrupt(`bad block size code ${sizeCode}`);
    const blockMax = 1 << (2 * sizeCode + 8); // 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
    const linked = (flg & FLG_BLOCK_INDEPENDENT) === 0;
    const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
    const skip = (flg & FLG_CONTENT_SIZE ? 8 : 0) + 1; // content size, header checksum
    need(skip, "frame descriptor");
    pos += skip;
    const frameStart = out.length;

    for (;;) {
      need(4, "block size");
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break; // end mark
      const size = (word & ~UNCOMPRESSED_BIT) >>> 0;
      if (size > blockMax) {
        throw corrupt(`block of ${size} bytes exceeds the frame's ${blockMax}-byte maximum`);
      }
      need(size + (blockChecksum ? 4 : 0), "block");
      const block = data.subarray(pos, pos + size);
      pos += size + (blockChecksum ? 4 : 0);

      let decoded: Buffer;
      if (word & UNCOMPRESSED_BIT) {
        decoded = block;
      } else {
        const limit = Math.min(blockMax, maxBytes - total);
        const dict = linked ? window(out, frameStart) : undefined;
        decoded = decodeBlock(block, limit, dict, limit < blockMax ? maxBytes : null);
      }
      total += decoded.length;
      if (total > maxBytes) throw decompressedTooLarge(maxBytes);
      out.push(decoded);
    }
    if (flg & FLG_CONTENT_CHECKSUM) {
      need(4, "content checksum");
      pos += 4;
    }
  } while (pos < data.length);

  return out.length === 1 ? out[0] : Buffer.concat(out, total);
}

/**
 * Decodes one compressed block into at most `limit` bytes. lz4-napi's block decoder
 * takes the output size as a 4-byte little-endian prefix and treats it as a ceiling.
 * `cappedBy` is the caller's limit when that (not the block maximum) set `limit`, so
 * an overflow there is reported as too large rather than corrupt.
 */
function decodeBlock(
  block: Buffer,
  limit: number,
  dict: Buffer | undefined,
  cappedBy: number | null,
): Buffer {
  const input = Buffer.allocUnsafe(4 + block.length);
  input.writeUInt32LE(Math.max(0, limit), 0);
  block.copy(input, 4);
  try {
    return uncompressSync(input, dict);
  } catch (e) {
    if (cappedBy !== null) throw decompressedTooLarge(cappedBy);
    throw corrupt(messageOf(e), e);
  }
}

/** The last 64 KiB decoded in the current frame, which a linked block may refer to. */
function window(out: Buffer[], frameStart: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let bytes = 0;
  for (let i = out.length - 1; i >= frameStart && bytes < LINKED_WINDOW; i--) {
    const part = out[i];
    const take = Math.min(part.length, LINKED_WINDOW - bytes);
    parts.unshift(part.subarray(part.length - take));
    bytes += take;
  }
  if (bytes === 0) return undefined;
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function corrupt(message: string, cause?: unknown): RecordBatchError {
  return new RecordBatchError("CORRUPT_MESSAGE", `cannot decompress lz4 records: ${message}`, { cause });
}
