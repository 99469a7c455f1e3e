// The metadata quorum with three replicas in this process, over real TCP on loopback:
// elections, commitment, failover, a cut-off leader, restarts and snapshot catch-up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { DescribeQuorum } from "../../protocol/generated/apis.ts";
import { RawClient } from "../../test/setup/raw-client.ts";
import { NotLeaderError } from "./raft-client.ts";
import { TestCluster, kv, waitFor } from "./testing.ts";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `v${from + i}`);

test("three voters elect one leader and every replica applies the committed entries in order", async () => {
  const c = await TestCluster.create(3);
  try {
    await c.startAll();
    const leader = await c.waitForLeader();
    for (const v of range(0, 20)) await leader.raft!.appendAndWait(kv(v));
    await c.waitForValues(range(0, 20));
    // One leader per epoch, and the others follow it.
    const epochs = new Set(c.nodes.map((n) => n.raft!.epoch));
    assert.equal(epochs.size, 1);
    assert.equal(c.nodes.filter((n) => n.raft!.isLeader).length, 1);
    // A follower refuses writes.
    const follower = c.nodes.find((n) => n !== leader)!;
    await assert.rejects(follower.raft!.append(kv("x")), NotLeaderError);
    // The leader writes NoOps while idle: the high watermark keeps moving.
    const hw = leader.raft!.highWatermark;
    await waitFor(() => leader.raft!.highWatermark > hw || undefined, 5000, "a NoOp to commit");
  } finally {
    await c.close();
  }
});

test("DescribeQuorum on the leader's controller listener reports the voters and the high watermark", async () => {
  const c = await TestCluster.create(3, 1);
  try {
    await c.startAll();
    const leader = await c.waitForLeader();
    await leader.raft!.appendAndWait(kv("a"));
    await c.waitForValues(["a"]);
    const client = await RawClient.connect(leader.port);
    try {
      const resp = await client.request(DescribeQuorum, 1, {
        topics: [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 0 }] }],
      });
      const p = resp.topics[0].partitions[0];
      assert.equal(p.errorCode, 0);
      assert.equal(p.leaderId, leader.id);
      assert.ok(p.highWatermark > 0n);
      assert.deepEqual(
        p.currentVoters.map((v) => v.replicaId),
        [0, 1, 2],
      );
      // The fourth node is an observer: it replicates but does not vote.
      await waitFor(
        () =>
          leader.raft!.describeQuorum().topics[0].partitions[0].observers.some((o) => o.replicaId === 3) ||
          undefined,
        5000,
        "the observer to fetch",
      );
      assert.equal(c.nodes[3].raft!.isVoter, false);
    } finally {
      client.close();
    }
  } finally {
    await c.close();
  }
});

test("when the leader dies a new one is elected and nothing committed is lost", async () => {
  const c = await TestCluster.create(3);
  try {
    await c.startAll();
    const first = await c.waitForLeader();
    for (const v of range(0, 10)) await first.raft!.appendAndWait(kv(v));
    await c.waitForValues(range(0, 10));
    const firstEpoch = first.raft!.epoch;
    await first.crash();
    const second = await c.waitForLeader();
    assert.notEqual(second.id, first.id);
    assert.ok(second.raft!.epoch > firstEpoch);
    for (const v of range(10, 20)) await second.raft!.appendAndWait(kv(v));
    await c.waitForValues(range(0, 20));
    // The old leader comes back as a follower and catches up.
    await first.start();
    await c.waitForValues(range(0, 20));
    assert.equal(first.raft!.leaderAndEpoch.leaderId, second.id);
  } finally {
    await c.close();
  }
});

