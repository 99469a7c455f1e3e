import assert from "node:assert/strict";
import { test } from "node:test";
import type { Observation } from "./group-status.ts";
import { groupStatus, partitionStatus } from "./group-status.ts";

const rules = { window: 4, allowedLag: 0 };
/** Observations from [committed, hwm] pairs, one poll per second. */
const obs = (...pairs: [number, number][]): Observation[] =>
  pairs.map(([committed, highWatermark], i) => ({
    time: i * 1000,
    committed,
    highWatermark,
    lag: Math.max(0, highWatermark - committed),
  }));

test("no lag is OK whatever happened before", () => {
  assert.equal(partitionStatus(obs([0, 10], [0, 10], [0, 10], [10, 10]), false, rules), "OK");
});

test("an incomplete window is OK until it has enough observations", () => {
  assert.equal(partitionStatus(obs([0, 10], [0, 10], [0, 10]), true, rules), "OK");
});

test("a frozen offset with lag is STALL while members are there and STOP when none are", () => {
  const frozen = obs([40, 100], [40, 100], [40, 100], [40, 100]);
  assert.equal(partitionStatus(frozen, true, rules), "STALL");
  assert.equal(partitionStatus(frozen, false, rules), "STOP");
  // The producer keeps writing: still frozen.
  assert.equal(partitionStatus(obs([40, 100], [40, 110], [40, 120], [40, 130]), true, rules), "STALL");
});

test("caught up once inside the window is OK", () => {
  assert.equal(partitionStatus(obs([100, 100], [100, 110], [100, 120], [100, 130]), false, rules), "OK");
});

test("moving but never catching up is WARN; catching up is OK", () => {
  assert.equal(partitionStatus(obs([0, 10], [5, 20], [10, 30], [15, 40]), true, rules), "WARN");
  assert.equal(partitionStatus(obs([0, 40], [10, 45], [20, 50], [30, 55]), true, rules), "OK");
  // Lag dipped once: not WARN (Burrow's "never decreased").
  assert.equal(partitionStatus(obs([0, 10], [9, 15], [10, 30], [15, 40]), true, rules), "OK");
});

test("a committed offset below an earlier one is REWIND, and makes the group ERR", () => {
  const rewound = obs([50, 100], [60, 100], [10, 100]);
  assert.equal(partitionStatus(rewound, true, rules), "REWIND");
  assert.equal(groupStatus(["OK", "REWIND", "STALL"], false), "ERR");
});

test("only the last `window` observations count", () => {
  // An old catch-up outside the window no longer rescues a frozen consumer.
  const history = obs([100, 100], [100, 110], [100, 120], [100, 130], [100, 140]);
  assert.equal(partitionStatus(history, false, rules), "STOP");
});

test("group status is the worst partition status; a read error is ERR", () => {
  assert.equal(groupStatus([], false), "OK");
  assert.equal(groupStatus(["OK", "WARN"], false), "WARN");
  assert.equal(groupStatus(["WARN", "STALL", "OK"], false), "STALL");
  assert.equal(groupStatus(["STALL", "STOP"], false), "STOP");
  assert.equal(groupStatus(["OK"], true), "ERR");
});
