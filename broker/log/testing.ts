// Helpers shared by this folder's tests (named so the test runner does not run it).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Fields, Logger } from "../../lib/logger.ts";
import {
  buildRecordBatch,
  iterateRecords,
  splitBatches,
  type BuildRecordBatchOptions,
  type CompressionType,
} from "../../protocol/records/index.ts";

/** A fresh directory under the OS temp dir, removed by the returned cleanup. */
export async function tempDir(
  prefix = "capstan-log-",
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface LogLine {
  level: string;
  msg: string;
  fields: Fields;
}

/** A logger that records what it is told instead of printing it. */
export function captureLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (base: Fields): Logger => ({
    debug: (msg, fields) => void lines.push({ level: "debug", msg, fields: { ...base, ...fields } }),
    info: (msg, fields) => void lines.push({ level: "info", msg, fields: { ...base, ...fields } }),
    warn: (msg, fields) => void lines.push({ level: "warn", msg, fields: { ...base, ...fields } }),
    error: (msg, fields) => void lines.push({ level: "error", msg, fields: { ...base, ...fields } }),
    child: (_c, fields) => make({ ...base, ...fields }),
  });
  return Object.assign(make({}), { lines });
}

export interface TestBatchOptions {
  /** Records in the batch (default 1). */
  count?: number;
  /** The first record's timestamp; later ones add 1 ms each (default 1_700_000_000_000). */
  timestamp?: number;
  /** Bytes of each record value (default 10). */
  valueSize?: number;
  /** Text the values start with, to recognise records when read back. */
  tag?: string;
  compression?: CompressionType;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Record timestamps (overrides timestamp/count). */
  timestamps?: number[];
}

/** One client-style batch (base offset 0, as a producer sends it). */
export function testBatch(options: TestBatchOptions = {}): Buffer {
  const timestamps =
    options.timestamps ??
    Array.from({ length: options.count ?? 1 }, (_, i) => (options.timestamp ?? 1_700_000_000_000) + i);
  const size = options.valueSize ?? 10;
  const records = timestamps.map((ts, i) => {
    const text = `${options.tag ?? "v"}-${i}-`;
    const value = Buffer.alloc(Math.max(size, text.length), "x");
    value.write(text);
    return { key: Buffer.from(`k${i}`), value, timestamp: BigInt(ts) };
  });
  const build: BuildRecordBatchOptions = {
    records,
    compression: options.compression,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: options.baseSequence,
  };
  return buildRecordBatch(build);
}

export interface ReadBackRecord {
  offset: number;
  timestamp: number;
  value: string;
}

/** Every record in a buffer of whole batches. */
export function recordsOf(buf: Buffer): ReadBackRecord[] {
  const out: ReadBackRecord[] = [];
  for (const batch of splitBatches(buf).batches) {
    for (const r of iterateRecords(batch)) {
      out.push({
        offset: Number(r.offset),
        timestamp: Number(r.timestamp),
        value: r.value?.toString() ?? "",
      });
    }
  }
  return out;
}

/** The batch base offsets in a buffer of whole batches. */
export function baseOffsetsOf(buf: Buffer): number[] {
  return splitBatches(buf).batches.map((b) => Number(b.baseOffset));
}
