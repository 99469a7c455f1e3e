// The lag collector of one Kafka cluster: a background poller that builds an immutable
// LagSnapshot every interval (default 30 s), so a Prometheus scrape only copies the
// latest snapshot into gauges and never waits on Kafka (kafka_exporter and KMinion poll
// at scrape time and time out on big clusters).
//
// A poll, with the number of requests each step sends (B brokers, C coordinators, L
// partition leaders; none depends on the number of groups or partitions, except for
// chunks of 200 groups):
//   1. Metadata (1): brokers, topics, partition leaders and replicas.
//   2. ListGroups (B): every broker lists the groups it coordinates.
//   3. DescribeGroups / ConsumerGroupDescribe (≤ 2C) and OffsetFetch (C, v8+ batched):
//      state, members, assignments, committed offsets; FindCoordinator (1) and a retry
//      only for groups whose coordinator moved.
//   4. Only then ListOffsets LATEST and EARLIEST (2L): lag = hwm − committed ≥ 0.
//   5. Fetch (≈ L per round of distinct offsets per partition): the timestamp of the
//      record at each lagging committed offset not already known.
// Between polls the collector keeps, per partition, a (high watermark, time) table for
// interpolated time lag, and per (group, partition) a window of observations for the
// Burrow-style status and the time to drain.
import type tls from "node:tls";
import type { Logger } from "../../lib/logger.ts";
import { createLogger } from "../../lib/logger.ts";
import type { CardinalityOptions } from "./cardinality.ts";
import { globToRegExp, planGranularity } from "./cardinality.ts";
import type { ClusterMetadata } from "./cluster-client.ts";
import { ClusterClient, ErrorCode } from "./cluster-client.ts";
import type { CommittedOutcome } from "./committed-offsets.ts";
import { fetchCommittedOffsets } from "./committed-offsets.ts";
import { messageOf } from "./connection.ts";
import type { DescribeOutcome } from "./describe-groups.ts";
import { describeGroups } from "./describe-groups.ts";
import { timeToDrainSeconds } from "./drain-time.ts";
import { COORDINATOR_MOVED, findCoordinators } from "./find-coordinators.ts";
import type { Observation, PartitionStatus, StatusRules } from "./group-status.ts";
import { groupStatus, partitionStatus } from "./group-status.ts";
import type { ListedGroup } from "./list-groups.ts";
import { listGroups } from "./list-groups.ts";
import { OffsetTimeTable } from "./offset-time-table.ts";
import type { LeaderPartition } from "./partition-offsets.ts";
import { listPartitionOffsets, partitionKey } from "./partition-offsets.ts";
import type { RecordTimestampOptions, TimestampQuery } from "./record-timestamps.ts";
import { fetchRecordTimestamps, timestampKey } from "./record-timestamps.ts";
import type {
  GroupPartitionSnapshot,
  GroupSnapshot,
  LagSnapshot,
  LagSource,
  PollStage,
  TopicSnapshot,
} from "./snapshot.ts";
import { POLL_STAGES, deepFreeze } from "./snapshot.ts";

export interface LagCollectorOptions {
  /** Value of the `cluster` label: the KafkaCluster's name. */
  cluster: string;
  /** Value of the `namespace` label: the KafkaCluster's namespace ("" in local mode). */
  namespace: string;
  bootstrap: readonly string[];
  /** Poll interval; default 30 s. */
  intervalMs?: number;
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  addressMap?: (host: string, port: number) => { host: string; port: number };
  tls?: tls.ConnectionOptions;
  /** Burrow-style status: window in polls (default 10) and tolerated lag (default 0). */
  status?: Partial<StatusRules>;
  /** Points per partition in the interpolation table; default 120 (an hour at 30 s). */
  tablePoints?: number;
  /**
   * Read the record at each lagging committed offset for its timestamp (needs READ on the
   * topics); false: interpolation only. maxPerPoll bounds distinct records fetched per
   * poll (default 5000); the rest are interpolated.
   */
  recordTimestamps?: false | (RecordTimestampOptions & { maxPerPoll?: number });
  cardinality?: CardinalityOptions;
  /** Only groups whose id matches (whole id); default all. */
  groupFilter?: RegExp;
  groupExclude?: RegExp;
  topicFilter?: RegExp;
  topicExclude?: RegExp;
  /** Export __consumer_offsets and other internal topics too; default false. */
  includeInternalTopics?: boolean;
  /** Per-group time-lag thresholds (glob on the group id), exported for the alert rules. */
  lagThresholds?: readonly { group: string; seconds: number }[];
  log?: Logger;
  /** Clock (ms since the epoch); tests replace it. */
  now?: () => number;
}

