import assert from "node:assert/strict";
import { test } from "node:test";
import type { CollectorHealth } from "./collector.ts";
import { LagMetrics } from "./metrics.ts";
import type { SnapshotSource } from "./metrics.ts";
import type { GroupSnapshot, LagSnapshot } from "./snapshot.ts";
import { POLL_STAGES, deepFreeze } from "./snapshot.ts";

const NOW = 1_700_000_000_000;

function group(id: string, over: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return {
    groupId: id,
    coordinator: 1,
    state: "Stable",
    protocol: "classic",
    protocolType: "consumer",
    assignor: "range",
    members: 2,
    status: "OK",
    error: null,
    partitions: [
      {
        topic: "orders",
        partition: 0,
        committed: 40,
        highWatermark: 100,
        lag: 60,
        lagSeconds: 12.5,
        lagSecondsSource: "record",
        status: "OK",
      },
      {
        topic: "orders",
        partition: 1,
        committed: 10,
        highWatermark: 10,
        lag: 0,
        lagSeconds: 0,
        lagSecondsSource: "caught_up",
        status: "OK",
      },
    ],
    uncommittedPartitions: 1,
    maxLag: 60,
    maxLagSeconds: 12.5,
    timeToDrainSeconds: Infinity,
    lagThresholdSeconds: null,
    granularity: "partition",
    ...over,
  };
}

function snapshot(groups: GroupSnapshot[], takenAt = NOW): LagSnapshot {
  return deepFreeze({
    cluster: "prod",
    namespace: "kafka",
    takenAt,
    startedAt: takenAt - 100,
    durationMs: 150,
    brokers: [{ id: 1, address: "b1:9092" }],
    topics: [
      {
        topic: "orders",
        partitions: [
          {
            partition: 0,
            leader: 1,
            replicas: 3,
            inSyncReplicas: 2,
            preferredLeader: true,
            underReplicated: true,
            highWatermark: 100,
            oldestOffset: 5,
          },
          {
            partition: 1,
            leader: -1,
            replicas: 3,
            inSyncReplicas: 0,
            preferredLeader: false,
            underReplicated: true,
            highWatermark: null,
            oldestOffset: null,
          },
        ],
      },
    ],
    groups,
    stats: {
      clamped: 0,
      requests: 9,
      requestsByApi: { Metadata: 1 },
      recordFetches: 1,
      coarsenedGroups: 0,
      groupSeries: 20,
      errors: [],
    },
  });
}

class FakeSource implements SnapshotSource {
  cluster = "prod";
  namespace = "kafka";
  intervalMs = 30_000;
  snapshot: LagSnapshot | null;
  health: CollectorHealth = {
    polls: 3,
    failedPolls: 1,
    errors: Object.fromEntries(
      POLL_STAGES.map((s) => [s, s === "metadata" ? 1 : 0]),
    ) as CollectorHealth["errors"],
    clampedTotal: 2,
    recordFetchesTotal: 7,
    lastSuccess: NOW,
    lastDurationMs: 150,
    lastPollOk: true,
    intervalMs: 30_000,
  };
  constructor(s: LagSnapshot | null) {
    this.snapshot = s;
  }
}

