// The classic group state machine in virtual time: joins, the initial rebalance delay,
// protocol selection, syncs, session and rebalance timeouts, static members, offsets,
// and rebuilding everything from __consumer_offsets records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../lib/logger.ts";
import { Compression } from "../../protocol/records/index.ts";
import { ErrorCode } from "../errors.ts";
import type { JoinResult, Protocol } from "./classic-group.ts";
import { type GroupCoordinatorConfig, GroupCoordinator, type JoinRequest } from "./coordinator.ts";
import { ManualClock, MemoryOffsetsLog } from "./testing.ts";

const CONFIG: GroupCoordinatorConfig = {
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 1000,
  offsetsRetentionMs: 7 * 24 * 3600_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
  compression: Compression.NONE,
};

const logger = createLogger("test", {});
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function setup(
  opts: { log?: MemoryOffsetsLog; clock?: ManualClock; config?: Partial<GroupCoordinatorConfig> } = {},
) {
  const clock = opts.clock ?? new ManualClock();
  const log = opts.log ?? new MemoryOffsetsLog(1);
  const coordinator = new GroupCoordinator({
    config: { ...CONFIG, ...opts.config },
    log,
    logger,
    numPartitions: 1,
    clock,
  });
  await coordinator.loadPartition(0);
  return { clock, log, coordinator };
}

const range: Protocol = { name: "range", metadata: Buffer.from("r") };
const roundrobin: Protocol = { name: "roundrobin", metadata: Buffer.from("rr") };

function request(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: "g",
    memberId: "",
    groupInstanceId: null,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: "consumer",
    protocols: [range],
    clientId: "client",
    clientHost: "/127.0.0.1",
    requireKnownMemberId: true,
    supportsSkipAssignment: false,
    ...over,
  };
}

/** Tracks a held JoinGroup: `result` is set once the coordinator answers. */
function pending<T>(p: Promise<T>): { result?: T; promise: Promise<T> } {
  const out: { result?: T; promise: Promise<T> } = { promise: p };
  void p.then((r) => (out.result = r));
  return out;
}

/** MEMBER_ID_REQUIRED round trip, then the real (held) join. */
async function joinNew(c: GroupCoordinator, over: Partial<JoinRequest> = {}) {
  const first = await c.joinGroup(request(over));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.match(first.memberId, /^client-[0-9a-f-]{36}$/);
  return {
    memberId: first.memberId,
    held: pending(c.joinGroup(request({ ...over, memberId: first.memberId }))),
  };
}

/** Lets the initial rebalance delay run out (it extends by one delay per round in which members joined). */
async function settle(clock: ManualClock, held: Array<{ result?: unknown }>): Promise<void> {
  for (let waited = 0; waited <= 30_000 && held.some((h) => h.result === undefined); waited += 3000) {
    clock.advance(3000);
    await tick();
  }
}

/** Runs a full rebalance to Stable for a fresh group of n members; returns their member ids (leader first). */
async function stableGroup(c: GroupCoordinator, clock: ManualClock, n: number) {
  const joins = [];
  for (let i = 0; i < n; i++) joins.push(await joinNew(c));
  await settle(
    clock,
    joins.map((j) => j.held),
  );
  const results = joins.map((j) => j.held.result!);
  const leader = results.find((r) => r.members.length > 0)!;
  const ids = [leader.memberId, ...results.filter((r) => r !== leader).map((r) => r.memberId)];
  const syncs = ids.map((id, i) =>
    c.syncGroup({
      groupId: "g",
      generationId: leader.generationId,
      memberId: id,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: leader.protocolName,
      assignments: i === 0 ? ids.map((m, k) => ({ memberId: m, assignment: Buffer.from(`a${k}`) })) : [],
    }),
  );
  const synced = await Promise.all(syncs);
  for (const [k, s] of synced.entries())
    assert.deepEqual([s.errorCode, s.assignment.toString()], [0, `a${k}`]);
  return { ids, generation: leader.generationId };
}

