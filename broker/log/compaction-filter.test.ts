import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Compression,
  TimestampType,
  buildEndTxnMarkerBatch,
  buildRecordBatch,
  iterateRecords,
  readBatchHeader,
  validateBatch,
  type BuildRecordBatchOptions,
} from "../../protocol/records/index.ts";
import { filterBatch, type CompactionContext } from "./compaction-filter.ts";
import { OffsetMap } from "./offset-map.ts";

const T = 1_700_000_000_000;

function batch(
  keys: (string | null)[],
  o: Partial<BuildRecordBatchOptions> = {},
  values?: (string | null)[],
) {
  const buf = buildRecordBatch({
    records: keys.map((k, i) => ({
      key: k === null ? null : Buffer.from(k),
      value: values ? (values[i] === null ? null : Buffer.from(values[i] as string)) : Buffer.from(`v${i}`),
      timestamp: BigInt(T + i),
    })),
    baseOffset: 100n,
    partitionLeaderEpoch: 3,
    ...o,
  });
  return readBatchHeader(buf, 0);
}

function context(latest: Record<string, number>, o: Partial<CompactionContext> = {}): CompactionContext {
  const map = new OffsetMap(100);
  for (const [k, offset] of Object.entries(latest)) map.put(Buffer.from(k), offset);
  map.updateLatestOffset(1000);
  return {
    map,
    now: T + 10_000,
    deleteRetentionMs: 5000,
    lastOffsetOfProducer: new Map(),
    upperBoundOffset: 2000,
    ...o,
  };
}

const keysOf = (bytes: Buffer) =>
  [...iterateRecords(readBatchHeader(bytes, 0))].map((r) => [Number(r.offset), r.key?.toString() ?? null]);

describe("filterBatch", () => {
  it("copies a batch whose records are all current byte for byte", () => {
    const b = batch(["a", "b"]);
    const out = filterBatch(b, context({ a: 100, b: 101 }))!;
    assert.equal(out.rewritten, false);
    assert.deepEqual(out.bytes, b.bytes());
  });

  it("rebuilds around superseded records, keeping offsets, epoch, producer fields and codec", () => {
    const b = batch(["a", "b", "c", "d"], {
      compression: Compression.ZSTD,
      producerId: 9n,
      producerEpoch: 2,
      baseSequence: 40,
    });
    const out = filterBatch(b, context({ a: 500, b: 101, c: 900, d: 103 }))!;
    assert.equal(out.rewritten, true);
    assert.deepEqual(keysOf(out.bytes), [
      [101, "b"],
      [103, "d"],
    ]);
    const h = validateBatch(out.bytes, 0);
    assert.deepEqual(
      [
        h.baseOffset,
        h.lastOffsetDelta,
        h.partitionLeaderEpoch,
        h.compression,
        h.producerId,
        h.producerEpoch,
        h.baseSequence,
        h.lastSequence,
      ],
      [100n, 3, 3, Compression.ZSTD, 9n, 2, 40, 43],
    );
    assert.equal(h.maxTimestamp, BigInt(T + 3));
  });

  it("keeps records past the map and drops keyless ones", () => {
    const b = batch(["a", null, "a"]);
    const ctx = context({ a: 102 });
    assert.deepEqual(keysOf(filterBatch(b, ctx)!.bytes), [[102, "a"]]);
    const short = context({ a: 500 });
    const map = new OffsetMap(10);
    map.put(Buffer.from("a"), 500);
    map.updateLatestOffset(100);
    assert.deepEqual(keysOf(filterBatch(b, { ...short, map })!.bytes), [
      [101, null],
      [102, "a"],
    ]);
  });

  it("stamps a delete horizon on the first clean of a tombstone and drops it once passed", () => {
    const b = batch(["a", "b"], {}, [null, "x"]);
    const first = filterBatch(b, context({ a: 100, b: 101 }))!;
    const stamped = validateBatch(first.bytes, 0);
    assert.equal(stamped.deleteHorizon, BigInt(T + 15_000));
    assert.equal(first.tombstoneHorizon, T + 15_000);
    assert.deepEqual(
      [...iterateRecords(stamped)].map((r) => Number(r.timestamp)),
      [T, T + 1],
      "timestamps are kept relative to the horizon",
    );
    const again = filterBatch(stamped, context({ a: 100, b: 101 }, { now: T + 14_999 }))!;
    assert.equal(again.rewritten, false);
    const later = filterBatch(stamped, context({ a: 100, b: 101 }, { now: T + 15_000 }))!;
    assert.deepEqual(keysOf(later.bytes), [[101, "b"]]);
    assert.equal(later.tombstoneHorizon, null);
  });

  it("drops emptied batches, but keeps a producer's last one and the round's last one as empty headers", () => {
    const b = batch(["a", "b"], {
      producerId: 5n,
      producerEpoch: 1,
      baseSequence: 7,
      timestampType: TimestampType.LOG_APPEND_TIME,
      timestamp: BigInt(T + 99),
    });
    assert.equal(filterBatch(b, context({ a: 900, b: 900 })), null);
    const kept = filterBatch(b, context({ a: 900, b: 900 }, { lastOffsetOfProducer: new Map([[5n, 101]]) }))!;
    const h = validateBatch(kept.bytes, 0);
    assert.deepEqual(
      [
        h.baseOffset,
        h.lastOffsetDelta,
        h.recordCount,
        h.producerId,
        h.producerEpoch,
        h.baseSequence,
        h.maxTimestamp,
        h.timestampType,
      ],
      [100n, 1, 0, 5n, 1, 7, BigInt(T + 99), TimestampType.LOG_APPEND_TIME],
    );
    const last = filterBatch(batch(["a", "b"]), context({ a: 900, b: 900 }, { upperBoundOffset: 102 }))!;
    assert.equal(validateBatch(last.bytes, 0).recordCount, 0);
  });

  it("leaves control batches alone", () => {
    const marker = buildEndTxnMarkerBatch({
      producerId: 3n,
      producerEpoch: 0,
      commit: true,
      coordinatorEpoch: 1,
      baseOffset: 100n,
      timestamp: BigInt(T),
    });
    const out = filterBatch(readBatchHeader(marker, 0), context({}))!;
    assert.deepEqual(out.bytes, marker);
  });
});
