// The five codecs a batch's records may be compressed with, as one blob per batch.
// Decompression is bounded: a batch of a megabyte can claim to hold gigabytes, so
// every codec stops (or refuses to start) once the output would pass `maxBytes`.
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { RecordBatchError, decompressedTooLarge, messageOf } from "./errors.ts";
import { compressLz4Frame, decompressLz4Frames } from "./lz4-frame.ts";
import { compressSnappy, decompressSnappy } from "./snappy.ts";

export const Compression = {
  NONE: 0,
  GZIP: 1,
  SNAPPY: 2,
  LZ4: 3,
  ZSTD: 4,
} as const;
export type CompressionType = (typeof Compression)[keyof typeof Compression];

/** Codec names as Kafka's compression.type config spells them, indexed by codec id. */
export const COMPRESSION_NAMES: readonly string[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/**
 * The default ceiling on a batch's decompressed records. Kafka itself sets none, but
 * produced batches are at most a request (1 MiB by default) and real data rarely
 * compresses past 50:1, so this leaves room for legitimate batches while keeping a
 * hostile one from taking the process's memory.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024;

export function isKnownCompression(codec: number): codec is CompressionType {
  return Number.isInteger(codec) && codec >= 0 && codec <= 4;
}

/** The codec for a compression.type name ("gzip", ...), or undefined if unknown. */
export function compressionFromName(name: string): CompressionType | undefined {
  const i = COMPRESSION_NAMES.indexOf(name.toLowerCase());
  return i === -1 ? undefined : (i as CompressionType);
}

function unsupported(codec: number): RecordBatchError {
  return new RecordBatchError("UNSUPPORTED_COMPRESSION_TYPE", `unknown compression codec ${codec}`);
}

/** Compresses a records section the way the Java client does, for any reader to accept. */
export function compress(codec: CompressionType, data: Buffer): Buffer {
  switch (codec) {
    case Compression.NONE:
      return data;
    case Compression.GZIP:
      return gzipSync(data);
    case Compression.SNAPPY:
      return compressSnappy(data);
    case Compression.LZ4:
      return compressLz4Frame(data);
    case Compression.ZSTD:
      return zstdCompressSync(data);
    default:
      throw unsupported(codec);
  }
}

/**
 * Decompresses a records section. Throws RecordBatchError: UNSUPPORTED_COMPRESSION_TYPE
 * for an unknown codec, CORRUPT_MESSAGE for undecodable data, MESSAGE_TOO_LARGE when
 * the output would exceed `maxBytes`.
 */
export function decompress(codec: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  if (!isKnownCompression(codec)) throw unsupported(codec);
  if (codec === Compression.NONE) {
    if (data.length > maxBytes) throw decompressedTooLarge(maxBytes);
    return data;
  }
  let out: Buffer;
  try {
    switch (codec) {
      case Compression.GZIP:
        out = gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
        break;
      case Compression.SNAPPY:
        out = decompressSnappy(data, maxBytes);
        break;
      case Compression.LZ4:
        out = decompressLz4Frames(data, maxBytes);
        break;
      case Compression.ZSTD:
        // Only the first zstd frame is decoded; Kafka writers emit one. Anything lost
        // would show as missing records, which the record reader reports.
        out = zstdDecompressSync(data, { maxOutputLength: Math.max(1, maxBytes) });
        break;
    }
  } catch (e) {
    if (e instanceof RecordBatchError) throw e;
    // zlib's way of saying the output passed maxOutputLength.
    if (e instanceof RangeError && (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw decompressedTooLarge(maxBytes);
    }
    throw new RecordBatchError(
      "CORRUPT_MESSAGE",
      `cannot decompress ${COMPRESSION_NAMES[codec]} records: ${messageOf(e)}`,
      { cause: e },
    );
  }
  if (out.length > maxBytes) throw decompressedTooLarge(maxBytes);
  return out;
}
