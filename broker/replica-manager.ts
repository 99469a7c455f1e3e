// The partitions this broker hosts and the produce/fetch/list-offsets paths over them.
// Partition roles come from the metadata image: when the image says this broker is a
// replica of a partition, its log is opened (or created); when the topic is deleted,
// its logs go. The leader of a partition takes produce requests and tracks its
// followers (broker/replication): the high watermark is the smallest log end offset in
// the ISR, consumers read below it, acks=all requests wait for it, and ISR changes go
// to the controller. A follower fetches from the leader (replica fetchers). Record
// batches stay opaque: produce validates headers and CRCs and hands the client's bytes
// to the log; fetch returns whole batches read from segments.
import path from "node:path";
import type { Logger } from "../lib/logger.ts";
import { RecordBatchError, splitBatches, validateBatch } from "../protocol/records/index.ts";
import type { BrokerConfig } from "./config.ts";
import { KafkaError } from "./errors.ts";
import type { MetadataChange, PartitionState, TopicState } from "./metadata/image.ts";
import { resolveTopicConfig } from "./metadata/topic-config.ts";
import type { Log } from "./log/log.ts";
import { type LogConfig, logConfigFromProperties } from "./log/log-config.ts";
import type { LogManager } from "./log/log-manager.ts";
import type { BrokerMetrics, PartitionStats, ReplicationStats } from "./metrics.ts";
import type { NodeAddress } from "./network/node-client.ts";
import { HighWatermarkWaiters } from "./replication/high-watermark-waiters.ts";
import { readHighWatermarks, writeHighWatermarks } from "./replication/high-watermark-checkpoint.ts";
import type { IsrUpdates } from "./replication/isr-updates.ts";
import { LeaderReplicaState } from "./replication/leader-replica-state.ts";
import type { FollowerReplica, ReplicaFetcherManager } from "./replication/replica-fetcher.ts";

/** One partition replica on this broker. */
export class Partition {
  readonly topic: string;
  readonly index: number;
  topicId: string;
  readonly log: Log;
  leaderEpoch: number;
  partitionEpoch: number;
  leader: number;
  replicas: number[];
  isr: number[];
  /** The topic's min.insync.replicas, for acks=all. */
  minInsyncReplicas = 1;
  /** Offsets below this are committed (replicated to the ISR) and visible to consumers. */
  highWatermark: number;
  /** While this broker leads: what it knows of its followers. */
  leaderState: LeaderReplicaState | null = null;
  /** acks=all produce requests waiting for the high watermark. */
  readonly ackWaiters = new HighWatermarkWaiters();
  private readonly waiters = new Set<() => void>();

  constructor(topic: string, index: number, topicId: string, log: Log, state: PartitionState, hw: number) {
    this.topic = topic;
    this.index = index;
    this.topicId = topicId;
    this.log = log;
    this.leaderEpoch = state.leaderEpoch;
    this.partitionEpoch = state.partitionEpoch;
    this.leader = -1;
    this.replicas = state.replicas;
    this.isr = state.isr;
    this.highWatermark = Math.min(hw, log.logEndOffset);
  }

  /** Calls `fn` on the next append or high watermark move (long polls); returns the cancel function. */
  onAppend(fn: () => void): () => void {
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }

  notifyAppend(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** With no transactions yet, the last stable offset is the high watermark. */
  get lastStableOffset(): number {
    return this.highWatermark;
  }
}

export interface AppendResult {
  baseOffset: number;
  logAppendTime: number;
  logStartOffset: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export interface ReplicaManagerOptions {
  nodeId: number;
  config: BrokerConfig;
  logs: LogManager;
  log: Logger;
  fetchers?: ReplicaFetcherManager;
  isrUpdates?: IsrUpdates;
  /** Where broker `id` takes replica fetches (its inter-broker listener), if known. */
  addressOf?: (brokerId: number) => NodeAddress | undefined;
  /** Whether broker `id` may join an ISR now (registered, unfenced, not shutting down). */
  canJoinIsr?: (brokerId: number) => boolean;
}

/** What the leader says to a follower's fetch position. */
export type ReplicaFetchCheck =
  | { kind: "read"; partition: Partition }
  | { kind: "diverging"; partition: Partition; epoch: number; endOffset: number };

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly nodeId: number;
  private readonly config: BrokerConfig;
  private readonly logs: LogManager;
  private readonly log: Logger;
  private readonly opts: ReplicaManagerOptions;
  private metrics?: BrokerMetrics;
  /** Metadata changes are applied in order, one at a time. */
  private applying: Promise<void> = Promise.resolve();
  private readonly appliedListeners: Array<() => void> = [];
  private checkpointed = new Map<string, number>();
  private timers: Array<ReturnType<typeof setInterval>> = [];
  /** ISR shrinks and expands proposed by this broker, for the metrics. */
  isrShrinks = 0;
  isrExpands = 0;

