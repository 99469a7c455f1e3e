// Snappy as Kafka uses it. The Java client writes snappy-java's ("xerial") framing:
//   magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00 | version int32 | compatible int32 |
//   then blocks of (int32 length | raw snappy block), each holding up to 32 KiB of input.
// librdkafka writes one raw snappy block instead; readers tell the two apart by the
// magic. We read both and write the framed form, as the Java client does, since that
// is what every Kafka reader has handled longest. Each raw block states its
// decompressed length up front, which lets us refuse a block that would exceed the
// limit before the library allocates for it.
import { compressSync, uncompressSync } from "snappy";
import { Reader } from "../wire/reader.ts";
import { RecordBatchError, decompressedTooLarge, messageOf } from "./errors.ts";

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, then version and minimum compatible version (both 1, as snappy-java writes). */
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size, which Kafka's Java client uses. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** Snappy in xerial framing, as the Java client writes it. */
export function compressSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  parts.push(header);
  // An empty input still gets one (empty) block: librdkafka only recognises the
  // framing when at least one block length follows the header.
  let pos = 0;
  do {
    const block = compressSync(data.subarray(pos, pos + XERIAL_BLOCK_SIZE));
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
    pos += XERIAL_BLOCK_SIZE;
  } while (pos < data.length);
  return Buffer.concat(parts);
}

/** Snappy in either framing: xerial (Java clients) or one raw block (librdkafka). */
export function decompressSnappy(data: Buffer, maxBytes: number): Buffer {
  if (!isXerialFramed(data)) return decompressRawBlock(data, maxBytes);
  const blocks: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt(`xerial block length cut short at byte ${pos}`);
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || length > data.length - pos) {
      throw corrupt(
        `xerial block length ${length} at byte ${pos - 4} exceeds the ${data.length - pos} bytes left`,
      );
    }
    const block = decompressRawBlock(data.subarray(pos, pos + length), maxBytes - total);
    pos += length;
    total += block.length;
    blocks.push(block);
  }
  return blocks.length === 1 ? blocks[0] : Buffer.concat(blocks, total);
}

/** One raw snappy block, refused up front if its stated length exceeds `maxBytes`. */
function decompressRawBlock(block: Buffer, maxBytes: number): Buffer {
  let stated: number;
  try {
    stated = new Reader(block).uvarint();
  } catch (e) {
    throw corrupt(`bad snappy length preamble`, e);
  }
  if (stated > maxBytes) throw decompressedTooLarge(maxBytes);
  let out: string | Buffer;
  try {
    out = uncompressSync(block);
  } catch (e) {
    throw corrupt(`snappy: ${messageOf(e)}`, e);
  }
  if (typeof out === "string") throw corrupt("snappy returned a string");
  return out;
}

function corrupt(message: string, cause?: unknown): RecordBatchError {
  return new RecordBatchError("CORRUPT_MESSAGE", `cannot decompress snappy records: ${message}`, { cause });
}