test("a leader cut off from the others steps down, and its uncommitted tail is truncated when it returns", async () => {
  const c = await TestCluster.create(3);
  try {
    await c.startAll();
    const old = await c.waitForLeader();
    for (const v of range(0, 5)) await old.raft!.appendAndWait(kv(v));
    await c.waitForValues(range(0, 5));
    c.isolated.add(old.id);
    // Written on the isolated leader: never committed.
    const lost = old.raft!.appendAndWait(kv("lost-1", "lost-2"));
    lost.catch(() => undefined);
    const fresh = await c.waitForLeader(10_000, [old.id]);
    for (const v of range(5, 10)) await fresh.raft!.appendAndWait(kv(v));
    // The isolated leader notices it lost the quorum (check quorum) and resigns.
    await waitFor(() => !old.raft!.isLeader || undefined, 5000, "the isolated leader to step down");
    await assert.rejects(lost, NotLeaderError);
    c.isolated.delete(old.id);
    await c.waitForValues(range(0, 10));
    const leader = await c.waitForLeader();
    await leader.raft!.appendAndWait(kv("after"));
    await c.waitForValues([...range(0, 10), "after"]);
    assert.ok(!old.state.values.includes("lost-1"));
    // Every replica's log ends at the same place: the divergent tail is gone.
    await waitFor(
      () => new Set(c.nodes.map((n) => n.raft!.log.endOffset)).size === 1 || undefined,
      5000,
      "logs to end at the same offset",
    );
  } finally {
    await c.close();
  }
});

test("replicas restart from their persisted quorum state and log", async () => {
  const c = await TestCluster.create(3);
  try {
    await c.startAll();
    const leader = await c.waitForLeader();
    for (const v of range(0, 8)) await leader.raft!.appendAndWait(kv(v));
    await c.waitForValues(range(0, 8));
    const epoch = leader.raft!.epoch;
    for (const n of c.nodes) await n.stop();
    const state = JSON.parse(
      await readFile(path.join(c.nodes[0].dir, "__cluster_metadata-0", "quorum-state"), "utf8"),
    );
    assert.ok(state.leaderEpoch >= epoch);
    assert.deepEqual(
      state.currentVoters.map((v: { voterId: number }) => v.voterId),
      [0, 1, 2],
    );
    await c.startAll();
    const again = await c.waitForLeader();
    assert.ok(again.raft!.epoch > epoch);
    await c.waitForValues(range(0, 8));
    await again.raft!.appendAndWait(kv("v8"));
    await c.waitForValues(range(0, 9));
  } finally {
    await c.close();
  }
});

test("a follower behind the leader's log start catches up from a snapshot", async () => {
  const c = await TestCluster.create(3);
  try {
    await c.startAll();
    const leader = await c.waitForLeader();
    const lagging = c.nodes.find((n) => n !== leader)!;
    await lagging.crash();
    for (const v of range(0, 200)) await leader.raft!.appendAndWait(kv(v));
    const others = c.running();
    await c.waitForValues(range(0, 200), others);
    const at = leader.raft!.appliedOffset;
    const snap = await leader.raft!.createSnapshot(at, leader.state.snapshotValues());
    assert.equal(snap.endOffset, at);
    assert.equal(leader.raft!.log.startOffset, at);
    const files = await readdir(path.join(leader.dir, "__cluster_metadata-0"));
    assert.ok(
      files.some((f) => /^\d{20}-\d{10}\.checkpoint$/.test(f)),
      files.join(" "),
    );
    for (const v of range(200, 210)) await leader.raft!.appendAndWait(kv(v));
    await lagging.start();
    await c.waitForValues(range(0, 210));
    assert.equal(lagging.state.snapshotsLoaded, 1);
    assert.ok(lagging.raft!.log.startOffset >= at);
    // And it restarts from the snapshot it received.
    await lagging.stop();
    await lagging.start();
    await c.waitForValues(range(0, 210));
  } finally {
    await c.close();
  }
});

test("a single voter elects itself at once and commits alone", async () => {
  const c = await TestCluster.create(1);
  try {
    await c.startAll();
    const leader = await c.waitForLeader(2000);
    await leader.raft!.appendAndWait(kv("solo"));
    assert.deepEqual(leader.state.values, ["solo"]);
    await leader.stop();
    await leader.start();
    await c.waitForValues(["solo"]);
  } finally {
    await c.close();
  }
});