/** Cumulative counters and the latest poll's outcome, for the health metrics. */
export interface CollectorHealth {
  polls: number;
  failedPolls: number;
  errors: Record<PollStage, number>;
  clampedTotal: number;
  recordFetchesTotal: number;
  lastSuccess: number | null;
  lastDurationMs: number | null;
  lastPollOk: boolean;
  intervalMs: number;
}

/** Group types the collector reads; share and streams groups have other describe APIs. */
const LAG_GROUP_TYPES = new Set(["", "classic", "consumer"]);

export class LagCollector {
  readonly cluster: string;
  readonly namespace: string;
  readonly intervalMs: number;
  private readonly opts: LagCollectorOptions;
  private readonly client: ClusterClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly rules: StatusRules;
  private readonly thresholds: { match: RegExp; seconds: number }[];
  private latest: LagSnapshot | null = null;
  private readonly tables = new Map<string, OffsetTimeTable>();
  private history = new Map<string, Map<string, Observation[]>>();
  private timestamps = new Map<string, number>();
  private readonly listeners = new Set<(s: LagSnapshot) => void>();
  private readonly stats: CollectorHealth;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<LagSnapshot | null> | null = null;
  private stopped = false;

  constructor(opts: LagCollectorOptions) {
    this.opts = opts;
    this.cluster = opts.cluster;
    this.namespace = opts.namespace;
    this.intervalMs = opts.intervalMs ?? 30_000;
    this.now = opts.now ?? Date.now;
    this.rules = { window: opts.status?.window ?? 10, allowedLag: opts.status?.allowedLag ?? 0 };
    this.thresholds = (opts.lagThresholds ?? []).map((t) => ({
      match: globToRegExp(t.group),
      seconds: t.seconds,
    }));
    this.log = opts.log ?? createLogger("lag", { cluster: opts.cluster, namespace: opts.namespace });
    this.client = new ClusterClient({
      bootstrap: opts.bootstrap,
      clientId: opts.clientId ?? "capstan-lag",
      connectTimeoutMs: opts.connectTimeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      addressMap: opts.addressMap,
      tls: opts.tls,
    });
    this.stats = {
      polls: 0,
      failedPolls: 0,
      errors: Object.fromEntries(POLL_STAGES.map((s) => [s, 0])) as Record<PollStage, number>,
      clampedTotal: 0,
      recordFetchesTotal: 0,
      lastSuccess: null,
      lastDurationMs: null,
      lastPollOk: false,
      intervalMs: this.intervalMs,
    };
  }

  /** The latest complete snapshot, or null before the first successful poll. */
  get snapshot(): LagSnapshot | null {
    return this.latest;
  }

  get health(): Readonly<CollectorHealth> {
    return this.stats;
  }

