import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { buildRecordBatch } from "../../protocol/records/index.ts";
import { captureLogger, tempDir } from "../log/testing.ts";
import { RaftLog } from "./raft-log.ts";
import { QuorumStateStore } from "./quorum-state-store.ts";

const batch = (n: number) =>
  buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`r${i}`) })) });

/** A log with entries: epoch 1 at 0..2, epoch 3 at 3..5. */
async function sample(dir: string): Promise<RaftLog> {
  const log = await RaftLog.open(dir, captureLogger());
  await log.appendAsLeader(batch(3), 1);
  await log.appendAsLeader(batch(3), 3);
  return log;
}

test("where each epoch ends, and the leader's verdict on a follower's fetch position", async () => {
  const { dir, cleanup } = await tempDir("capstan-raftlog-");
  const log = await sample(dir);
  try {
    assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 3 });
    assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 1, endOffset: 3 });
    assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, endOffset: 6 });
    assert.deepEqual(log.endOffsetForEpoch(0), { epoch: -1, endOffset: 0 });
    assert.equal(log.lastEpoch(), 3);
    assert.equal(log.epochOf(4), 3);
    assert.deepEqual(log.validateFetchPosition(0, -1), { kind: "valid" });
    assert.deepEqual(log.validateFetchPosition(3, 1), { kind: "valid" });
    assert.deepEqual(log.validateFetchPosition(6, 3), { kind: "valid" });
    // A follower with epoch 2 entries the leader never had: diverges where epoch 1 ends.
    assert.deepEqual(log.validateFetchPosition(5, 2), { kind: "diverging", epoch: 1, endOffset: 3 });
    // A follower with more of epoch 1 than the leader kept.
    assert.deepEqual(log.validateFetchPosition(4, 1), { kind: "diverging", epoch: 1, endOffset: 3 });
  } finally {
    await log.close();
    await cleanup();
  }
});

test("a follower truncates to the divergence point and appends the leader's batches as written", async () => {
  const { dir, cleanup } = await tempDir("capstan-raftlog-");
  const follower = await RaftLog.open(path.join(dir, "f"), captureLogger());
  const leader = await sample(path.join(dir, "l"));
  try {
    await follower.appendAsLeader(batch(3), 1);
    await follower.appendAsLeader(batch(4), 2); // never committed; the leader has epoch 3 there
    assert.equal(follower.endOffset, 7);
    const v = leader.validateFetchPosition(follower.endOffset, follower.lastEpoch());
    assert.equal(v.kind, "diverging");
    const at = await follower.truncateToDivergence(v as { epoch: number; endOffset: number });
    assert.equal(at, 3);
    assert.deepEqual(leader.validateFetchPosition(follower.endOffset, follower.lastEpoch()), {
      kind: "valid",
    });
    await follower.appendAsFollower(await leader.read(3, 1 << 20));
    assert.equal(follower.endOffset, 6);
    assert.deepEqual(follower.endOffsetForEpoch(3), { epoch: 3, endOffset: 6 });
    await assert.rejects(follower.appendAsFollower(await leader.read(0, 1 << 20)), /start at 0/);
  } finally {
    await follower.close();
    await leader.close();
    await cleanup();
  }
});

test("a snapshot moves the log start; positions below it are sent to the snapshot", async () => {
  const { dir, cleanup } = await tempDir("capstan-raftlog-");
  let log = await sample(dir);
  try {
    const id = await log.createSnapshot(5, [Buffer.from("state")], 0);
    assert.deepEqual(id, { endOffset: 5, epoch: 3 });
    assert.equal(log.startOffset, 5);
    assert.deepEqual(log.validateFetchPosition(2, 1), { kind: "snapshot", id });
    assert.deepEqual(log.validateFetchPosition(0, -1), { kind: "snapshot", id });
    assert.deepEqual(log.validateFetchPosition(5, 3), { kind: "valid" });
    assert.deepEqual(await log.readSnapshot(id), [Buffer.from("state")]);
    await log.close();
    log = await RaftLog.open(dir, captureLogger());
    assert.equal(log.startOffset, 5);
    assert.deepEqual(log.latestSnapshot, id);
  } finally {
    await log.close();
    await cleanup();
  }
});

test("the quorum-state file is Kafka's JSON shape", async () => {
  const { dir, cleanup } = await tempDir("capstan-qs-");
  try {
    const store = new QuorumStateStore(dir, [2, 0, 1]);
    assert.deepEqual(await store.read(), { epoch: 0, votedId: -1, leaderId: -1 });
    await store.write({ epoch: 4, votedId: 1, leaderId: 2 });
    assert.deepEqual(await store.read(), { epoch: 4, votedId: 1, leaderId: 2 });
    const json = JSON.parse(await readFile(store.file, "utf8"));
    assert.deepEqual(json, {
      clusterId: "",
      leaderId: 2,
      leaderEpoch: 4,
      votedId: 1,
      appliedOffset: 0,
      currentVoters: [{ voterId: 0 }, { voterId: 1 }, { voterId: 2 }],
      data_version: 0,
    });
  } finally {
    await cleanup();
  }
});