test("a new group waits group.initial.rebalance.delay.ms, extended while members keep joining", async () => {
  const { clock, coordinator: c } = await setup();
  const a = await joinNew(c);
  clock.advance(2000);
  const b = await joinNew(c);
  clock.advance(1000); // the first delay ends, but b joined during it: wait once more
  await tick();
  assert.equal(a.held.result, undefined, "held through the extension");
  assert.equal(c.describeGroup("g").groupState, "PreparingRebalance");
  clock.advance(3000);
  await tick();
  const [ra, rb] = [a.held.result!, b.held.result!];
  assert.equal(ra.errorCode, 0);
  assert.equal(ra.generationId, 1);
  assert.equal(rb.generationId, 1);
  assert.equal(ra.leader, a.memberId, "the first member leads");
  assert.deepEqual(
    ra.members.map((m) => m.memberId),
    [a.memberId, b.memberId],
  );
  assert.deepEqual(rb.members, [], "followers get no member list");
  assert.equal(ra.protocolName, "range");
  assert.equal(c.describeGroup("g").groupState, "CompletingRebalance");
});

test("the protocol is chosen by vote among those every member supports", async () => {
  const { clock, coordinator: c } = await setup();
  const joins = [
    await joinNew(c, { protocols: [range, roundrobin] }),
    await joinNew(c, { protocols: [roundrobin, range] }),
    await joinNew(c, { protocols: [roundrobin, range] }),
  ];
  await settle(
    clock,
    joins.map((j) => j.held),
  );
  assert.deepEqual(
    joins.map((j) => j.held.result!.protocolName),
    ["roundrobin", "roundrobin", "roundrobin"],
  );
  // A member that supports none of the group's protocols, or another protocol type, is refused.
  const sticky = await c.joinGroup(request({ protocols: [{ name: "sticky", metadata: Buffer.alloc(0) }] }));
  assert.equal(sticky.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  const connect = await c.joinGroup(request({ protocolType: "connect", protocols: [range] }));
  assert.equal(connect.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  const none = await c.joinGroup(request({ groupId: "empty-protocols", protocols: [] }));
  assert.equal(none.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
});

test("requests are validated: group id, session timeout range, unknown members", async () => {
  const { coordinator: c } = await setup();
  assert.equal((await c.joinGroup(request({ groupId: "" }))).errorCode, ErrorCode.INVALID_GROUP_ID);
  assert.equal(
    (await c.joinGroup(request({ sessionTimeoutMs: 5999 }))).errorCode,
    ErrorCode.INVALID_SESSION_TIMEOUT,
  );
  assert.equal(
    (await c.joinGroup(request({ sessionTimeoutMs: 1_800_001 }))).errorCode,
    ErrorCode.INVALID_SESSION_TIMEOUT,
  );
  assert.equal((await c.joinGroup(request({ memberId: "ghost" }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(
    c.heartbeat({ groupId: "nope", memberId: "x", groupInstanceId: null, generationId: 1 }),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  // v0-3 members get an id right away, without the MEMBER_ID_REQUIRED round trip.
  const old = pending(c.joinGroup(request({ groupId: "old", requireKnownMemberId: false })));
  await tick();
  assert.equal(old.result, undefined, "held for the initial delay");
});

test("followers' SyncGroup waits for the leader; then the group is Stable with each member's assignment", async () => {
  const { clock, coordinator: c, log } = await setup();
  const { ids, generation } = await stableGroup(c, clock, 3);
  const d = c.describeGroup("g");
  assert.equal(d.groupState, "Stable");
  assert.equal(d.protocolData, "range");
  assert.deepEqual(
    d.members.map((m) => [m.memberId, m.memberAssignment.toString(), m.memberMetadata.toString()]),
    ids.map((id, k) => [id, `a${k}`, "r"]),
  );
  assert.equal(
    c.heartbeat({ groupId: "g", memberId: ids[1], groupInstanceId: null, generationId: generation }),
    0,
  );
  assert.equal(
    c.heartbeat({ groupId: "g", memberId: ids[1], groupInstanceId: null, generationId: generation - 1 }),
    ErrorCode.ILLEGAL_GENERATION,
  );
  assert.equal(log.partitions.get(0)?.length, 1, "the settled generation was written once");
  assert.deepEqual(c.listGroups([], []), [
    { groupId: "g", protocolType: "consumer", groupState: "Stable", groupType: "classic" },
  ]);
  assert.deepEqual(c.listGroups(["empty"], []), []);
  assert.equal(c.listGroups(["STABLE"], ["classic"]).length, 1);
  assert.deepEqual(c.listGroups([], ["consumer"]), []);
});

test("a new member triggers a rebalance: heartbeats say REBALANCE_IN_PROGRESS, everyone rejoins", async () => {
  const { clock, coordinator: c } = await setup();
  const { ids, generation } = await stableGroup(c, clock, 2);
  const newcomer = await joinNew(c);
  assert.equal(c.describeGroup("g").groupState, "PreparingRebalance");
  for (const id of ids) {
    assert.equal(
      c.heartbeat({ groupId: "g", memberId: id, groupInstanceId: null, generationId: generation }),
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
  }
  const rejoins = ids.map((memberId) => pending(c.joinGroup(request({ memberId }))));
  await tick();
  // All three are in: the join completes without waiting for the rebalance timeout.
  const all = [newcomer.held, ...rejoins].map((p) => p.result!);
  assert.ok(
    all.every((r) => r && r.errorCode === 0 && r.generationId === generation + 1),
    JSON.stringify(all),
  );
  assert.equal(all.filter((r) => r.members.length === 3).length, 1, "one leader with the member list");
});

test("a member that stops heartbeating is removed after its session timeout and the rest rebalance", async () => {
  const { clock, coordinator: c } = await setup();
  const { ids, generation } = await stableGroup(c, clock, 2);
  for (let t = 0; t < 12_000; t += 3000) {
    clock.advance(3000);
    assert.equal(
      c.heartbeat({ groupId: "g", memberId: ids[0], groupInstanceId: null, generationId: generation }) !==
        ErrorCode.UNKNOWN_MEMBER_ID,
      true,
    );
  }
  // ids[1] never heartbeat: past 10 s it is gone and a rebalance started.
  const d = c.describeGroup("g");
  assert.equal(d.groupState, "PreparingRebalance");
  assert.deepEqual(
    d.members.map((m) => m.memberId),
    [ids[0]],
  );
  assert.equal(
    c.heartbeat({ groupId: "g", memberId: ids[1], groupInstanceId: null, generationId: generation }),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  const rejoin = await c.joinGroup(request({ memberId: ids[0] }));
  assert.equal(rejoin.generationId, generation + 1);
  assert.deepEqual(
    rejoin.members.map((m) => m.memberId),
    [ids[0]],
  );
});

test("members that do not rejoin within the rebalance timeout are dropped (max.poll.interval.ms)", async () => {
  const { clock, coordinator: c } = await setup();
  const { ids, generation } = await stableGroup(c, clock, 2);
  // ids[0] rejoins (say, its metadata changed); ids[1] keeps heartbeating but never polls/rejoins.
  const rejoin = pending(c.joinGroup(request({ memberId: ids[0], protocols: [range, roundrobin] })));
  for (let t = 0; t < 30_000; t += 3000) {
    clock.advance(3000);
    c.heartbeat({ groupId: "g", memberId: ids[1], groupInstanceId: null, generationId: generation });
    await tick();
    if (t < 27_000) assert.equal(rejoin.result, undefined, `still held at ${t + 3000} ms`);
  }
  await tick();
  const r = rejoin.result!;
  assert.equal(r.errorCode, 0);
  assert.equal(r.generationId, generation + 1);
  assert.deepEqual(
    r.members.map((m) => m.memberId),
    [ids[0]],
  );
  assert.equal(
    c.heartbeat({ groupId: "g", memberId: ids[1], groupInstanceId: null, generationId: generation }),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

test("a member that never sends SyncGroup is removed after the rebalance timeout", async () => {
  const { clock, coordinator: c } = await setup();
  const a = await joinNew(c);
  const b = await joinNew(c);
  await settle(clock, [a.held, b.held]);
  const leader = a.held.result!;
  const sync = c.syncGroup({
    groupId: "g",
    generationId: leader.generationId,
    memberId: a.memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.equal((await sync).errorCode, 0);
  assert.equal(c.describeGroup("g").groupState, "Stable");
  let last = -1;
  for (let t = 0; t < 30_000; t += 3000) {
    clock.advance(3000);
    last = c.heartbeat({
      groupId: "g",
      memberId: a.memberId,
      groupInstanceId: null,
      generationId: leader.generationId,
    });
  }
  // b is gone; a (which kept its session) is asked to rejoin.
  assert.equal(last, ErrorCode.REBALANCE_IN_PROGRESS);
  assert.deepEqual(
    c.describeGroup("g").members.map((m) => m.memberId),
    [a.memberId],
  );
  assert.equal(
    c.heartbeat({
      groupId: "g",
      memberId: b.memberId,
      groupInstanceId: null,
      generationId: leader.generationId,
    }),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

test("an id handed out with MEMBER_ID_REQUIRED expires if never used", async () => {
  const { clock, coordinator: c } = await setup();
  const first = await c.joinGroup(request());
  clock.advance(10_001);
  const late = await c.joinGroup(request({ memberId: first.memberId }));
  assert.equal(late.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test("LeaveGroup: a leaving member triggers a rebalance; the last one leaves the group Empty", async () => {
  const { clock, coordinator: c } = await setup();
  const { ids, generation } = await stableGroup(c, clock, 2);
  const left = c.leaveGroup("g", [
    { memberId: ids[1], groupInstanceId: null },
    { memberId: "nobody", groupInstanceId: null },
  ]);
  assert.deepEqual(
    left.members.map((m) => m.errorCode),
    [0, ErrorCode.UNKNOWN_MEMBER_ID],
  );
  assert.equal(c.describeGroup("g").groupState, "PreparingRebalance");
  const rejoin = await c.joinGroup(request({ memberId: ids[0] }));
  assert.equal(rejoin.generationId, generation + 1);
  c.leaveGroup("g", [{ memberId: ids[0], groupInstanceId: null }]);
  assert.equal(c.describeGroup("g").groupState, "Empty");
  assert.equal(c.describeGroup("g").members.length, 0);
});

test("static members: a restarted instance takes over its assignment without a rebalance; the old id is fenced", async () => {
  const { clock, coordinator: c } = await setup();
  const a = pending(c.joinGroup(request({ groupInstanceId: "app-1" })));
  const b = pending(c.joinGroup(request({ groupInstanceId: "app-2" })));
  await settle(clock, [a, b]);
  const [ra, rb] = [a.result!, b.result!];
  assert.match(ra.memberId, /^app-1-/, "static member ids start with the instance id");
  await Promise.all(
    [ra, rb].map((r) =>
      c.syncGroup({
        groupId: "g",
        generationId: r.generationId,
        memberId: r.memberId,
        groupInstanceId: r === ra ? "app-1" : "app-2",
        protocolType: null,
        protocolName: null,
        assignments:
          r.members.length > 0
            ? [
                { memberId: ra.memberId, assignment: Buffer.from("p0") },
                { memberId: rb.memberId, assignment: Buffer.from("p1") },
              ]
            : [],
      }),
    ),
  );
  // app-2 restarts: it joins without a member id.
  const again = await c.joinGroup(request({ groupInstanceId: "app-2" }));
  assert.equal(again.errorCode, 0);
  assert.equal(again.generationId, rb.generationId, "same generation: no rebalance");
  assert.notEqual(again.memberId, rb.memberId);
  assert.equal(c.describeGroup("g").groupState, "Stable");
  const sync = await c.syncGroup({
    groupId: "g",
    generationId: again.generationId,
    memberId: again.memberId,
    groupInstanceId: "app-2",
    protocolType: null,
    protocolName: null,
    assignments: [],
  });
  assert.equal(sync.assignment.toString(), "p1", "it keeps its partitions");
  assert.equal(
    c.heartbeat({
      groupId: "g",
      memberId: rb.memberId,
      groupInstanceId: "app-2",
      generationId: rb.generationId,
    }),
    ErrorCode.FENCED_INSTANCE_ID,
  );
});

test("offset commits: simple commits on empty groups, generation and member checks for group members", async () => {
  const { clock, coordinator: c } = await setup();
  const ok = () => 0;
  const commit = (over: Partial<Parameters<GroupCoordinator["commitOffsets"]>[0]>, offset = 5n) =>
    c.commitOffsets(
      {
        groupId: "g",
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics: [
          {
            name: "t",
            partitions: [
              { partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: 3, committedMetadata: "m" },
            ],
          },
        ],
        ...over,
      },
      8,
      ok,
    );
  const codes = (r: Awaited<ReturnType<typeof commit>>) =>
    r.flatMap((t) => t.partitions.map((p) => p.errorCode));
  assert.deepEqual(codes(await commit({ groupId: "simple" })), [0], "a simple commit creates the group");
  assert.equal(c.describeGroup("simple").groupState, "Empty");
  assert.deepEqual(codes(await commit({ groupId: "nope", generationId: 1, memberId: "m" })), [
    ErrorCode.ILLEGAL_GENERATION,
  ]);
  const { ids, generation } = await stableGroup(c, clock, 1);
  assert.deepEqual(
    codes(await commit({})),
    [ErrorCode.UNKNOWN_MEMBER_ID],
    "a simple commit to an active group",
  );
  assert.deepEqual(codes(await commit({ generationId: generation + 1, memberId: ids[0] })), [
    ErrorCode.ILLEGAL_GENERATION,
  ]);
  assert.deepEqual(codes(await commit({ generationId: generation, memberId: "other" })), [
    ErrorCode.UNKNOWN_MEMBER_ID,
  ]);
  assert.deepEqual(codes(await commit({ generationId: generation, memberId: ids[0] }, 7n)), [0]);
  const big = await commit({
    generationId: generation,
    memberId: ids[0],
    topics: [
      {
        name: "t",
        partitions: [
          {
            partitionIndex: 1,
            committedOffset: 1n,
            committedLeaderEpoch: -1,
            committedMetadata: "x".repeat(4097),
          },
        ],
      },
    ],
  });
  assert.deepEqual(codes(big), [ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  const fetched = c.fetchOffsets("g", [{ name: "t", partitionIndexes: [0, 1] }]);
  assert.deepEqual(fetched.topics[0].partitions, [
    { partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: 3, metadata: "m", errorCode: 0 },
    { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: "", errorCode: 0 },
  ]);
  assert.deepEqual(
    c.fetchOffsets("g", null).topics.map((t) => t.name),
    ["t"],
  );
  assert.deepEqual(c.fetchOffsets("unknown", null).topics, []);
  // During CompletingRebalance members hold a new generation but no assignment yet.
  const joiner = await joinNew(c);
  const rejoin = pending(c.joinGroup(request({ memberId: ids[0] })));
  await tick();
  assert.ok(rejoin.result && joiner.held.result);
  assert.deepEqual(codes(await commit({ generationId: generation + 1, memberId: ids[0] })), [
    ErrorCode.REBALANCE_IN_PROGRESS,
  ]);
});

test("state is rebuilt from __consumer_offsets: offsets, groups with members, tombstones", async () => {
  const clock = new ManualClock();
  const log = new MemoryOffsetsLog(1);
  const { coordinator: c } = await setup({ clock, log });
  const { ids, generation } = await stableGroup(c, clock, 2);
  const commit = (groupId: string, generationId: number, memberId: string, offset: bigint) =>
    c.commitOffsets(
      {
        groupId,
        generationId,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics: [
          {
            name: "t",
            partitions: [
              {
                partitionIndex: 2,
                committedOffset: offset,
                committedLeaderEpoch: -1,
                committedMetadata: null,
              },
            ],
          },
        ],
      },
      8,
      () => 0,
    );
  await commit("g", generation, ids[0], 10n);
  await commit("g", generation, ids[0], 11n);
  await commit("doomed", -1, "", 1n);
  assert.equal(await c.deleteGroup("g"), ErrorCode.NON_EMPTY_GROUP);
  assert.equal(await c.deleteGroup("doomed"), 0);
  assert.equal(await c.deleteGroup("doomed"), ErrorCode.GROUP_ID_NOT_FOUND);
  c.shutdown();

  const { coordinator: again } = await setup({ clock, log });
  const d = again.describeGroup("g");
  assert.equal(d.groupState, "Stable", "a group with members comes back Stable");
  assert.deepEqual(
    d.members.map((m) => [m.memberId, m.memberAssignment.toString()]),
    ids.map((id, k) => [id, `a${k}`]),
  );
  assert.equal(
    again.heartbeat({ groupId: "g", memberId: ids[1], groupInstanceId: null, generationId: generation }),
    0,
  );
  assert.equal(
    again.fetchOffsets("g", [{ name: "t", partitionIndexes: [2] }]).topics[0].partitions[0].committedOffset,
    11n,
  );
  assert.equal(again.describeGroup("doomed").groupState, "Dead");
  assert.deepEqual(again.fetchOffsets("doomed", null).topics, []);
  // Members that do not come back after the restart time out as usual, which empties the group.
  clock.advance(10_001);
  assert.equal(again.describeGroup("g").groupState, "Empty");
  assert.equal(again.fetchOffsets("g", null).topics.length, 1, "its offsets stay");
});

test("offsets retention: an empty group's offsets expire, then the group itself", async () => {
  const day = 24 * 3600_000;
  const { clock, log, coordinator: c } = await setup({ config: { offsetsRetentionMs: day } });
  const commit = (groupId: string, retentionTimeMs = -1) =>
    c.commitOffsets(
      {
        groupId,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        retentionTimeMs,
        topics: [
          {
            name: "t",
            partitions: [
              { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: "" },
            ],
          },
        ],
      },
      2,
      () => 0,
    );
  await commit("old");
  clock.advance(day / 2);
  await commit("young");
  await commit("short", 60_000);
  clock.advance(day / 2 + 1);
  await c.expireAllOffsets();
  assert.deepEqual(
    c.listGroups([], []).map((g) => g.groupId),
    ["young"],
  );
  assert.equal(c.fetchOffsets("young", null).topics.length, 1);
  c.shutdown();
  const { coordinator: again } = await setup({ clock, log, config: { offsetsRetentionMs: day } });
  assert.deepEqual(
    again.listGroups([], []).map((g) => g.groupId),
    ["young"],
    "tombstones were written",
  );
});

test("unloading a partition answers held requests NOT_COORDINATOR; its groups are unavailable", async () => {
  const { coordinator: c } = await setup();
  const a = await joinNew(c);
  c.unloadPartition(0);
  await tick();
  assert.equal((a.held.result as JoinResult).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.throws(
    () => c.heartbeat({ groupId: "g", memberId: a.memberId, groupInstanceId: null, generationId: 0 }),
    /not the coordinator/,
  );
});