  /** Calls `listener` with every new snapshot; returns the unsubscribe function. */
  onSnapshot(listener: (s: LagSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Polls now, then every interval after the previous poll ended (polls never overlap). */
  start(): void {
    if (this.timer || this.running || this.stopped) return;
    const loop = async () => {
      await this.pollSafely();
      if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
    this.client.close();
  }

  /** One poll, unless one is under way (then that one's result). Never rejects. */
  pollSafely(): Promise<LagSnapshot | null> {
    if (!this.running) {
      this.running = this.pollOnce()
        .catch((err: unknown) => {
          this.log.warn("lag poll failed", { error: messageOf(err) });
          return null;
        })
        .finally(() => {
          this.running = null;
        });
    }
    return this.running;
  }

  /** Runs one poll and publishes its snapshot; rejects when the poll failed as a whole. */
  async pollOnce(): Promise<LagSnapshot> {
    const startedAt = this.now();
    this.stats.polls++;
    try {
      const snapshot = await this.poll(startedAt);
      this.stats.lastSuccess = this.now();
      this.stats.lastDurationMs = snapshot.durationMs;
      this.stats.lastPollOk = true;
      this.stats.clampedTotal += snapshot.stats.clamped;
      this.stats.recordFetchesTotal += snapshot.stats.recordFetches;
      for (const e of snapshot.stats.errors) this.stats.errors[e.stage]++;
      this.latest = snapshot;
      for (const l of this.listeners) {
        try {
          l(snapshot);
        } catch (err) {
          this.log.warn("snapshot listener failed", { error: messageOf(err) });
        }
      }
      return snapshot;
    } catch (err) {
      this.stats.failedPolls++;
      this.stats.lastPollOk = false;
      this.stats.lastDurationMs = this.now() - startedAt;
      const stage = err instanceof StageError ? err.stage : "metadata";
      this.stats.errors[stage]++;
      throw err;
    }
  }

  private async poll(startedAt: number): Promise<LagSnapshot> {
    const errors: { stage: PollStage; message: string }[] = [];
    this.client.takeRequestCounts();

    // 1. Metadata.
    let md: ClusterMetadata;
    try {
      md = await this.client.metadata();
    } catch (err) {
      throw new StageError("metadata", err);
    }
    const topicAllowed = (t: string, internal: boolean) =>
      (internal ? this.opts.includeInternalTopics === true : true) &&
      (!this.opts.topicFilter || wholeMatch(this.opts.topicFilter, t)) &&
      !(this.opts.topicExclude && wholeMatch(this.opts.topicExclude, t));
    const topics = md.topics.filter((t) => topicAllowed(t.name, t.internal));
    const leaders = new Map<string, number>();
    for (const t of topics)
      for (const p of t.partitions) leaders.set(partitionKey(t.name, p.partition), p.leader);

    // 2. Groups, from every broker.
    const listed = await listGroups(this.client, md.brokers);
    for (const f of listed.failures)
      errors.push({ stage: "list_groups", message: `broker ${f.nodeId}: ${f.error}` });
    if (md.brokers.length > 0 && listed.failures.length === md.brokers.length) {
      throw new StageError("list_groups", new Error(listed.failures.map((f) => f.error).join("; ")));
    }
    const groups = this.selectGroups(listed.groups, new Set(listed.failures.map((f) => f.nodeId)));

    // 3. Descriptions and committed offsets, with one retry where a coordinator moved.
    const described = await describeGroups(this.client, groups);
    const committed = await fetchCommittedOffsets(this.client, groups);
    const moved = groups.filter(
      (g) => movedCoordinator(described.get(g.groupId)) || movedCoordinator(committed.get(g.groupId)),
    );
    if (moved.length > 0 && md.brokers.length > 0) {
      try {
        const found = await findCoordinators(
          this.client,
          md.brokers[0].nodeId,
          moved.map((g) => g.groupId),
        );
        const retry = moved
          .filter((g) => found.has(g.groupId))
          .map((g) => ({ ...g, coordinator: found.get(g.groupId)! }));
        for (const g of retry) groups[groups.findIndex((x) => x.groupId === g.groupId)] = g;
        const d2 = await describeGroups(this.client, retry);
        const c2 = await fetchCommittedOffsets(this.client, retry);
        for (const [k, v] of d2) described.set(k, v);
        for (const [k, v] of c2) committed.set(k, v);
      } catch (err) {
        errors.push({ stage: "describe_groups", message: `FindCoordinator: ${messageOf(err)}` });
      }
    }

    // 4. Only now the high watermarks and log start offsets.
    const partitions: LeaderPartition[] = [];
    for (const t of topics)
      for (const p of t.partitions)
        partitions.push({ topic: t.name, partition: p.partition, leader: p.leader });
    const offsets = await listPartitionOffsets(this.client, partitions);
    const takenAt = this.now();
    for (const e of offsets.errors) {
      errors.push({
        stage: "list_offsets",
        message: `${e.topic}${e.partition === null ? "" : `-${e.partition}`}: ${e.error}`,
      });
    }
    for (const [key, hwm] of offsets.highWatermarks) {
      let table = this.tables.get(key);
      if (!table) this.tables.set(key, (table = new OffsetTimeTable(this.opts.tablePoints ?? 120)));
      table.add(hwm, takenAt);
    }
    for (const key of this.tables.keys()) if (!leaders.has(key)) this.tables.delete(key);

    // Lag per (group, partition); groups that could not be read keep their history.
    let clamped = 0;
    interface Draft {
      listed: ListedGroup;
      error: string | null;
      d: DescribeOutcome | undefined;
      parts: { topic: string; partition: number; committed: number; hwm: number; lag: number }[];
      uncommitted: number;
    }
    const drafts: Draft[] = [];
    for (const g of groups) {
      const d = described.get(g.groupId);
      const c = committed.get(g.groupId);
      const offsetsOk = c && "ok" in c ? c.ok : null;
      // Deleted since ListGroups: not an error, just gone.
      if (gone(d, offsetsOk)) continue;
      if (d && "error" in d) errors.push({ stage: "describe_groups", message: `${g.groupId}: ${d.error}` });
      if (c && "error" in c) errors.push({ stage: "offset_fetch", message: `${g.groupId}: ${c.error}` });
      const parts: Draft["parts"] = [];
      for (const o of offsetsOk ?? []) {
        const key = partitionKey(o.topic, o.partition);
        if (!leaders.has(key)) continue; // topic filtered out or deleted
        const hwm = offsets.highWatermarks.get(key);
        if (hwm === undefined) continue;
        if (hwm < o.offset) clamped++;
        parts.push({
          topic: o.topic,
          partition: o.partition,
          committed: o.offset,
          hwm,
          lag: Math.max(0, hwm - o.offset),
        });
      }
      parts.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      let uncommitted = 0;
      if (d && "ok" in d && offsetsOk) {
        const done = new Set(offsetsOk.map((o) => partitionKey(o.topic, o.partition)));
        for (const [topic, ps] of d.ok.assigned)
          for (const p of ps) if (!done.has(partitionKey(topic, p))) uncommitted++;
      }
      const error = d && "error" in d ? d.error : c && "error" in c ? c.error : !d || !c ? "not read" : null;
      drafts.push({ listed: g, error, d, parts, uncommitted });
    }

    // 5. Time lag: the record at each lagging committed offset, else the table.
    const wanted: (TimestampQuery & { lag: number })[] = [];
    const nextTimestamps = new Map<string, number>();
    for (const dr of drafts) {
      for (const p of dr.parts) {
        if (p.lag === 0) continue;
        const key = timestampKey(p.topic, p.partition, p.committed);
        const cached = this.timestamps.get(key);
        const leader = leaders.get(partitionKey(p.topic, p.partition)) ?? -1;
        if (cached !== undefined) nextTimestamps.set(key, cached);
        else if (leader >= 0)
          wanted.push({ topic: p.topic, partition: p.partition, leader, offset: p.committed, lag: p.lag });
      }
    }
    let recordFetches = 0;
    const rt = this.opts.recordTimestamps;
    if (rt !== false && wanted.length > 0) {
      // Largest lag first, so a budget cut leaves the least important to interpolation.
      const unique = dedupe(wanted).sort((a, b) => b.lag - a.lag);
      const batch = unique.slice(0, rt?.maxPerPoll ?? 5000);
      recordFetches = batch.length;
      const res = await fetchRecordTimestamps(this.client, batch, rt ?? {});
      for (const e of res.errors) errors.push({ stage: "record_timestamps", message: e });
      for (const [k, v] of res.found) nextTimestamps.set(k, v);
    }
    this.timestamps = nextTimestamps;

    // History, status, drain, and the snapshot.
    const nextHistory = new Map<string, Map<string, Observation[]>>();
    const built: Omit<GroupSnapshot, "granularity">[] = [];
    for (const dr of drafts) {
      const id = dr.listed.groupId;
      const previous = this.history.get(id) ?? new Map<string, Observation[]>();
      const desc = dr.d && "ok" in dr.d ? dr.d.ok : null;
      const hasMembers = (desc?.members ?? 0) > 0;
      const readable = dr.error === null;
      const hist = readable ? new Map<string, Observation[]>() : previous;
      const statuses: PartitionStatus[] = [];
      const gps: GroupPartitionSnapshot[] = [];
      for (const p of dr.parts) {
        const key = partitionKey(p.topic, p.partition);
        const obs = [
          ...(previous.get(key) ?? []),
          { time: takenAt, committed: p.committed, highWatermark: p.hwm, lag: p.lag },
        ].slice(-this.rules.window);
        hist.set(key, obs);
        const status = partitionStatus(obs, hasMembers, this.rules);
        statuses.push(status);
        const { seconds, source } = this.timeLag(p, takenAt, nextTimestamps);
        gps.push({
          topic: p.topic,
          partition: p.partition,
          committed: p.committed,
          highWatermark: p.hwm,
          lag: p.lag,
          lagSeconds: seconds,
          lagSecondsSource: source,
          status,
        });
      }
      nextHistory.set(id, hist);
      const knownSeconds = gps.map((p) => p.lagSeconds).filter((s): s is number => s !== null);
      built.push({
        groupId: id,
        coordinator: dr.listed.coordinator,
        state: desc?.state ?? dr.listed.state,
        protocol:
          desc?.protocol ??
          (dr.listed.type === "consumer" ? "consumer" : dr.listed.type === "classic" ? "classic" : "unknown"),
        protocolType: desc?.protocolType ?? dr.listed.protocolType,
        assignor: desc?.assignor ?? "",
        members: desc?.members ?? 0,
        status: groupStatus(statuses, !readable),
        error: dr.error,
        partitions: gps,
        uncommittedPartitions: dr.uncommitted,
        maxLag: gps.reduce((m, p) => Math.max(m, p.lag), 0),
        maxLagSeconds: knownSeconds.length > 0 ? Math.max(...knownSeconds) : null,
        timeToDrainSeconds: gps.length > 0 ? timeToDrainSeconds(hist.values()) : null,
        lagThresholdSeconds: this.thresholds.find((t) => t.match.test(id))?.seconds ?? null,
      });
    }
    this.history = nextHistory;

    const plan = planGranularity(
      built.map((g) => ({
        groupId: g.groupId,
        partitions: g.partitions.length,
        topics: new Set(g.partitions.map((p) => p.topic)).size,
        threshold: g.lagThresholdSeconds !== null,
      })),
      this.opts.cardinality,
    );

    const topicSnapshots: TopicSnapshot[] = topics.map((t) => ({
      topic: t.name,
      partitions: t.partitions.map((p) => {
        const key = partitionKey(t.name, p.partition);
        return {
          partition: p.partition,
          leader: p.leader,
          replicas: p.replicas.length,
          inSyncReplicas: p.isr.length,
          preferredLeader: p.leader >= 0 && p.replicas[0] === p.leader,
          underReplicated: p.isr.length < p.replicas.length,
          highWatermark: offsets.highWatermarks.get(key) ?? null,
          oldestOffset: offsets.oldestOffsets.get(key) ?? null,
        };
      }),
    }));

    const requestsByApi = this.client.takeRequestCounts();
    const requestCounts = Object.values(requestsByApi).reduce((a, b) => a + b, 0);
    const finishedAt = this.now();
    return deepFreeze({
      cluster: this.cluster,
      namespace: this.namespace,
      takenAt,
      startedAt,
      durationMs: finishedAt - startedAt,
      brokers: md.brokers.map((b) => ({ id: b.nodeId, address: `${b.host}:${b.port}` })),
      topics: topicSnapshots,
      groups: built.map((g) => ({ ...g, granularity: plan.granularity.get(g.groupId) ?? "partition" })),
      stats: {
        clamped,
        requests: requestCounts,
        requestsByApi,
        recordFetches,
        coarsenedGroups: plan.coarsened,
        groupSeries: plan.series,
        errors,
      },
    });
  }

  /** Groups to read this poll: listed ones that pass the filters, plus those of brokers that did not answer. */
  private selectGroups(listed: readonly ListedGroup[], unanswered: ReadonlySet<number>): ListedGroup[] {
    const allowed = (id: string) =>
      (!this.opts.groupFilter || wholeMatch(this.opts.groupFilter, id)) &&
      !(this.opts.groupExclude && wholeMatch(this.opts.groupExclude, id));
    const out = listed.filter((g) => LAG_GROUP_TYPES.has(g.type) && allowed(g.groupId));
    if (unanswered.size > 0 && this.latest) {
      // A broker that did not answer ListGroups has not deleted its groups: keep reading
      // them (at their last coordinator), so they show ERR rather than vanish.
      const have = new Set(out.map((g) => g.groupId));
      for (const g of this.latest.groups) {
        if (have.has(g.groupId) || !unanswered.has(g.coordinator)) continue;
        out.push({
          groupId: g.groupId,
          coordinator: g.coordinator,
          protocolType: g.protocolType,
          state: g.state,
          type: g.protocol === "unknown" ? "" : g.protocol,
        });
      }
    }
    return out;
  }

  private timeLag(
    p: { topic: string; partition: number; committed: number; lag: number },
    takenAt: number,
    timestamps: ReadonlyMap<string, number>,
  ): { seconds: number | null; source: LagSource | null } {
    if (p.lag === 0) return { seconds: 0, source: "caught_up" };
    const ts = timestamps.get(timestampKey(p.topic, p.partition, p.committed));
    // A producer clock ahead of ours must not make lag negative.
    if (ts !== undefined) return { seconds: Math.max(0, (takenAt - ts) / 1000), source: "record" };
    const estimate = this.tables.get(partitionKey(p.topic, p.partition))?.lookup(p.committed, takenAt);
    return estimate
      ? { seconds: estimate.seconds, source: estimate.source }
      : { seconds: null, source: null };
  }
}

class StageError extends Error {
  readonly stage: PollStage;
  constructor(stage: PollStage, cause: unknown) {
    super(`${stage}: ${messageOf(cause)}`, { cause });
    this.name = "StageError";
    this.stage = stage;
  }
}

function dedupe<T extends TimestampQuery>(qs: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const q of qs) {
    const key = timestampKey(q.topic, q.partition, q.offset);
    if (!seen.has(key)) seen.set(key, q);
  }
  return [...seen.values()];
}

function movedCoordinator(o: DescribeOutcome | CommittedOutcome | undefined): boolean {
  return o !== undefined && "error" in o && o.code !== undefined && COORDINATOR_MOVED.has(o.code);
}

/** A group that no longer exists: deleted between ListGroups and DescribeGroups. */
function gone(d: DescribeOutcome | undefined, offsets: readonly unknown[] | null): boolean {
  if (!d) return false;
  if ("error" in d) return d.code === ErrorCode.GROUP_ID_NOT_FOUND;
  return d.ok.state === "Dead" && (offsets === null || offsets.length === 0);
}

/** Filters match whole names (as kafka_exporter's do), whatever flags the RegExp has. */
function wholeMatch(re: RegExp, s: string): boolean {
  return new RegExp(`^(?:${re.source})$`, re.flags.replace(/[gy]/g, "")).test(s);
}
