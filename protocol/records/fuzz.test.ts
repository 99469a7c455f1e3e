// Hostile input never escapes as anything but a RecordBatchError: random bytes,
// bit-flipped batches (with and without a repaired CRC, to get past the CRC check
// into the decoders) and truncations. Seeded, so a failure names its input.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ATTRIBUTES_OFFSET, readBatchHeader, splitBatches, updateCrc, validateBatch } from "./batch.ts";
import { Compression, decompress, type CompressionType } from "./compression.ts";
import { RecordBatchError } from "./errors.ts";
import { buildRecordBatch, iterateRecords, validateRecords } from "./record.ts";
import { randomBytes, seededRandom } from "./testing.ts";

const LIMIT = 1 << 20;
const CODECS: CompressionType[] = [
  Compression.NONE,
  Compression.GZIP,
  Compression.SNAPPY,
  Compression.LZ4,
  Compression.ZSTD,
];

/** Runs `fn`; anything it throws must be a RecordBatchError. */
function onlyBatchErrors(what: string, fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (!(e instanceof RecordBatchError)) {
      assert.fail(`${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    return false;
  }
}

/** Every way this module reads a buffer that holds one or more batches. */
function parseEverything(what: string, buf: Buffer): void {
  onlyBatchErrors(`${what} split`, () => splitBatches(buf));
  onlyBatchErrors(`${what} split truncated`, () => {
    for (const h of splitBatches(buf, { allowTruncated: true }).batches) {
      onlyBatchErrors(`${what} validate`, () =>
        validateRecords(validateBatch(buf, h.pos), { maxDecompressedBytes: LIMIT }),
      );
      onlyBatchErrors(`${what} iterate`, () => [...iterateRecords(h, { maxDecompressedBytes: LIMIT })]);
    }
  });
  onlyBatchErrors(`${what} produce`, () => validateBatch(buf, 0, { produce: true, maxBatchSize: 1 << 20 }));
  onlyBatchErrors(`${what} header`, () => [
    ...iterateRecords(readBatchHeader(buf), { maxDecompressedBytes: LIMIT }),
  ]);
}

function sampleBatch(random: () => number, compression: CompressionType): Buffer {
  const n = 1 + Math.floor(random() * 8);
  return buildRecordBatch({
    compression,
    timestamp: 1_700_000_000_000n,
    records: Array.from({ length: n }, (_, i) => ({
      key: random() < 0.2 ? null : randomBytes(random, Math.floor(random() * 10)),
      value: random() < 0.1 ? null : Buffer.from("v".repeat(Math.floor(random() * 100)) + i),
      headers: random() < 0.5 ? [] : [{ key: "h", value: randomBytes(random, 3) }],
    })),
  });
}

test("random bytes give only typed errors", () => {
  const random = seededRandom(0xc0ffee);
  for (let i = 0; i < 2000; i++) {
    const buf = randomBytes(random, Math.floor(random() * 200));
    parseEverything(`random #${i}`, buf);
    for (const codec of [1, 2, 3, 4, 5, 7]) {
      onlyBatchErrors(`random #${i} codec ${codec}`, () => decompress(codec, buf, LIMIT));
    }
  }
});

test("random bytes behind a plausible header give only typed errors", () => {
  const random = seededRandom(0xbadbeef);
  for (let i = 0; i < 1000; i++) {
    const codec = CODECS[i % CODECS.length];
    const template = buildRecordBatch({ records: [], compression: codec });
    const buf = Buffer.concat([template.subarray(0, 61), randomBytes(random, Math.floor(random() * 300))]);
    buf.writeInt32BE(buf.length - 12, 8);
    buf.writeInt32BE(Math.floor(random() * 10), 57);
    buf.writeInt32BE(Math.floor(random() * 10) - 1, 23);
    updateCrc(buf);
    parseEverything(`plausible #${i} codec ${codec}`, buf);
  }
});

test("bit flips are caught by the CRC, and repaired-CRC flips give only typed errors", () => {
  const random = seededRandom(42);
  for (const codec of CODECS) {
    for (let i = 0; i < 300; i++) {
      const original = sampleBatch(random, codec);
      const buf = Buffer.from(original);
      const flips = 1 + Math.floor(random() * 3);
      let underCrc = false;
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(random() * buf.length);
        buf[at] ^= 1 << Math.floor(random() * 8);
        if (at >= ATTRIBUTES_OFFSET) underCrc = true;
      }
      const what = `codec ${codec} flip #${i}`;
      const accepted = onlyBatchErrors(what, () => validateBatch(buf));
      if (underCrc && !buf.equals(original)) assert.equal(accepted, false, `${what}: CRC missed a flip`);
      parseEverything(what, buf);
      onlyBatchErrors(`${what} repaired`, () => {
        updateCrc(buf);
        parseEverything(`${what} repaired`, buf);
      });
    }
  }
});

test("every truncation of concatenated batches gives only typed errors", () => {
  const random = seededRandom(7);
  const whole = Buffer.concat(CODECS.map((c) => sampleBatch(random, c)));
  for (let cut = 0; cut < whole.length; cut++) {
    const buf = whole.subarray(0, cut);
    parseEverything(`cut at ${cut}`, buf);
    const { batches, truncated } = splitBatches(buf, { allowTruncated: true });
    assert.equal(batches.reduce((n, h) => n + h.size, 0) + (truncated?.available ?? 0), cut);
  }
});
