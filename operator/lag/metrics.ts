// Prometheus metrics of the lag collectors (one per cluster), in their own registry.
// Every family fills itself in collect() from the collectors' latest snapshots: reset,
// then set what the snapshot holds. A scrape therefore does no Kafka I/O, and a group,
// topic or partition that is gone from the snapshot is gone from /metrics (no stale
// series, no remove() bookkeeping). Names and labels of the kafka_* families are
// kafka_exporter's, plus `cluster` and `namespace`; README.md lists every family.
import { Counter, Gauge, Registry } from "prom-client";
import type { CollectorHealth } from "./collector.ts";
import { GROUP_STATUSES } from "./group-status.ts";
import type { GroupSnapshot, LagSnapshot, TopicPartitionSnapshot } from "./snapshot.ts";
import { POLL_STAGES } from "./snapshot.ts";

type Labels = Record<string, string>;

/** What the metrics read from a collector (LagCollector implements it). */
export interface SnapshotSource {
  readonly cluster: string;
  readonly namespace: string;
  readonly intervalMs: number;
  readonly snapshot: LagSnapshot | null;
  readonly health: Readonly<CollectorHealth>;
}
type Setter = (labels: Labels, value: number) => void;

export interface LagMetricsOptions {
  /** Registry to register in; default a new one (see `registry`). */
  registry?: Registry;
  /**
   * Lag series of a snapshot older than this many poll intervals are withheld (a cluster
   * that cannot be polled shows no lag rather than frozen lag); default 3. The health
   * families always show, so the stale-exporter alert can fire.
   */
  maxSnapshotAgeIntervals?: number;
  /** Clock (ms since the epoch); tests replace it. */
  now?: () => number;
}

export class LagMetrics {
  readonly registry: Registry;
  private readonly sources = new Set<SnapshotSource>();
  private readonly maxAge: number;
  private readonly now: () => number;

  constructor(opts: LagMetricsOptions = {}) {
    this.registry = opts.registry ?? new Registry();
    this.maxAge = opts.maxSnapshotAgeIntervals ?? 3;
    this.now = opts.now ?? Date.now;
    this.registerClusterFamilies();
    this.registerGroupFamilies();
    this.registerHealthFamilies();
  }

  add(collector: SnapshotSource): void {
    this.sources.add(collector);
  }

  /** Stops exporting a cluster: all its series, health included, vanish at the next scrape. */
  remove(collector: SnapshotSource): void {
    this.sources.delete(collector);
  }

  /** The Prometheus text exposition (what /metrics serves). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Fresh snapshots with their base labels. */
  private *fresh(): Generator<{ s: LagSnapshot; base: Labels }> {
    const now = this.now();
    for (const c of this.sources) {
      const s = c.snapshot;
      if (!s || now - s.takenAt > this.maxAge * c.intervalMs) continue;
      yield { s, base: { cluster: s.cluster, namespace: s.namespace } };
    }
  }

