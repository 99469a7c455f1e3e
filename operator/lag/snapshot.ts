// What one poll of a cluster produced: immutable (deep-frozen) once published, so the
// scrape path, the KafkaTopic status and tests read it without locks or copies, and a
// scrape never sees half of one poll and half of the next.
import type { Granularity } from "./cardinality.ts";
import type { GroupStatus, PartitionStatus } from "./group-status.ts";

export interface BrokerSnapshot {
  readonly id: number;
  readonly address: string;
}

export interface TopicPartitionSnapshot {
  readonly partition: number;
  /** -1 when the partition has no leader (offline). */
  readonly leader: number;
  readonly replicas: number;
  readonly inSyncReplicas: number;
  /** The leader is the first replica (the preferred leader). */
  readonly preferredLeader: boolean;
  readonly underReplicated: boolean;
  /** Null when the leader did not answer ListOffsets this poll. */
  readonly highWatermark: number | null;
  readonly oldestOffset: number | null;
}

export interface TopicSnapshot {
  readonly topic: string;
  readonly partitions: readonly TopicPartitionSnapshot[];
}

/**
 * How a lag-seconds value was obtained: `record` from the timestamp of the record at the
 * committed offset (exact), `interpolated` between two (high watermark, time) points,
 * `lower_bound` when the committed offset is older than the table (the true value is at
 * least this), `caught_up` when there is no lag (0, exact).
 */
export type LagSource = "record" | "interpolated" | "lower_bound" | "caught_up";
export const LAG_SOURCES: readonly LagSource[] = ["record", "interpolated", "lower_bound", "caught_up"];

export interface GroupPartitionSnapshot {
  readonly topic: string;
  readonly partition: number;
  readonly committed: number;
  readonly highWatermark: number;
  /** max(0, highWatermark − committed). */
  readonly lag: number;
  /** Null when neither the record nor the table could tell (no series then). */
  readonly lagSeconds: number | null;
  readonly lagSecondsSource: LagSource | null;
  readonly status: PartitionStatus;
}

export interface GroupSnapshot {
  readonly groupId: string;
  /** Node id of the coordinator the group was read from. */
  readonly coordinator: number;
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Assigning, Reconciling, ... ("" if unknown). */
  readonly state: string;
  /** Group protocol: classic, consumer (KIP-848), or unknown when describing failed. */
  readonly protocol: "classic" | "consumer" | "unknown";
  readonly protocolType: string;
  readonly assignor: string;
  readonly members: number;
  readonly status: GroupStatus;
  /** Why the group could not be fully read this poll (status ERR), else null. */
  readonly error: string | null;
  /** Committed partitions whose high watermark is known, sorted by topic then partition. */
  readonly partitions: readonly GroupPartitionSnapshot[];
  /** Partitions assigned to members that have no committed offset. */
  readonly uncommittedPartitions: number;
  readonly maxLag: number;
  readonly maxLagSeconds: number | null;
  readonly timeToDrainSeconds: number | null;
  /** Alerting threshold configured for this group (lagThresholds option), else null. */
  readonly lagThresholdSeconds: number | null;
  readonly granularity: Granularity;
}

export interface PollStats {
  /** Partitions whose high watermark was below the committed offset (lag clamped to 0). */
  readonly clamped: number;
  /** Kafka requests the poll sent. */
  readonly requests: number;
  /** The same, by API name. */
  readonly requestsByApi: Readonly<Record<string, number>>;
  /** Distinct (partition, offset) records fetched for their timestamps. */
  readonly recordFetches: number;
  /** Groups exported coarser than configured because of the series budget. */
  readonly coarsenedGroups: number;
  /** Consumer-group series this snapshot exports (at most, see cardinality.ts). */
  readonly groupSeries: number;
  /** Partial failures: the poll went on without these. */
  readonly errors: readonly { readonly stage: PollStage; readonly message: string }[];
}

export type PollStage =
  "metadata" | "list_groups" | "describe_groups" | "offset_fetch" | "list_offsets" | "record_timestamps";
export const POLL_STAGES: readonly PollStage[] = [
  "metadata",
  "list_groups",
  "describe_groups",
  "offset_fetch",
  "list_offsets",
  "record_timestamps",
];

export interface LagSnapshot {
  readonly cluster: string;
  readonly namespace: string;
  /** When the high watermarks were read (ms since the epoch): the "as of" of every lag. */
  readonly takenAt: number;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly brokers: readonly BrokerSnapshot[];
  readonly topics: readonly TopicSnapshot[];
  readonly groups: readonly GroupSnapshot[];
  readonly stats: PollStats;
}

/** What KafkaTopic status shows: the largest lag on a topic and which group has it. */
export interface TopicLagSummary {
  readonly topic: string;
  readonly maxLag: number;
  readonly maxLagSeconds: number | null;
  readonly slowestGroup: string;
  readonly groups: number;
}

export function topicLagSummary(snapshot: LagSnapshot, topic: string): TopicLagSummary | null {
  let groups = 0;
  let maxLag = 0;
  let maxLagSeconds: number | null = null;
  // The slowest group: the oldest unconsumed record first, then the most records behind.
  let slowestGroup = "";
  let slowestKey: [number, number] = [-Infinity, -Infinity];
  for (const g of snapshot.groups) {
    const mine = g.partitions.filter((p) => p.topic === topic);
    if (mine.length === 0) continue;
    groups++;
    const lag = Math.max(...mine.map((p) => p.lag));
    const known = mine.map((p) => p.lagSeconds).filter((s): s is number => s !== null);
    const seconds = known.length > 0 ? Math.max(...known) : null;
    maxLag = Math.max(maxLag, lag);
    if (seconds !== null) maxLagSeconds = Math.max(maxLagSeconds ?? 0, seconds);
    const key: [number, number] = [seconds ?? -1, lag];
    if (key[0] > slowestKey[0] || (key[0] === slowestKey[0] && key[1] > slowestKey[1])) {
      slowestKey = key;
      slowestGroup = g.groupId;
    }
  }
  return groups === 0 ? null : { topic, maxLag, maxLagSeconds, slowestGroup, groups };
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
