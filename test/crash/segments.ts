// Looks at a partition's segment files on disk (Kafka's layout: <log.dirs>/<topic>-<partition>/
// <20-digit base offset>.log holding v2 record batches) and damages the active one the way a
// crash or a bad disk would. Not a test file.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { appendFile, readFile, stat } from "node:fs/promises";
import path from "node:path";

/** The active (highest base offset) .log segment of topic-partition under dataDir. */
export function activeSegment(dataDir: string, topic: string, partition: number): string {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  if (!existsSync(dir)) {
    throw new Error(`no partition directory ${dir}; ${dataDir} holds: ${readdirSync(dataDir).join(", ")}`);
  }
  const logs = readdirSync(dir)
    .filter((f) => /^\d+\.log$/.test(f))
    .sort();
  if (logs.length === 0) throw new Error(`no .log segment in ${dir}: ${readdirSync(dir).join(", ")}`);
  return path.join(dir, logs[logs.length - 1]);
}

export interface Batch {
  position: number;
  size: number;
  baseOffset: bigint;
  lastOffset: bigint;
}

/**
 * Walks the v2 record batches of a segment (baseOffset int64, batchLength int32, epoch int32,
 * magic int8, crc, attributes int16, lastOffsetDelta int32 ...). Returns undefined if the bytes
 * are not such batches back to back up to the end of the file.
 */
export function walkBatches(buf: Buffer): Batch[] | undefined {
  const out: Batch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 27 > buf.length) return undefined;
    const baseOffset = buf.readBigInt64BE(pos);
    const length = buf.readInt32BE(pos + 8);
    const magic = buf.readInt8(pos + 16);
    if (length < 49 || magic !== 2 || pos + 12 + length > buf.length) return undefined;
    const lastOffsetDelta = buf.readInt32BE(pos + 23);
    out.push({
      position: pos,
      size: 12 + length,
      baseOffset,
      lastOffset: baseOffset + BigInt(lastOffsetDelta),
    });
    pos += 12 + length;
  }
  return out;
}

export interface Damage {
  file: string;
  /** Size of the file before the damage: where valid data ends. */
  validBytes: number;
  /** Offset the next record should get (when the file could be parsed). */
  nextOffset: bigint | undefined;
  appended: number;
  kind: string;
}

/** Appends random bytes (a garbage tail) to the segment. */
export async function appendGarbage(file: string, bytes = 97): Promise<Damage> {
  const buf = await readFile(file);
  const batches = walkBatches(buf);
  // Random, but never a plausible batch header by accident: first byte 0xff makes baseOffset negative.
  const junk = randomBytes(bytes);
  junk[0] = 0xff;
  await appendFile(file, junk);
  return {
    file,
    validBytes: buf.length,
    nextOffset: batches?.length ? batches[batches.length - 1].lastOffset + 1n : undefined,
    appended: bytes,
    kind: "random garbage",
  };
}

/**
 * Appends a torn write: the first part of a record batch whose header says it continues past
 * the end of the file. Made from a copy of the segment's last batch, renumbered to follow it,
 * when the segment parses as v2 batches; otherwise the first half of the segment's first 122 bytes.
 */
export async function appendTornBatch(file: string): Promise<Damage> {
  const buf = await readFile(file);
  const batches = walkBatches(buf);
  let torn: Buffer;
  let nextOffset: bigint | undefined;
  if (batches && batches.length > 0) {
    const last = batches[batches.length - 1];
    nextOffset = last.lastOffset + 1n;
    const copy = Buffer.from(buf.subarray(last.position, last.position + last.size));
    copy.writeBigInt64BE(nextOffset, 0);
    torn = copy.subarray(0, Math.max(20, Math.floor(copy.length / 2)));
  } else {
    torn = Buffer.from(buf.subarray(0, Math.min(61, Math.floor(buf.length / 2))));
  }
  await appendFile(file, torn);
  return {
    file,
    validBytes: buf.length,
    nextOffset,
    appended: torn.length,
    kind: batches ? "torn batch" : "torn bytes (unknown format)",
  };
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}