  constructor(opts: ReplicaManagerOptions) {
    this.opts = opts;
    this.nodeId = opts.nodeId;
    this.config = opts.config;
    this.logs = opts.logs;
    this.log = opts.log;
  }

  setMetrics(m: BrokerMetrics): void {
    this.metrics = m;
  }

  /** Reads the high watermark checkpoints and starts the periodic ISR and checkpoint work. */
  async start(): Promise<void> {
    this.checkpointed = await readHighWatermarks(this.config.logDirs());
    const lagMs = this.config.int("replica.lag.time.max.ms");
    this.timers.push(setInterval(() => this.shrinkLaggingIsrs(), Math.max(100, Math.floor(lagMs / 2))));
    this.timers.push(
      setInterval(
        () => void this.checkpointHighWatermarks().catch(() => undefined),
        this.config.int("replica.high.watermark.checkpoint.interval.ms"),
      ),
    );
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const err = new KafkaError("NOT_LEADER_OR_FOLLOWER", "The broker is shutting down.");
    for (const p of this.partitions.values()) p.ackWaiters.failAll(err);
    await this.opts.fetchers?.close();
    await this.checkpointHighWatermarks().catch(() => undefined);
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  all(): Partition[] {
    return [...this.partitions.values()];
  }

  private topicProperties(topic: TopicState): Record<string, string> {
    return topicProperties(this.config, topic);
  }

  logConfigFor(topic: TopicState): LogConfig {
    return logConfigForTopic(this.config, topic);
  }

  /** Queues metadata changes; resolves when they are applied. */
  apply(changes: MetadataChange[]): Promise<void> {
    this.applying = this.applying.then(async () => {
      await this.applyNow(changes);
      this.notifyApplied();
    });
    return this.applying;
  }

  /**
   * Calls `fn` after each set of metadata changes is applied, so components that follow
   * partition leadership (the group coordinator and its __consumer_offsets partitions)
   * can react. Listeners must not block: they run inside the apply queue.
   */
  onApplied(fn: () => void): void {
    this.appliedListeners.push(fn);
  }

  private notifyApplied(): void {
    for (const fn of this.appliedListeners) {
      try {
        fn();
      } catch (err) {
        this.log.error("a metadata listener failed", {
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
    }
  }

  private async applyNow(changes: MetadataChange[]): Promise<void> {
    let brokersChanged = false;
    for (const c of changes) {
      try {
        if (c.kind === "partition-changed") await this.applyPartition(c.topic, c.partition);
        else if (c.kind === "topic-deleted") await this.deleteTopic(c.topic);
        else if (c.kind === "broker-changed") brokersChanged = true;
        else if (c.kind === "topic-config-changed") {
          const config = this.logConfigFor(c.topic);
          const minIsr = Number(this.topicProperties(c.topic)["min.insync.replicas"]);
          for (const p of this.partitions.values()) {
            if (p.topic !== c.topic.name) continue;
            p.log.updateConfig(config);
            p.minInsyncReplicas = minIsr;
          }
        }
      } catch (err) {
        this.log.error("applying a metadata change failed", {
          change: c.kind,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
    }
    // A leader's address may have become known (or changed): followers find it again.
    if (brokersChanged)
      for (const p of this.partitions.values()) if (p.leader !== this.nodeId) this.follow(p);
  }

  private async applyPartition(topic: TopicState, state: PartitionState): Promise<void> {
    const key = partitionKey(topic.name, state.partition);
    let p = this.partitions.get(key);
    if (!state.replicas.includes(this.nodeId)) {
      if (p) {
        this.partitions.delete(key);
        this.opts.fetchers?.unfollow(topic.name, state.partition);
        p.ackWaiters.failAll(
          new KafkaError("NOT_LEADER_OR_FOLLOWER", "The replica was moved off this broker."),
        );
        p.notifyAppend();
        await this.logs.deleteLog(topic.name, state.partition);
      }
      return;
    }
    if (!p) {
      const log = await this.logs.getOrCreateLog(
        topic.name,
        state.partition,
        topic.id,
        this.logConfigFor(topic),
      );
      p = new Partition(topic.name, state.partition, topic.id, log, state, this.checkpointed.get(key) ?? 0);
      p.minInsyncReplicas = Number(this.topicProperties(topic)["min.insync.replicas"]);
      this.partitions.set(key, p);
    }
    const wasLeader = p.leaderState !== null;
    const newEpoch = state.leaderEpoch !== p.leaderEpoch || p.leader !== state.leader;
    p.replicas = state.replicas;
    p.isr = state.isr;
    p.partitionEpoch = state.partitionEpoch;
    p.leaderEpoch = state.leaderEpoch;
    p.leader = state.leader;
    if (state.leader === this.nodeId) {
      this.opts.fetchers?.unfollow(p.topic, p.index);
      if (!wasLeader || newEpoch) {
        p.leaderState = new LeaderReplicaState(
          this.nodeId,
          state.replicas,
          state.isr,
          p.log.logEndOffset,
          Date.now(),
        );
        if (wasLeader || state.replicas.length > 1) {
          this.log.info("leading partition", {
            partition: key,
            leaderEpoch: state.leaderEpoch,
            isr: state.isr.join(","),
            logEnd: p.log.logEndOffset,
            highWatermark: p.highWatermark,
          });
        }
      } else {
        p.leaderState!.updateFromMetadata(state.replicas, state.isr, Date.now());
      }
      this.maybeAdvanceHighWatermark(p);
    } else {
      if (wasLeader) {
        p.leaderState = null;
        p.ackWaiters.failAll(new KafkaError("NOT_LEADER_OR_FOLLOWER", "Leadership moved to another broker."));
      }
      if (newEpoch || !this.opts.fetchers?.leaderOf(p.topic, p.index)) this.follow(p);
    }
    p.notifyAppend();
  }

  /** Starts (or restarts) fetching `p` from its leader. */
  private follow(p: Partition): void {
    const fetchers = this.opts.fetchers;
    if (!fetchers) return;
    const address = p.leader >= 0 ? this.opts.addressOf?.(p.leader) : undefined;
    if (!address) {
      fetchers.unfollow(p.topic, p.index);
      return;
    }
    if (fetchers.leaderOf(p.topic, p.index) === p.leader) return;
    const replica: FollowerReplica = {
      topic: p.topic,
      partition: p.index,
      get leaderEpoch() {
        return p.leaderEpoch;
      },
      log: p.log,
      setHighWatermark: (hw) => {
        if (hw > p.highWatermark) {
          p.highWatermark = hw;
          p.notifyAppend();
        }
      },
    };
    fetchers.follow(replica, p.leader, address);
  }

  private async deleteTopic(topic: TopicState): Promise<void> {
    for (const [key, p] of this.partitions) {
      if (p.topic !== topic.name) continue;
      this.partitions.delete(key);
      this.opts.fetchers?.unfollow(p.topic, p.index);
      p.ackWaiters.failAll(new KafkaError("UNKNOWN_TOPIC_OR_PARTITION", "The topic was deleted."));
      p.notifyAppend();
      await this.logs.deleteLog(p.topic, p.index);
    }
  }

  /** Checks that this broker leads the partition, with the client's view of the epoch (-1: no check). */
  leaderPartition(topic: string, partition: number, currentLeaderEpoch = -1): Partition {
    const p = this.get(topic, partition);
    if (!p)
      throw new KafkaError("UNKNOWN_TOPIC_OR_PARTITION", "This server does not host this topic-partition.");
    if (p.leader !== this.nodeId || !p.leaderState)
      throw new KafkaError("NOT_LEADER_OR_FOLLOWER", "This broker is not the leader.");
    if (currentLeaderEpoch >= 0) {
      if (currentLeaderEpoch < p.leaderEpoch) throw new KafkaError("FENCED_LEADER_EPOCH");
      if (currentLeaderEpoch > p.leaderEpoch) throw new KafkaError("UNKNOWN_LEADER_EPOCH");
    }
    return p;
  }

  // ---- the leader's side of replication ----

  /**
   * A follower's fetch (ReplicaId >= 0): checks its position against this leader's log
   * (a tail from an epoch this log does not have diverges), then records how far it is.
   */
  checkReplicaFetch(
    topic: string,
    partition: number,
    replicaId: number,
    currentLeaderEpoch: number,
    fetchOffset: number,
    lastFetchedEpoch: number,
  ): ReplicaFetchCheck {
    const p = this.leaderPartition(topic, partition, currentLeaderEpoch);
    const log = p.log;
    if (lastFetchedEpoch >= 0) {
      const end = log.endOffsetForEpoch(lastFetchedEpoch);
      if (end === null || end.epoch !== lastFetchedEpoch || end.endOffset < fetchOffset) {
        return {
          kind: "diverging",
          partition: p,
          epoch: end?.epoch ?? lastFetchedEpoch,
          endOffset: end ? Math.min(end.endOffset, fetchOffset) : log.logStartOffset,
        };
      }
    }
    if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) {
      throw new KafkaError(
        "OFFSET_OUT_OF_RANGE",
        `Offset ${fetchOffset} is outside ${log.logStartOffset}-${log.logEndOffset}.`,
      );
    }
    if (p.leaderState!.onFollowerFetch(replicaId, fetchOffset, log.logEndOffset, Date.now())) {
      this.maybeExpandIsr(p);
      this.maybeAdvanceHighWatermark(p);
    }
    return { kind: "read", partition: p };
  }

  private maybeAdvanceHighWatermark(p: Partition): void {
    if (!p.leaderState) return;
    const hw = p.leaderState.highWatermark(p.log.logEndOffset);
    if (hw > p.highWatermark) {
      p.highWatermark = hw;
      p.ackWaiters.advance(hw);
      p.notifyAppend();
    }
  }

  private maybeExpandIsr(p: Partition): void {
    const state = p.leaderState;
    if (!state || state.pendingIsr || this.opts.isrUpdates?.isInFlight(p.topic, p.index)) return;
    const joining = state.readyToJoin(p.highWatermark).filter((id) => this.opts.canJoinIsr?.(id) ?? true);
    if (joining.length === 0) return;
    this.isrExpands++;
    this.proposeIsr(p, [...state.isr, ...joining]);
  }

  private shrinkLaggingIsrs(): void {
    const lagMs = this.config.int("replica.lag.time.max.ms");
    const now = Date.now();
    for (const p of this.partitions.values()) {
      const state = p.leaderState;
      if (!state || state.pendingIsr || this.opts.isrUpdates?.isInFlight(p.topic, p.index)) continue;
      const lagging = state.laggingInSync(now, lagMs);
      if (lagging.length === 0) continue;
      this.log.warn("followers fell behind; shrinking the ISR", {
        partition: partitionKey(p.topic, p.index),
        lagging: lagging.join(","),
        lagMs,
      });
      this.isrShrinks++;
      this.proposeIsr(
        p,
        state.isr.filter((id) => !lagging.includes(id)),
      );
    }
  }

  private proposeIsr(p: Partition, isr: number[]): void {
    const updates = this.opts.isrUpdates;
    const state = p.leaderState;
    if (!updates || !state) return;
    state.propose(isr);
    const epoch = p.leaderEpoch;
    void updates
      .propose({
        topicId: p.topicId,
        topic: p.topic,
        partition: p.index,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
        isr,
      })
      .then((outcome) => {
        if (p.leaderState !== state || p.leaderEpoch !== epoch) return;
        if (outcome?.ok) {
          if (outcome.partitionEpoch >= p.partitionEpoch) {
            p.isr = outcome.isr;
            p.partitionEpoch = outcome.partitionEpoch;
            state.updateFromMetadata(p.replicas, outcome.isr, Date.now());
          }
        } else {
          state.abandonProposal();
        }
        this.maybeAdvanceHighWatermark(p);
      });
  }

  /**
   * Validates a Produce request's records for one partition and appends them. Each
   * batch's header and CRC are checked; the bytes are stored as the client sent them.
   * With acks=all the answer waits until every in-sync replica has the records.
   */
  async appendRecords(
    topic: string,
    partition: number,
    records: Buffer | null,
    acks: number,
    timeoutMs = 30_000,
  ): Promise<AppendResult> {
    const p = this.leaderPartition(topic, partition);
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      throw new KafkaError("INVALID_REQUIRED_ACKS", `acks must be 0, 1 or -1 (all), not ${acks}`);
    }
    if (records === null || records.length === 0)
      throw new KafkaError("INVALID_RECORD", "The request carries no record batch.");
    const config = p.log.config;
    try {
      const split = splitBatches(records, { maxBatchSize: Number.MAX_SAFE_INTEGER });
      if (split.truncated) throw new KafkaError("CORRUPT_MESSAGE", "The last record batch is truncated.");
      for (const b of split.batches) {
        if (b.size > config["max.message.bytes"]) {
          throw new KafkaError(
            "MESSAGE_TOO_LARGE",
            `The record batch of ${b.size} bytes is larger than max.message.bytes (${config["max.message.bytes"]}).`,
          );
        }
        validateBatch(records, b.pos, { produce: true });
      }
    } catch (err) {
      if (err instanceof RecordBatchError) throw new KafkaError(err.code, err.message);
      throw err;
    }
    const minIsr = p.minInsyncReplicas;
    if (acks === -1 && p.isr.length < minIsr) {
      throw new KafkaError(
        "NOT_ENOUGH_REPLICAS",
        `The ISR of ${topic}-${partition} has ${p.isr.length} replica(s); min.insync.replicas is ${minIsr}.`,
      );
    }
    const appended = await p.log.append(records, {
      leaderEpoch: p.leaderEpoch,
      timestampType: config["message.timestamp.type"],
      now: Date.now(),
    });
    if (appended.duplicateOf === null) {
      this.metrics?.bytesIn.inc({ topic }, records.length);
      this.metrics?.messagesIn.inc({ topic }, appended.lastOffset - appended.firstOffset + 1);
      this.maybeAdvanceHighWatermark(p);
      p.notifyAppend();
    }
    if (acks === -1 && p.highWatermark <= appended.lastOffset) {
      await p.ackWaiters.wait(appended.lastOffset + 1, timeoutMs, () => {
        if (p.isr.length < minIsr) {
          throw new KafkaError(
            "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            `The records were written, but the ISR of ${topic}-${partition} shrank to ${p.isr.length} (min.insync.replicas ${minIsr}).`,
          );
        }
      });
    }
    return {
      baseOffset: appended.firstOffset,
      logAppendTime: appended.logAppendTime,
      logStartOffset: p.log.logStartOffset,
    };
  }

  private async checkpointHighWatermarks(): Promise<void> {
    const entries = this.all().map((p) => ({
      logDir: path.dirname(p.log.dir),
      topic: p.topic,
      partition: p.index,
      offset: p.highWatermark,
    }));
    await writeHighWatermarks(this.config.logDirs(), entries);
  }

  /** This broker's side of the replication gauges. */
  replicationStats(): Omit<ReplicationStats, "activeController" | "offlinePartitions"> {
    let leaderCount = 0;
    let underReplicated = 0;
    let underMinIsr = 0;
    for (const p of this.partitions.values()) {
      if (!p.leaderState) continue;
      leaderCount++;
      if (p.isr.length < p.replicas.length) underReplicated++;
      if (p.isr.length < p.minInsyncReplicas) underMinIsr++;
    }
    return {
      partitionCount: this.partitions.size,
      leaderCount,
      underReplicated,
      underMinIsr,
      isrShrinks: this.isrShrinks,
      isrExpands: this.isrExpands,
    };
  }

  stats(): PartitionStats[] {
    return this.all().map((p) => ({
      topic: p.topic,
      partition: p.index,
      logStartOffset: p.log.logStartOffset,
      logEndOffset: p.log.logEndOffset,
      highWatermark: p.highWatermark,
      sizeBytes: p.log.size,
      segments: p.log.numberOfSegments,
    }));
  }
}

/** A topic's effective properties (its overrides over the broker's settings), by Kafka name. */
export function topicProperties(config: BrokerConfig, topic: TopicState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of resolveTopicConfig(config, topic.configs)) out[c.name] = c.value;
  return out;
}

export function logConfigForTopic(config: BrokerConfig, topic: TopicState): LogConfig {
  return logConfigFromProperties(topicProperties(config, topic));
}
