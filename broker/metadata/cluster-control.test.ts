// The active controller's membership and replication decisions, against an image fed
// by a journal that commits at once (the quorum is tested in broker/raft).
import { test } from "node:test";
import assert from "node:assert/strict";
import { captureLogger } from "../log/testing.ts";
import { ErrorCode } from "../errors.ts";
import { ClusterControl } from "./cluster-control.ts";
import { Controller } from "./controller.ts";
import { MetadataImage } from "./image.ts";
import type { MetadataRecord } from "./records.ts";
import { ReplicationControl } from "./replication-control.ts";

function setup(selfId = 0) {
  const image = new MetadataImage();
  let offset = 0;
  const journal = {
    append: async (records: MetadataRecord[]) => {
      const first = offset;
      for (const r of records) image.apply(r, offset++);
      return first;
    },
  };
  const controller = new Controller({
    image,
    journal,
    defaults: () => ({ numPartitions: 1, defaultReplicationFactor: 3, deleteTopicEnable: true }),
  });
  const logger = captureLogger();
  const cluster = new ClusterControl({
    controller,
    selfId,
    sessionTimeoutMs: 1000,
    nextBrokerEpoch: () => BigInt(offset),
    uncleanAllowed: () => false,
    logger,
  });
  const replication = new ReplicationControl({ controller, cluster, uncleanAllowed: () => false, logger });
  const register = (brokerId: number, incarnationId = `inc-${brokerId}`, now = 0) =>
    cluster.register(
      {
        brokerId,
        clusterId: "c",
        incarnationId,
        listeners: [{ name: "PLAINTEXT", host: "localhost", port: 9092 + brokerId, securityProtocol: 0 }],
        features: [],
        rack: null,
        isMigratingZkBroker: false,
        logDirs: [],
        previousBrokerEpoch: -1n,
      },
      now,
    );
  const heartbeat = (
    brokerId: number,
    opts: { wantShutDown?: boolean; offset?: bigint; now?: number } = {},
  ) =>
    cluster.heartbeat(
      {
        brokerId,
        brokerEpoch: image.brokers.get(brokerId)!.epoch,
        currentMetadataOffset: opts.offset ?? BigInt(offset),
        wantFence: false,
        wantShutDown: opts.wantShutDown ?? false,
        offlineLogDirs: [],
      },
      opts.now ?? 0,
    );
  return { image, controller, cluster, replication, register, heartbeat };
}

async function threeBrokersAndATopic() {
  const s = setup();
  for (const id of [0, 1, 2]) {
    assert.equal((await s.register(id)).errorCode, ErrorCode.NONE);
    assert.equal(s.image.brokers.get(id)!.fenced, true, "registered fenced");
    const hb = await s.heartbeat(id);
    assert.equal(hb.isFenced, false, "unfenced once caught up");
  }
  const [created] = await s.controller.createTopics(
    [{ name: "t", numPartitions: 3, replicationFactor: 3, assignments: [], configs: [] }],
    false,
  );
  assert.equal(created.error, undefined);
  return s;
}

test("a broker registers fenced, is unfenced once caught up, and a second live incarnation is refused", async () => {
  const s = setup();
  const first = await s.register(1, "a", 0);
  assert.equal(first.errorCode, ErrorCode.NONE);
  const behind = await s.heartbeat(1, { offset: first.brokerEpoch - 1n });
  assert.equal(behind.isFenced, true);
  assert.equal(behind.isCaughtUp, false);
  assert.equal((await s.heartbeat(1)).isFenced, false);
  assert.equal((await s.register(1, "b", 10)).errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION);
  // Once its session has run out, a new incarnation takes over.
  assert.deepEqual(await s.cluster.fenceExpired(2000), [1]);
  assert.equal((await s.register(1, "b", 2001)).errorCode, ErrorCode.NONE);
  assert.equal(s.image.brokers.get(1)!.incarnationId, "b");
  const stale = await s.cluster.heartbeat(
    {
      brokerId: 1,
      brokerEpoch: first.brokerEpoch,
      currentMetadataOffset: 0n,
      wantFence: false,
      wantShutDown: false,
      offlineLogDirs: [],
    },
    2002,
  );
  assert.equal(stale.errorCode, ErrorCode.STALE_BROKER_EPOCH);
});

test("a broker whose heartbeats stop is fenced and its leaderships move to other in-sync replicas", async () => {
  const s = await threeBrokersAndATopic();
  const led = s.image.topicsByName
    .get("t")!
    .partitions.filter((p) => p.leader === 1)
    .map((p) => p.partition);
  assert.ok(led.length > 0);
  await s.heartbeat(0, { now: 900 });
  await s.heartbeat(2, { now: 900 });
  assert.deepEqual(await s.cluster.fenceExpired(1500), [1]);
  assert.equal(s.image.brokers.get(1)!.fenced, true);
  for (const p of s.image.topicsByName.get("t")!.partitions) {
    assert.notEqual(p.leader, 1);
    assert.ok(!p.isr.includes(1), `partition ${p.partition} ISR ${p.isr}`);
  }
  assert.deepEqual(s.image.liveBrokerIds(), [0, 2]);
});

test("controlled shutdown moves leaderships first, then releases the broker", async () => {
  const s = await threeBrokersAndATopic();
  const hb = await s.heartbeat(2, { wantShutDown: true });
  assert.equal(hb.shouldShutDown, true);
  assert.equal(s.image.brokers.get(2)!.fenced, true, "out of Metadata once released");
  for (const p of s.image.topicsByName.get("t")!.partitions) assert.notEqual(p.leader, 2);
});