/** Samples as "name{labels} value" lines, comments dropped. */
async function samples(m: LagMetrics): Promise<string[]> {
  return (await m.metrics()).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

test("kafka_exporter's names and labels, plus cluster and namespace", async () => {
  const m = new LagMetrics({ now: () => NOW });
  m.add(new FakeSource(snapshot([group("billing")])));
  const out = await samples(m);
  const has = (line: string) => assert.ok(out.includes(line), `missing ${line}\n${out.join("\n")}`);
  const g = 'cluster="prod",namespace="kafka",consumergroup="billing"';
  has(`kafka_consumergroup_lag{${g},topic="orders",partition="0"} 60`);
  has(`kafka_consumergroup_lag{${g},topic="orders",partition="1"} 0`);
  has(`kafka_consumergroup_lag_sum{${g},topic="orders"} 60`);
  has(`kafka_consumergroup_current_offset{${g},topic="orders",partition="0"} 40`);
  has(`kafka_consumergroup_current_offset_sum{${g},topic="orders"} 50`);
  has(`kafka_consumergroup_members{${g}} 2`);
  has(`kafka_consumergroup_lag_seconds{${g},topic="orders",partition="0",source="record"} 12.5`);
  has(`kafka_consumergroup_lag_seconds{${g},topic="orders",partition="1",source="caught_up"} 0`);
  has(`kafka_consumergroup_max_lag{${g}} 60`);
  has(`kafka_consumergroup_max_lag_seconds{${g}} 12.5`);
  has(`kafka_consumergroup_status{${g},status="OK"} 1`);
  has(`kafka_consumergroup_status{${g},status="STALL"} 0`);
  has(`kafka_consumergroup_state{${g},state="Stable",protocol="classic",assignor="range"} 1`);
  has(`kafka_consumergroup_time_to_drain_seconds{${g}} +Inf`);
  has(`kafka_consumergroup_uncommitted_partitions{${g}} 1`);
  const t = 'cluster="prod",namespace="kafka",topic="orders"';
  has(`kafka_brokers{cluster="prod",namespace="kafka"} 1`);
  has(`kafka_broker_info{cluster="prod",namespace="kafka",id="1",address="b1:9092"} 1`);
  has(`kafka_topic_partitions{${t}} 2`);
  has(`kafka_topic_partition_current_offset{${t},partition="0"} 100`);
  has(`kafka_topic_partition_oldest_offset{${t},partition="0"} 5`);
  has(`kafka_topic_partition_leader{${t},partition="1"} -1`);
  has(`kafka_topic_partition_under_replicated_partition{${t},partition="0"} 1`);
  has(`kafka_topic_partition_in_sync_replica{${t},partition="0"} 2`);
  has(`kafka_topic_partition_replicas{${t},partition="0"} 3`);
  has(`kafka_topic_partition_leader_is_preferred{${t},partition="1"} 0`);
  has(`capstan_lag_up{cluster="prod",namespace="kafka"} 1`);
  has(`capstan_lag_poll_errors_total{cluster="prod",namespace="kafka",stage="metadata"} 1`);
  has(`capstan_lag_poll_last_success_timestamp_seconds{cluster="prod",namespace="kafka"} ${NOW / 1000}`);
  // No high watermark known for an offline partition: no series rather than a guess.
  assert.ok(
    !out.some((l) => l.startsWith("kafka_topic_partition_current_offset") && l.includes('partition="1"')),
  );
  assert.ok(
    !out.some((l) => /NaN|-1$/.test(l) && !l.startsWith("kafka_topic_partition_leader")),
    "no NaN or -1",
  );
});

test("a group gone from the snapshot is gone from the next scrape; stale snapshots show health only", async () => {
  let now = NOW;
  const m = new LagMetrics({ now: () => now });
  const src = new FakeSource(snapshot([group("a"), group("b")]));
  m.add(src);
  assert.ok((await samples(m)).some((l) => l.includes('consumergroup="b"')));
  src.snapshot = snapshot([group("a")]);
  const after = await samples(m);
  assert.ok(!after.some((l) => l.includes('consumergroup="b"')), after.join("\n"));
  assert.ok(after.some((l) => l.includes('consumergroup="a"')));
  now = NOW + 3 * 30_000 + 1;
  const stale = await samples(m);
  assert.ok(!stale.some((l) => l.startsWith("kafka_")), stale.join("\n"));
  assert.ok(stale.some((l) => l.startsWith("capstan_lag_poll_last_success_timestamp_seconds")));
  m.remove(src);
  assert.deepEqual(await samples(m), []);
});

test("granularity: topic drops partition series, group drops topic sums too", async () => {
  const m = new LagMetrics({ now: () => NOW });
  m.add(
    new FakeSource(snapshot([group("t", { granularity: "topic" }), group("g", { granularity: "group" })])),
  );
  const out = await samples(m);
  const of = (id: string) =>
    out.filter((l) => l.includes(`consumergroup="${id}"`)).map((l) => l.split("{")[0]);
  assert.ok(!of("t").includes("kafka_consumergroup_lag"));
  assert.ok(of("t").includes("kafka_consumergroup_lag_sum"));
  assert.ok(!of("g").includes("kafka_consumergroup_lag_sum"));
  assert.ok(of("g").includes("kafka_consumergroup_max_lag_seconds"));
  assert.ok(!of("g").includes("kafka_consumergroup_lag_seconds"));
});

test("a group that could not be read shows ERR and membership, but no lag", async () => {
  const m = new LagMetrics({ now: () => NOW });
  m.add(
    new FakeSource(
      snapshot([
        group("broken", {
          status: "ERR",
          error: "OffsetFetch failed",
          partitions: [],
          maxLag: 0,
          maxLagSeconds: null,
          timeToDrainSeconds: null,
        }),
      ]),
    ),
  );
  const out = (await samples(m)).filter((l) => l.includes('consumergroup="broken"'));
  assert.ok(
    out.some(
      (l) => l.startsWith("kafka_consumergroup_status") && l.includes('status="ERR"') && l.endsWith(" 1"),
    ),
  );
  assert.ok(out.some((l) => l.startsWith("kafka_consumergroup_members")));
  assert.ok(!out.some((l) => /^kafka_consumergroup_(lag|max_lag)/.test(l)), out.join("\n"));
});
