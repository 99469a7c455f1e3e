import assert from "node:assert/strict";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CorruptSnapshotError, ProducerStateError } from "./errors.ts";
import { Log, type AppendOptions } from "./log.ts";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log-config.ts";
import { decodeProducerSnapshot, encodeProducerSnapshot } from "./producer-snapshot.ts";
import { ProducerStateManager, inSequence, type ProducerBatch } from "./producer-state.ts";
import { captureLogger, tempDir, testBatch } from "./testing.ts";

let root: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: root, cleanup } = await tempDir()));
after(() => cleanup());

const PID = 4242n;
const batch = (
  producerEpoch: number,
  baseSequence: number,
  lastSequence = baseSequence,
  producerId = PID,
): ProducerBatch => ({
  producerId,
  producerEpoch,
  baseSequence,
  lastSequence,
  maxTimestamp: 1000,
});

function expectError(fn: () => unknown, name: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ProducerStateError && e.errorName === name);
}

describe("ProducerStateManager", () => {
  it("applies Kafka's epoch and sequence rules", () => {
    const psm = new ProducerStateManager(root, captureLogger());
    psm.validate([batch(3, 57)]); // an unknown producer may start anywhere
    psm.update({ ...batch(3, 57, 59), firstOffset: 0, lastOffset: 2 });
    psm.validate([batch(3, 60)]);
    expectError(() => psm.validate([batch(3, 61)]), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expectError(() => psm.validate([batch(3, 59)]), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expectError(() => psm.validate([batch(2, 60)]), "INVALID_PRODUCER_EPOCH");
    expectError(() => psm.validate([batch(4, 5)]), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    psm.validate([batch(4, 0)]);
    // Several batches of one request are checked against each other.
    psm.validate([batch(3, 60, 62), batch(3, 63, 63), batch(4, 0, 9), batch(4, 10)]);
    expectError(() => psm.validate([batch(3, 60, 62), batch(3, 64)]), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expectError(() => psm.validate([batch(4, 0), batch(3, 60)]), "INVALID_PRODUCER_EPOCH");
  });

  it("wraps sequences from Int32.MAX_VALUE to 0", () => {
    assert.equal(inSequence(0x7fffffff, 0), true);
    assert.equal(inSequence(0x7ffffffe, 0x7fffffff), true);
    assert.equal(inSequence(0x7fffffff, 1), false);
    const psm = new ProducerStateManager(root, captureLogger());
    psm.update({ ...batch(0, 0x7ffffffe, 0x7fffffff), firstOffset: 0, lastOffset: 1 });
    psm.validate([batch(0, 0)]);
  });

  it("finds duplicates among the last five batches of the current epoch", () => {
    const psm = new ProducerStateManager(root, captureLogger());
    for (let i = 0; i < 7; i++) {
      psm.update({ ...batch(1, i * 2, i * 2 + 1), firstOffset: i * 2, lastOffset: i * 2 + 1 });
    }
    assert.equal(psm.lastEntry(PID)?.batches.length, 5);
    assert.equal(psm.findDuplicate(batch(1, 0, 1)), null, "evicted");
    assert.equal(psm.findDuplicate(batch(1, 2, 3)), null, "evicted");
    assert.deepEqual(psm.findDuplicate(batch(1, 4, 5)), {
      firstSeq: 4,
      lastSeq: 5,
      firstOffset: 4,
      lastOffset: 5,
      timestamp: 1000,
    });
    assert.equal(psm.findDuplicate(batch(1, 4, 6)), null, "a different range is not a duplicate");
    assert.equal(psm.findDuplicate(batch(2, 4, 5)), null, "another epoch is not a duplicate");
    psm.update({ ...batch(2, 0, 0), firstOffset: 14, lastOffset: 14 });
    assert.equal(psm.lastEntry(PID)?.batches.length, 1, "a new epoch starts a new history");
  });

  it("round-trips snapshots and rejects damaged ones", () => {
    const producers = [
      {
        producerId: 1n,
        producerEpoch: 2,
        coordinatorEpoch: -1,
        currentTxnFirstOffset: null,
        lastTimestamp: 1_700_000_000_000,
        batches: [{ firstSeq: 0, lastSeq: 4, firstOffset: 10, lastOffset: 14, timestamp: 1_700_000_000_000 }],
      },
      {
        producerId: 9_000_000_000n,
        producerEpoch: 0,
        coordinatorEpoch: -1,
        currentTxnFirstOffset: null,
        lastTimestamp: 5,
        batches: [],
      },
    ];
    const bytes = encodeProducerSnapshot(producers);
    assert.equal(bytes.subarray(0, 4).toString("latin1"), "CPPS");
    assert.deepEqual(decodeProducerSnapshot(bytes), producers);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] ^= 1;
    assert.throws(() => decodeProducerSnapshot(flipped), CorruptSnapshotError);
    assert.throws(() => decodeProducerSnapshot(bytes.subarray(0, bytes.length - 1)), CorruptSnapshotError);
    assert.throws(() => decodeProducerSnapshot(Buffer.from("garbage!garbage!")), CorruptSnapshotError);
  });

  it("loads the newest readable snapshot, skipping damaged and too-new ones", async () => {
    const { dir, cleanup: done } = await tempDir();
    const psm = new ProducerStateManager(dir, captureLogger());
    psm.update({ ...batch(0, 0, 1), firstOffset: 0, lastOffset: 1 });
    psm.updateMapEndOffset(2);
    await psm.takeSnapshot();
    psm.update({ ...batch(0, 2, 3), firstOffset: 2, lastOffset: 3 });
    psm.updateMapEndOffset(4);
    await psm.takeSnapshot();
    psm.update({ ...batch(0, 4, 5), firstOffset: 4, lastOffset: 5 });
    psm.updateMapEndOffset(6);
    await psm.takeSnapshot();
    assert.deepEqual(
      await readdir(dir),
      [2, 4, 6].map((o) => `${String(o).padStart(20, "0")}.snapshot`),
    );

    const snapshot4 = path.join(dir, "00000000000000000004.snapshot");
    const bytes = await readFile(snapshot4);
    bytes[bytes.length - 1] ^= 1;
    await writeFile(snapshot4, bytes);

    const logger = captureLogger();
    const fresh = new ProducerStateManager(dir, logger);
    assert.equal(await fresh.loadLatestSnapshot(5), 2, "6 is past the log end, 4 is damaged");
    assert.equal(fresh.lastEntry(PID)?.batches.length, 1);
    assert.deepEqual(await readdir(dir), ["00000000000000000002.snapshot"]);
    assert.ok(logger.lines.some((l) => l.level === "warn" && l.msg.includes("unreadable")));
    await done();
  });

  it("expires producers silent for producer.id.expiration.ms", () => {
    const psm = new ProducerStateManager(root, captureLogger());
    psm.update({ ...batch(0, 0, 0, 1n), maxTimestamp: 1_000, firstOffset: 0, lastOffset: 0 });
    psm.update({ ...batch(0, 0, 0, 2n), maxTimestamp: 5_000, firstOffset: 1, lastOffset: 1 });
    assert.equal(psm.removeExpiredProducers(6_000, 4_000), 1);
    assert.equal(psm.lastEntry(1n), undefined);
    assert.ok(psm.lastEntry(2n));
  });
});

describe("Log with idempotent producers", () => {
  const CONFIG: LogConfig = { ...DEFAULT_LOG_CONFIG, "segment.bytes": 1024, "file.delete.delay.ms": 0 };
  const OPTS: AppendOptions = { leaderEpoch: 0, timestampType: "CreateTime", now: 1_700_000_000_000 };
  let n = 0;
  const open = (dir: string, hadCleanShutdown = false): Promise<Log> =>
    Log.open(dir, CONFIG, { logger: captureLogger(), hadCleanShutdown });
  const produce = (log: Log, producerEpoch: number, baseSequence: number, count = 2, producerId = PID) =>
    log.append(testBatch({ count, producerId, producerEpoch, baseSequence, valueSize: 40 }), OPTS);

  it("answers a retried batch with the original offsets and appends nothing", async () => {
    const log = await open(path.join(root, `idem${n++}-0`));
    assert.equal((await produce(log, 0, 0)).firstOffset, 0);
    await log.append(testBatch({ count: 3 }), OPTS); // a non-idempotent producer in between
    assert.equal((await produce(log, 0, 2)).firstOffset, 5);
    const retry = await produce(log, 0, 0);
    assert.deepEqual(retry.duplicateOf, {
      firstSeq: 0,
      lastSeq: 1,
      firstOffset: 0,
      lastOffset: 1,
      timestamp: 1_700_000_000_001,
    });
    assert.equal(retry.firstOffset, 0);
    assert.equal(retry.lastOffset, 1);
    assert.equal(log.logEndOffset, 7);
    await log.close();
  });

  it("rejects out-of-order sequences and fenced epochs with Kafka's errors", async () => {
    const log = await open(path.join(root, `idem${n++}-0`));
    await produce(log, 0, 0);
    await assert.rejects(
      produce(log, 0, 5),
      (e: unknown) =>
        e instanceof ProducerStateError && e.errorName === "OUT_OF_ORDER_SEQUENCE_NUMBER" && e.code === 45,
    );
    await produce(log, 1, 0); // the producer bumped its epoch
    await assert.rejects(
      produce(log, 0, 2),
      (e: unknown) =>
        e instanceof ProducerStateError && e.errorName === "INVALID_PRODUCER_EPOCH" && e.code === 47,
    );
    await assert.rejects(
      produce(log, 2, 3),
      (e: unknown) => e instanceof ProducerStateError && e.errorName === "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    assert.equal(log.logEndOffset, 4, "nothing rejected was written");
    await log.close();
  });

  it("keeps producer state across a clean close and reopen", async () => {
    const dir = path.join(root, `idem${n++}-0`);
    const log = await open(dir);
    for (let i = 0; i < 30; i++) await produce(log, 0, i * 2);
    assert.ok(log.numberOfSegments > 2, "snapshots were taken at rolls");
    await log.close();
    const snapshots = (await readdir(dir)).filter((f) => f.endsWith(".snapshot"));
    assert.ok(snapshots.includes("00000000000000000060.snapshot"), "a snapshot at the log end on close");

    const again = await open(dir, true);
    const dup = await produce(again, 0, 52); // four batches back
    assert.equal(dup.duplicateOf?.firstOffset, 52);
    await assert.rejects(produce(again, 0, 62), ProducerStateError);
    assert.equal((await produce(again, 0, 60)).firstOffset, 60);
    await again.close();
  });

  it("rebuilds producer state after a crash from the last snapshot and the batches after it", async () => {
    const dir = path.join(root, `idem${n++}-0`);
    const log = await open(dir);
    for (let i = 0; i < 30; i++) await produce(log, 0, i * 2);
    await produce(log, 0, 0, 2, 7n); // a second producer, only after the last roll
    await log.closeHandlers(); // kill -9: no snapshot at the end, indexes left preallocated

    const again = await open(dir);
    assert.equal(again.producerCount, 2);
    assert.equal((await produce(again, 0, 58)).duplicateOf?.firstOffset, 58);
    assert.equal((await produce(again, 0, 0, 2, 7n)).duplicateOf?.firstOffset, 60);
    assert.equal((await produce(again, 0, 60)).firstOffset, 62);
    await again.closeHandlers();

    // Even with every snapshot gone, the state comes back from the log itself.
    for (const f of await readdir(dir)) if (f.endsWith(".snapshot")) await rm(path.join(dir, f));
    const third = await open(dir);
    assert.equal((await produce(third, 0, 60)).duplicateOf?.firstOffset, 62);
    assert.equal((await produce(third, 0, 62)).firstOffset, 64);
    await third.close();
  });

  it("rebuilds producer state when the log is truncated", async () => {
    const log = await open(path.join(root, `idem${n++}-0`));
    for (let i = 0; i < 20; i++) await produce(log, 0, i * 2);
    await log.truncateTo(30);
    assert.equal(log.logEndOffset, 30);
    assert.equal((await produce(log, 0, 28)).duplicateOf?.firstOffset, 28);
    assert.equal((await produce(log, 0, 30)).firstOffset, 30, "the truncated batches are no longer known");
    await log.close();
  });
});
