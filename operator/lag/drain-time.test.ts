import assert from "node:assert/strict";
import { test } from "node:test";
import { timeToDrainSeconds } from "./drain-time.ts";
import type { Observation } from "./group-status.ts";

const o = (time: number, committed: number, highWatermark: number): Observation => ({
  time,
  committed,
  highWatermark,
  lag: Math.max(0, highWatermark - committed),
});

test("lag over the net consume rate, summed over partitions", () => {
  // Partition A consumed 200 and got 100 new records in 10 s (caught up now); partition B
  // is idle with 50 behind. Total lag 50, net rate 20/s − 10/s = 10/s: 5 s.
  const a = [o(0, 0, 100), o(10_000, 200, 200)];
  const b = [o(0, 0, 50), o(10_000, 0, 50)];
  assert.equal(timeToDrainSeconds([a, b]), 5);
});

test("0 without lag, +Inf when the lag does not shrink, null without a rate", () => {
  assert.equal(timeToDrainSeconds([[o(0, 10, 10), o(1000, 20, 20)]]), 0);
  assert.equal(timeToDrainSeconds([[o(0, 0, 10), o(1000, 0, 20)]]), Infinity);
  assert.equal(timeToDrainSeconds([[o(0, 0, 10)]]), null);
});

test("a rewind is no consumption", () => {
  assert.equal(timeToDrainSeconds([[o(0, 50, 60), o(1000, 10, 60)]]), Infinity);
});