test("AlterPartition: the leader's ISR change is checked against the epochs and the replicas' state", async () => {
  const s = await threeBrokersAndATopic();
  const p = s.image.topicsByName.get("t")!.partitions[0];
  const alter = (
    brokerId: number,
    isr: number[],
    leaderEpoch = p.leaderEpoch,
    partitionEpoch = p.partitionEpoch,
  ) =>
    s.replication.alterPartition(
      {
        brokerId,
        brokerEpoch: s.image.brokers.get(brokerId)!.epoch,
        topics: [
          {
            topicName: "t",
            topicId: p.topicId,
            partitions: [
              {
                partitionIndex: 0,
                leaderEpoch,
                newIsr: isr,
                newIsrWithEpochs: isr.map((b) => ({ brokerId: b, brokerEpoch: -1n })),
                leaderRecoveryState: 0,
                partitionEpoch,
              },
            ],
          },
        ],
      },
      3,
    );
  const follower = p.replicas.find((r) => r !== p.leader)!;
  const code = async (r: ReturnType<typeof alter>) => (await r).topics[0].partitions[0].errorCode;
  assert.equal(await code(alter(follower, p.replicas)), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(await code(alter(p.leader, p.replicas, p.leaderEpoch + 1)), ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(
    await code(alter(p.leader, p.replicas, p.leaderEpoch, p.partitionEpoch + 1)),
    ErrorCode.INVALID_UPDATE_VERSION,
  );
  assert.equal(await code(alter(p.leader, [p.leader, 7])), ErrorCode.INELIGIBLE_REPLICA);
  const shrink = (await alter(p.leader, [p.leader])).topics[0].partitions[0];
  assert.equal(shrink.errorCode, ErrorCode.NONE);
  assert.deepEqual(shrink.isr, [p.leader]);
  assert.equal(shrink.partitionEpoch, 1);
  // The broker's old view is now stale.
  assert.equal(await code(alter(p.leader, p.replicas, p.leaderEpoch, 0)), ErrorCode.INVALID_UPDATE_VERSION);
});

test("a reassignment adds replicas, completes when they are in sync, and removes the old ones", async () => {
  const s = await threeBrokersAndATopic();
  await s.register(3);
  await s.heartbeat(3);
  const p = s.image.topicsByName.get("t")!.partitions[0];
  const target = [3, ...p.replicas.slice(1)];
  const res = await s.replication.alterReassignments({
    timeoutMs: 1000,
    topics: [{ name: "t", partitions: [{ partitionIndex: 0, replicas: target }] }],
  });
  assert.equal(res.responses[0].partitions[0].errorCode, ErrorCode.NONE);
  assert.deepEqual(p.addingReplicas, [3]);
  assert.deepEqual(p.removingReplicas, [p.replicas.find((r) => !target.includes(r))]);
  const listed = s.replication.listReassignments({ timeoutMs: 1000, topics: null });
  assert.equal(listed.topics[0].partitions[0].partitionIndex, 0);
  // The new replica catches up: the leader adds it to the ISR, which completes the move.
  const isr = [...p.isr, 3];
  await s.replication.alterPartition(
    {
      brokerId: p.leader,
      brokerEpoch: -1n,
      topics: [
        {
          topicName: "t",
          topicId: p.topicId,
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: p.leaderEpoch,
              newIsr: isr,
              newIsrWithEpochs: [],
              leaderRecoveryState: 0,
              partitionEpoch: p.partitionEpoch,
            },
          ],
        },
      ],
    },
    2,
  );
  assert.deepEqual(p.replicas, target);
  assert.deepEqual(p.addingReplicas, []);
  assert.deepEqual(p.removingReplicas, []);
  assert.ok(target.includes(p.leader));
  assert.deepEqual([...p.isr].sort(), [...target].sort());
  // Shrinking the replica set needs no catching up.
  await s.replication.alterReassignments({
    timeoutMs: 1000,
    topics: [{ name: "t", partitions: [{ partitionIndex: 0, replicas: [target[1]] }] }],
  });
  assert.deepEqual(p.replicas, [target[1]]);
  assert.deepEqual(p.isr, [target[1]]);
  assert.equal(p.leader, target[1]);
});

test("preferred leader election moves leadership back to the first replica", async () => {
  const s = await threeBrokersAndATopic();
  const p = s.image.topicsByName.get("t")!.partitions[0];
  const preferred = p.replicas[0];
  await s.heartbeat(preferred, { wantShutDown: true });
  assert.notEqual(p.leader, preferred);
  await s.register(preferred, "again", 5000);
  await s.heartbeat(preferred, { now: 5000 });
  // It is back, but out of the ISR until it catches up: no election yet.
  const early = await s.replication.electLeaders(
    { electionType: 0, topicPartitions: [{ topic: "t", partitions: [0] }], timeoutMs: 1000 },
    1,
  );
  assert.equal(
    early.replicaElectionResults[0].partitionResult[0].errorCode,
    ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
  );
  const isr = [...p.isr, preferred];
  await s.replication.alterPartition(
    {
      brokerId: p.leader,
      brokerEpoch: -1n,
      topics: [
        {
          topicName: "t",
          topicId: p.topicId,
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: p.leaderEpoch,
              newIsr: isr,
              newIsrWithEpochs: [],
              leaderRecoveryState: 0,
              partitionEpoch: p.partitionEpoch,
            },
          ],
        },
      ],
    },
    2,
  );
  assert.equal(await s.cluster.rebalanceLeaders(), 1);
  assert.equal(p.leader, preferred);
});
