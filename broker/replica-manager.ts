// The partitions this broker hosts and the produce/fetch/list-offsets paths over them.
// Partition roles come from the metadata image: when the image says this broker is a
// replica of a partition, its log is opened (or created); when the topic is deleted,
// its logs go. Record batches stay opaque: produce validates headers and CRCs and
// hands the client's bytes to the log; fetch returns whole batches read from segments.
import type { Logger } from "../lib/logger.ts";
import { RecordBatchError, splitBatches, validateBatch } from "../protocol/records/index.ts";
import type { BrokerConfig } from "./config.ts";
import { KafkaError } from "./errors.ts";
import type { MetadataChange, PartitionState, TopicState } from "./metadata/image.ts";
import { resolveTopicConfig } from "./metadata/topic-config.ts";
import type { Log } from "./log/log.ts";
import { type LogConfig, logConfigFromProperties } from "./log/log-config.ts";
import type { LogManager } from "./log/log-manager.ts";
import type { BrokerMetrics, PartitionStats } from "./metrics.ts";

/** One partition replica on this broker. */
export class Partition {
  readonly topic: string;
  readonly index: number;
  topicId: string;
  readonly log: Log;
  leaderEpoch: number;
  leader: number;
  isr: number[];
  /** The topic's min.insync.replicas, for acks=all. */
  minInsyncReplicas = 1;
  /** Offsets below this are committed (replicated to the ISR) and visible to consumers. */
  highWatermark: number;
  private readonly waiters = new Set<() => void>();

  constructor(topic: string, index: number, topicId: string, log: Log, state: PartitionState) {
    this.topic = topic;
    this.index = index;
    this.topicId = topicId;
    this.log = log;
    this.leaderEpoch = state.leaderEpoch;
    this.leader = state.leader;
    this.isr = state.isr;
    this.highWatermark = log.logEndOffset;
  }

  /** Calls `fn` on the next append (for long-polling fetches); returns the cancel function. */
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

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly nodeId: number;
  private readonly config: BrokerConfig;
  private readonly logs: LogManager;
  private readonly log: Logger;
  private metrics?: BrokerMetrics;
  /** Metadata changes are applied in order, one at a time. */
  private applying: Promise<void> = Promise.resolve();
  private readonly appliedListeners: Array<() => void> = [];

  constructor(opts: { nodeId: number; config: BrokerConfig; logs: LogManager; log: Logger }) {
    this.nodeId = opts.nodeId;
    this.config = opts.config;
    this.logs = opts.logs;
    this.log = opts.log;
  }

  setMetrics(m: BrokerMetrics): void {
    this.metrics = m;
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
    for (const c of changes) {
      try {
        if (c.kind === "partition-changed") await this.applyPartition(c.topic, c.partition);
        else if (c.kind === "topic-deleted") await this.deleteTopic(c.topic);
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
  }

  private async applyPartition(topic: TopicState, state: PartitionState): Promise<void> {
    const key = partitionKey(topic.name, state.partition);
    const existing = this.partitions.get(key);
    if (!state.replicas.includes(this.nodeId)) {
      if (existing) {
        this.partitions.delete(key);
        await this.logs.deleteLog(topic.name, state.partition);
      }
      return;
    }
    if (existing) {
      existing.leader = state.leader;
      existing.leaderEpoch = state.leaderEpoch;
      existing.isr = state.isr;
      return;
    }
    const log = await this.logs.getOrCreateLog(
      topic.name,
      state.partition,
      topic.id,
      this.logConfigFor(topic),
    );
    this.partitions.set(key, new Partition(topic.name, state.partition, topic.id, log, state));
  }

  private async deleteTopic(topic: TopicState): Promise<void> {
    for (const [key, p] of this.partitions) {
      if (p.topic !== topic.name) continue;
      this.partitions.delete(key);
      p.notifyAppend();
      await this.logs.deleteLog(p.topic, p.index);
    }
  }

  /** Checks that this broker leads the partition, with the client's view of the epoch (-1: no check). */
  leaderPartition(topic: string, partition: number, currentLeaderEpoch = -1): Partition {
    const p = this.get(topic, partition);
    if (!p)
      throw new KafkaError("UNKNOWN_TOPIC_OR_PARTITION", "This server does not host this topic-partition.");
    if (p.leader !== this.nodeId)
      throw new KafkaError("NOT_LEADER_OR_FOLLOWER", "This broker is not the leader.");
    if (currentLeaderEpoch >= 0) {
      if (currentLeaderEpoch < p.leaderEpoch) throw new KafkaError("FENCED_LEADER_EPOCH");
      if (currentLeaderEpoch > p.leaderEpoch) throw new KafkaError("UNKNOWN_LEADER_EPOCH");
    }
    return p;
  }

  /**
   * Validates a Produce request's records for one partition and appends them. Each
   * batch's header and CRC are checked; the bytes are stored as the client sent them.
   */
  async appendRecords(
    topic: string,
    partition: number,
    records: Buffer | null,
    acks: number,
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
    if (acks === -1) {
      const minIsr = p.minInsyncReplicas;
      if (p.isr.length < minIsr) {
        throw new KafkaError(
          "NOT_ENOUGH_REPLICAS",
          `The ISR of ${topic}-${partition} has ${p.isr.length} replica(s); min.insync.replicas is ${minIsr}.`,
        );
      }
    }
    const appended = await p.log.append(records, {
      leaderEpoch: p.leaderEpoch,
      timestampType: config["message.timestamp.type"],
      now: Date.now(),
    });
    if (appended.duplicateOf === null) {
      // A single replica is the whole ISR: what is appended is committed.
      if (p.isr.length <= 1) p.highWatermark = p.log.logEndOffset;
      this.metrics?.bytesIn.inc({ topic }, records.length);
      this.metrics?.messagesIn.inc({ topic }, appended.lastOffset - appended.firstOffset + 1);
      p.notifyAppend();
    }
    return {
      baseOffset: appended.firstOffset,
      logAppendTime: appended.logAppendTime,
      logStartOffset: p.log.logStartOffset,
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