  private gauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    fill: (set: Setter) => void,
  ): void {
    new Gauge({
      name,
      help,
      labelNames: ["cluster", "namespace", ...labelNames],
      registers: [this.registry],
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });
  }

  private counter(
    name: string,
    help: string,
    labelNames: readonly string[],
    fill: (set: Setter) => void,
  ): void {
    new Counter({
      name,
      help,
      labelNames: ["cluster", "namespace", ...labelNames],
      registers: [this.registry],
      collect() {
        // Counters live in the collector (they survive scrapes and polls); copy them.
        this.reset();
        fill((labels, value) => this.inc(labels, value));
      },
    });
  }

  private registerClusterFamilies(): void {
    const perPartition = (
      fill: (set: Setter, base: Labels, topic: string, p: TopicPartitionSnapshot) => void,
    ) => {
      return (set: Setter) => {
        for (const { s, base } of this.fresh()) {
          for (const t of s.topics) for (const p of t.partitions) fill(set, base, t.topic, p);
        }
      };
    };
    const tp = (base: Labels, topic: string, p: TopicPartitionSnapshot) => ({
      ...base,
      topic,
      partition: String(p.partition),
    });
    this.gauge("kafka_brokers", "Brokers in the cluster (from Metadata).", [], (set) => {
      for (const { s, base } of this.fresh()) set(base, s.brokers.length);
    });
    this.gauge(
      "kafka_broker_info",
      "1 per broker, with its id and advertised address.",
      ["id", "address"],
      (set) => {
        for (const { s, base } of this.fresh()) {
          for (const b of s.brokers) set({ ...base, id: String(b.id), address: b.address }, 1);
        }
      },
    );
    this.gauge("kafka_topic_partitions", "Partitions of the topic.", ["topic"], (set) => {
      for (const { s, base } of this.fresh())
        for (const t of s.topics) set({ ...base, topic: t.topic }, t.partitions.length);
    });
    this.gauge(
      "kafka_topic_partition_current_offset",
      "High watermark of the partition (ListOffsets LATEST, read_uncommitted): the offset the next record will get once replicated.",
      ["topic", "partition"],
      perPartition((set, base, topic, p) => {
        if (p.highWatermark !== null) set(tp(base, topic, p), p.highWatermark);
      }),
    );
    this.gauge(
      "kafka_topic_partition_oldest_offset",
      "Log start offset of the partition (ListOffsets EARLIEST).",
      ["topic", "partition"],
      perPartition((set, base, topic, p) => {
        if (p.oldestOffset !== null) set(tp(base, topic, p), p.oldestOffset);
      }),
    );
    this.gauge(
      "kafka_topic_partition_leader",
      "Broker id of the partition leader; -1 when the partition has no leader (offline).",
      ["topic", "partition"],
      perPartition((set, base, topic, p) => set(tp(base, topic, p), p.leader)),
    );
    this.gauge(
      "kafka_topic_partition_replicas",
      "Replicas of the partition.",
      ["topic", "partition"],
      perPartition((set, base, topic, p) => set(tp(base, topic, p), p.replicas)),
    );
    this.gauge(
      "kafka_topic_partition_in_sync_replica",
      "In-sync replicas of the partition.",
      ["topic", "partition"],
      perPartition((set, base, topic, p) => set(tp(base, topic, p), p.inSyncReplicas)),
    );
    this.gauge(
      "kafka_topic_partition_leader_is_preferred",
      "1 when the leader is the preferred (first) replica.",
      ["topic", "partition"],
      perPartition((set, base, topic, p) => set(tp(base, topic, p), p.preferredLeader ? 1 : 0)),
    );
    this.gauge(
      "kafka_topic_partition_under_replicated_partition",
      "1 when the partition has fewer in-sync replicas than replicas.",
      ["topic", "partition"],
      perPartition((set, base, topic, p) => set(tp(base, topic, p), p.underReplicated ? 1 : 0)),
    );
  }

  private registerGroupFamilies(): void {
    const groups = (fill: (set: Setter, base: Labels, g: GroupSnapshot) => void) => (set: Setter) => {
      for (const { s, base } of this.fresh())
        for (const g of s.groups) fill(set, { ...base, consumergroup: g.groupId }, g);
    };
    /** Per-topic sums, for groups exported at partition or topic granularity. */
    const topicSums = (pick: (p: GroupSnapshot["partitions"][number]) => number) =>
      groups((set, base, g) => {
        if (g.granularity === "group") return;
        const sums = new Map<string, number>();
        for (const p of g.partitions) sums.set(p.topic, (sums.get(p.topic) ?? 0) + pick(p));
        for (const [topic, v] of sums) set({ ...base, topic }, v);
      });
    const perPartition = (
      fill: (set: Setter, labels: Labels, p: GroupSnapshot["partitions"][number]) => void,
    ): ((set: Setter) => void) =>
      groups((set, base, g) => {
        if (g.granularity !== "partition") return;
        for (const p of g.partitions)
          fill(set, { ...base, topic: p.topic, partition: String(p.partition) }, p);
      });

    this.gauge(
      "kafka_consumergroup_current_offset",
      "Committed offset of the group on the partition (OffsetFetch). Partitions without a commit have no series.",
      ["consumergroup", "topic", "partition"],
      perPartition((set, labels, p) => set(labels, p.committed)),
    );
    this.gauge(
      "kafka_consumergroup_current_offset_sum",
      "Sum of the group's committed offsets over the topic's committed partitions.",
      ["consumergroup", "topic"],
      topicSums((p) => p.committed),
    );
    this.gauge(
      "kafka_consumergroup_lag",
      "Records the group has not consumed on the partition: max(0, high watermark − committed offset), committed offsets read first.",
      ["consumergroup", "topic", "partition"],
      perPartition((set, labels, p) => set(labels, p.lag)),
    );
    this.gauge(
      "kafka_consumergroup_lag_sum",
      "Sum of the group's lag over the topic's committed partitions.",
      ["consumergroup", "topic"],
      topicSums((p) => p.lag),
    );
    this.gauge(
      "kafka_consumergroup_members",
      "Members of the group (DescribeGroups, or ConsumerGroupDescribe for KIP-848 groups).",
      ["consumergroup"],
      groups((set, base, g) => set(base, g.members)),
    );
    this.gauge(
      "kafka_consumergroup_lag_seconds",
      "Age of the oldest record the group has not consumed on the partition, as of the poll; source says how it was obtained (record, interpolated, lower_bound, caught_up).",
      ["consumergroup", "topic", "partition", "source"],
      perPartition((set, labels, p) => {
        if (p.lagSeconds !== null && p.lagSecondsSource !== null) {
          set({ ...labels, source: p.lagSecondsSource }, p.lagSeconds);
        }
      }),
    );
    this.gauge(
      "kafka_consumergroup_max_lag",
      "Largest lag of the group over its committed partitions.",
      ["consumergroup"],
      groups((set, base, g) => {
        if (g.partitions.length > 0) set(base, g.maxLag);
      }),
    );
    this.gauge(
      "kafka_consumergroup_max_lag_seconds",
      "Largest time lag of the group over its committed partitions.",
      ["consumergroup"],
      groups((set, base, g) => {
        if (g.maxLagSeconds !== null) set(base, g.maxLagSeconds);
      }),
    );
    this.gauge(
      "kafka_consumergroup_status",
      "Burrow-style status of the group over the status window: 1 for the current status, 0 for the others (OK, WARN, STALL, STOP, ERR).",
      ["consumergroup", "status"],
      groups((set, base, g) => {
        for (const status of GROUP_STATUSES) set({ ...base, status }, g.status === status ? 1 : 0);
      }),
    );
    this.gauge(
      "kafka_consumergroup_state",
      "1, labelled with the group's state, group protocol (classic or consumer) and assignor.",
      ["consumergroup", "state", "protocol", "assignor"],
      groups((set, base, g) =>
        set({ ...base, state: g.state, protocol: g.protocol, assignor: g.assignor }, 1),
      ),
    );
    this.gauge(
      "kafka_consumergroup_time_to_drain_seconds",
      "Estimated time to consume the group's whole lag at the consume and produce rates of the status window; +Inf when the lag is not shrinking.",
      ["consumergroup"],
      groups((set, base, g) => {
        if (g.timeToDrainSeconds !== null) set(base, g.timeToDrainSeconds);
      }),
    );
    this.gauge(
      "kafka_consumergroup_uncommitted_partitions",
      "Partitions assigned to the group's members that have no committed offset (and so no lag series).",
      ["consumergroup"],
      groups((set, base, g) => set(base, g.uncommittedPartitions)),
    );
    this.gauge(
      "kafka_consumergroup_lag_threshold_seconds",
      "Time-lag threshold configured for the group; the alert rules compare max_lag_seconds with it.",
      ["consumergroup"],
      groups((set, base, g) => {
        if (g.lagThresholdSeconds !== null) set(base, g.lagThresholdSeconds);
      }),
    );
  }

  private registerHealthFamilies(): void {
    const each = (fill: (set: Setter, base: Labels, c: SnapshotSource) => void) => (set: Setter) => {
      for (const c of this.sources) fill(set, { cluster: c.cluster, namespace: c.namespace }, c);
    };
    this.gauge(
      "capstan_lag_up",
      "1 when the last lag poll of the cluster succeeded.",
      [],
      each((set, base, c) => set(base, c.health.lastPollOk ? 1 : 0)),
    );
    this.gauge(
      "capstan_lag_poll_last_success_timestamp_seconds",
      "When the last successful lag poll of the cluster ended (Unix time).",
      [],
      each((set, base, c) => {
        if (c.health.lastSuccess !== null) set(base, c.health.lastSuccess / 1000);
      }),
    );
    this.gauge(
      "capstan_lag_poll_duration_seconds",
      "Duration of the last lag poll of the cluster.",
      [],
      each((set, base, c) => {
        if (c.health.lastDurationMs !== null) set(base, c.health.lastDurationMs / 1000);
      }),
    );
    this.gauge(
      "capstan_lag_poll_interval_seconds",
      "Configured interval between lag polls (the stale-exporter alert is relative to it).",
      [],
      each((set, base, c) => set(base, c.intervalMs / 1000)),
    );
    this.gauge(
      "capstan_lag_group_series",
      "Consumer-group series the latest snapshot exports (at most), after the cardinality budget.",
      [],
      each((set, base, c) => {
        if (c.snapshot) set(base, c.snapshot.stats.groupSeries);
      }),
    );
    this.gauge(
      "capstan_lag_groups_coarsened",
      "Groups exported at a coarser granularity than configured because of the series budget.",
      [],
      each((set, base, c) => {
        if (c.snapshot) set(base, c.snapshot.stats.coarsenedGroups);
      }),
    );
    this.counter(
      "capstan_lag_polls_total",
      "Lag polls started.",
      [],
      each((set, base, c) => set(base, c.health.polls)),
    );
    this.counter(
      "capstan_lag_poll_errors_total",
      "Errors by poll stage: a failed poll, or a partial failure the poll went on without.",
      ["stage"],
      each((set, base, c) => {
        for (const stage of POLL_STAGES) set({ ...base, stage }, c.health.errors[stage]);
      }),
    );
    this.counter(
      "capstan_lag_clamped_partitions_total",
      "Times a partition's high watermark was below the committed offset and its lag was clamped to 0.",
      [],
      each((set, base, c) => set(base, c.health.clampedTotal)),
    );
    this.counter(
      "capstan_lag_record_fetches_total",
      "Records fetched for their timestamp (time lag from the record at the committed offset).",
      [],
      each((set, base, c) => set(base, c.health.recordFetchesTotal)),
    );
  }
}
