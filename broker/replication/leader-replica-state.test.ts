import { test } from "node:test";
import assert from "node:assert/strict";
import { LeaderReplicaState } from "./leader-replica-state.ts";
import { HighWatermarkWaiters } from "./high-watermark-waiters.ts";

test("the high watermark is the smallest log end offset in the ISR", () => {
  const s = new LeaderReplicaState(1, [1, 2, 3], [1, 2, 3], 0, 0);
  assert.equal(s.highWatermark(10), -1, "followers not heard from yet hold nothing known");
  s.onFollowerFetch(2, 7, 10, 1);
  s.onFollowerFetch(3, 4, 10, 1);
  assert.equal(s.highWatermark(10), 4);
  s.onFollowerFetch(3, 10, 10, 2);
  assert.equal(s.highWatermark(10), 7);
  // Out of the ISR, a follower no longer holds the high watermark back.
  s.updateFromMetadata([1, 2, 3], [1, 3], 3);
  assert.equal(s.highWatermark(10), 10);
});

test("a follower joins the ISR once caught up to the high watermark and into the leader's epoch", () => {
  const s = new LeaderReplicaState(1, [1, 2, 3], [1, 2], 5, 0);
  s.onFollowerFetch(2, 8, 8, 1);
  s.onFollowerFetch(3, 4, 8, 1);
  assert.deepEqual(s.readyToJoin(s.highWatermark(8)), []);
  s.onFollowerFetch(3, 8, 8, 2);
  assert.deepEqual(s.readyToJoin(s.highWatermark(8)), [3]);
  // While the expansion is in flight the new member already counts for the high watermark.
  s.propose([1, 2, 3]);
  assert.deepEqual(s.readyToJoin(8), []);
  assert.equal(s.highWatermark(9), 8);
});

test("in-sync followers that stop catching up for replica.lag.time.max.ms are lagging", () => {
  const s = new LeaderReplicaState(1, [1, 2, 3], [1, 2, 3], 0, 0);
  s.onFollowerFetch(2, 10, 10, 100);
  s.onFollowerFetch(3, 5, 10, 100);
  s.onFollowerFetch(3, 10, 12, 200); // reached where the leader was at its previous fetch: caught up as of then
  assert.equal(s.follower(3)!.lastCaughtUpMs, 100);
  s.onFollowerFetch(3, 12, 12, 220);
  assert.deepEqual(s.laggingInSync(250, 120), [2]);
  assert.deepEqual(s.laggingInSync(1000, 10_000), []);
});

test("acks=all waiters are released by the high watermark, checked, or time out", async () => {
  const w = new HighWatermarkWaiters();
  const ok = w.wait(5, 1000, () => undefined);
  const short = w.wait(6, 1000, () => {
    throw new Error("NOT_ENOUGH_REPLICAS_AFTER_APPEND");
  });
  const slow = w.wait(100, 20, () => undefined);
  w.advance(4);
  assert.equal(w.size, 3);
  w.advance(6);
  await ok;
  await assert.rejects(short, /AFTER_APPEND/);
  await assert.rejects(slow, /did not all acknowledge/);
  assert.equal(w.size, 0);
});
