import assert from "node:assert/strict";
import { test } from "node:test";
import { OffsetTimeTable } from "./offset-time-table.ts";

test("interpolates between the last time the watermark was at or below the offset and the first time above", () => {
  const t = new OffsetTimeTable();
  t.add(0, 0);
  t.add(100, 10_000); // 10 records/s
  t.add(200, 20_000);
  // Record 149 appeared when the watermark passed 150: halfway from 10 s to 20 s.
  const e = t.lookup(149, 30_000);
  assert.deepEqual(e, { seconds: 15, source: "interpolated" });
});

test("a flat watermark keeps its first and last sighting: writes happen after the last one", () => {
  const t = new OffsetTimeTable();
  t.add(10, 0);
  t.add(10, 5_000);
  t.add(10, 9_000); // nothing produced from 0 s to 9 s
  t.add(20, 10_000);
  assert.equal(t.size, 2);
  // Record 10 was written between 9 s and 10 s; interpolation puts record 10 at 9.1 s.
  const e = t.lookup(10, 20_000)!;
  assert.equal(e.source, "interpolated");
  assert.ok(Math.abs(e.seconds - 10.9) < 1e-9, String(e.seconds));
});

test("never extrapolates: an offset older than the table gets a labelled lower bound", () => {
  const t = new OffsetTimeTable();
  t.add(1_000, 60_000);
  t.add(1_100, 70_000);
  // Reprocessing from offset 0: kafka-lag-exporter would extrapolate to about 660 s here.
  assert.deepEqual(t.lookup(0, 100_000), { seconds: 40, source: "lower_bound" });
});

test("nothing to say at or past the newest watermark, and never negative", () => {
  const t = new OffsetTimeTable();
  t.add(5, 1_000);
  assert.equal(t.lookup(5, 2_000), null);
  t.add(6, 3_000);
  assert.equal(t.lookup(5, 0)!.seconds, 0);
});

test("a watermark that goes backwards (topic recreated) starts the table over; old times are dropped", () => {
  const t = new OffsetTimeTable(3);
  t.add(100, 1_000);
  t.add(50, 2_000);
  assert.deepEqual(t.snapshot(), [{ offset: 50, firstSeen: 2_000, lastSeen: 2_000 }]);
  t.add(60, 3_000);
  t.add(70, 4_000);
  t.add(80, 5_000);
  assert.deepEqual(
    t.snapshot().map((p) => p.offset),
    [60, 70, 80],
  );
  t.add(90, 4_500); // out of order: ignored
  assert.equal(t.snapshot().at(-1)!.offset, 80);
});
