import { test } from "node:test";
import assert from "node:assert/strict";
import { LeaderProgress } from "./leader-progress.ts";

test("the high watermark is the largest offset a majority of voters hold", () => {
  const p = new LeaderProgress(1, [1, 2, 3], 0, 0, 0);
  assert.equal(p.updateLocal(10, 0), false, "the leader alone is no majority");
  assert.equal(p.updateReplica(2, 4, 10, 0), true);
  assert.equal(p.highWatermark, 4);
  assert.equal(p.updateReplica(3, 7, 10, 0), true);
  assert.equal(p.highWatermark, 7);
  assert.equal(p.updateReplica(2, 6, 10, 0), false, "a fetch offset never moves a replica back");
  assert.equal(p.highWatermark, 7);
});

test("the high watermark moves only past the start of the leader's epoch", () => {
  // Elected with a log ending at 20 (entries of older epochs): they commit only with one of this epoch.
  const p = new LeaderProgress(1, [1, 2, 3], 20, 5, 0);
  p.updateLocal(21, 0);
  assert.equal(p.updateReplica(2, 20, 21, 0), false);
  assert.equal(p.highWatermark, 5);
  assert.equal(p.updateReplica(2, 21, 21, 0), true);
  assert.equal(p.highWatermark, 21);
});

test("observers are tracked but do not count toward the majority", () => {
  const p = new LeaderProgress(1, [1, 2, 3], 0, 0, 0);
  p.updateLocal(10, 0);
  assert.equal(p.updateReplica(7, 10, 10, 0), false);
  assert.equal(p.highWatermark, 0);
  assert.deepEqual(
    p.observerProgress().map((o) => o.id),
    [7],
  );
});

test("check quorum: the leader needs fetches from a majority within the window", () => {
  const p = new LeaderProgress(1, [1, 2, 3], 0, 0, 1000);
  assert.equal(p.hasQuorumContact(1500, 1000), true, "a new leader gets a full window");
  assert.equal(p.hasQuorumContact(2500, 1000), false);
  p.updateReplica(3, 0, 0, 2400);
  assert.equal(p.hasQuorumContact(2500, 1000), true);
  assert.deepEqual(p.preferredSuccessors(), [3, 2]);
});
