// A follower's replication: one fetcher per leader broker pulls every partition this
// broker follows there with Fetch (ReplicaId = this broker, so the leader counts the
// fetch offset as this replica's log end). Each fetch says where the follower's log
// ends and the epoch of its last batch; a leader that finds the follower's tail was
// never in its own log answers with a diverging epoch, and the follower truncates to
// where the two logs agree before fetching again (KIP-320/KIP-595). Records are
// appended with the leader's offsets and epochs; the follower's high watermark is the
// leader's, capped at its own log end.
import type { Logger } from "../../lib/logger.ts";
import { Fetch } from "../../protocol/generated/apis.ts";
import type { FetchRequest, FetchTopic } from "../../protocol/generated/messages/FetchRequest.ts";
import type { FetchResponse, PartitionData } from "../../protocol/generated/messages/FetchResponse.ts";
import { ZERO_UUID } from "../../protocol/wire/index.ts";
import { ErrorCode } from "../errors.ts";
import type { Log } from "../log/log.ts";
import { type NodeAddress, NodeClient } from "../network/node-client.ts";
import { appendReplicated } from "./follower-append.ts";

/** The Fetch version followers send: the first with LastFetchedEpoch, still with topic names. */
const REPLICA_FETCH_VERSION = 12;

/** A partition this broker follows, as the fetcher sees it. */
export interface FollowerReplica {
  readonly topic: string;
  readonly partition: number;
  /** The leader epoch this broker knows; the leader refuses fetches from an older view. */
  readonly leaderEpoch: number;
  readonly log: Log;
  /** The leader's high watermark, capped at this replica's log end. */
  setHighWatermark(hw: number): void;
}

export interface ReplicaFetcherOptions {
  nodeId: number;
  leaderId: number;
  address: NodeAddress;
  logger: Logger;
  /** replica.fetch.wait.max.ms (500). */
  maxWaitMs: number;
  /** replica.fetch.max.bytes per partition (1 MiB) and replica.fetch.response.max.bytes in all (10 MiB). */
  partitionMaxBytes: number;
  responseMaxBytes: number;
  /** replica.fetch.backoff.ms (1000): pause after an error. */
  backoffMs: number;
}

const key = (topic: string, partition: number) => `${topic}-${partition}`;

export class ReplicaFetcher {
  readonly leaderId: number;
  private readonly opts: ReplicaFetcherOptions;
  private readonly client: NodeClient;
  private readonly replicas = new Map<string, FollowerReplica>();
  /** Partitions paused after an error, until this time (ms). */
  private readonly delayed = new Map<string, number>();
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly loop: Promise<void>;

  constructor(opts: ReplicaFetcherOptions) {
    this.opts = opts;
    this.leaderId = opts.leaderId;
    this.client = new NodeClient(opts.address, { clientId: `replica-fetcher-${opts.nodeId}` });
    this.loop = this.run();
  }

  get size(): number {
    return this.replicas.size;
  }

  get address(): NodeAddress {
    return this.opts.address;
  }

  add(r: FollowerReplica): void {
    this.replicas.set(key(r.topic, r.partition), r);
    this.delayed.delete(key(r.topic, r.partition));
    this.wake?.();
  }

  remove(topic: string, partition: number): void {
    this.replicas.delete(key(topic, partition));
  }

  has(topic: string, partition: number): boolean {
    return this.replicas.has(key(topic, partition));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.close();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const now = Date.now();
      const ready = [...this.replicas.values()].filter(
        (r) => (this.delayed.get(key(r.topic, r.partition)) ?? 0) <= now,
      );
      if (ready.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.replicas.size === 0 ? 1000 : 100);
        });
        this.wake = null;
        continue;
      }
      try {
        const sent = ready.map((r) => ({ r, fetchOffset: r.log.logEndOffset, epoch: r.leaderEpoch }));
        const resp = await this.client.request(
          Fetch,
          REPLICA_FETCH_VERSION,
          this.request(sent),
          this.opts.maxWaitMs + 10_000,
        );
        await this.handle(sent, resp);
      } catch (e) {
        if (this.closed) break;
        this.opts.logger.debug("replica fetch failed", { leader: this.leaderId, error: e });
        await new Promise((r) => setTimeout(r, Math.min(this.opts.backoffMs, 500)));
      }
    }
  }

  private request(sent: Array<{ r: FollowerReplica; fetchOffset: number; epoch: number }>): FetchRequest {
    const topics = new Map<string, FetchTopic>();
    for (const { r, fetchOffset, epoch } of sent) {
      let t = topics.get(r.topic);
      if (!t) topics.set(r.topic, (t = { topic: r.topic, topicId: ZERO_UUID, partitions: [] }));
      t.partitions.push({
        partition: r.partition,
        currentLeaderEpoch: epoch,
        fetchOffset: BigInt(fetchOffset),
        lastFetchedEpoch: r.log.latestEpoch ?? -1,
        logStartOffset: BigInt(r.log.logStartOffset),
        partitionMaxBytes: this.opts.partitionMaxBytes,
        replicaDirectoryId: ZERO_UUID,
      });
    }
    return {
      clusterId: null,
      replicaId: this.opts.nodeId,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs: this.opts.maxWaitMs,
      minBytes: 1,
      maxBytes: this.opts.responseMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics.values()],
      forgottenTopicsData: [],
      rackId: "",
    };
  }

  private async handle(
    sent: Array<{ r: FollowerReplica; fetchOffset: number; epoch: number }>,
    resp: FetchResponse,
  ): Promise<void> {
    if (resp.errorCode !== 0) {
      this.opts.logger.warn("replica fetch refused", { leader: this.leaderId, error: resp.errorCode });
      for (const { r } of sent) this.delay(r);
      return;
    }
    const answers = new Map<string, PartitionData>();
    for (const t of resp.responses)
      for (const p of t.partitions) answers.set(key(t.topic, p.partitionIndex), p);
    for (const { r, fetchOffset, epoch } of sent) {
      const k = key(r.topic, r.partition);
      // The partition moved to another leader, or its epoch changed, while the fetch was out.
      if (this.replicas.get(k) !== r || r.leaderEpoch !== epoch || r.log.logEndOffset !== fetchOffset)
        continue;
      const p = answers.get(k);
      if (!p) continue;
      try {
        await this.handlePartition(r, p);
      } catch (e) {
        this.opts.logger.warn("replicating a partition failed", {
          partition: k,
          leader: this.leaderId,
          error: e,
        });
        this.delay(r);
      }
    }
  }

  private async handlePartition(r: FollowerReplica, p: PartitionData): Promise<void> {
    const log = r.log;
    if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && p.logStartOffset > BigInt(log.logEndOffset)) {
      // Far behind: the leader deleted what we would fetch next. Start over at its log start.
      this.opts.logger.warn("follower is behind the leader's log start; starting over there", {
        partition: key(r.topic, r.partition),
        leaderLogStart: Number(p.logStartOffset),
      });
      await log.truncateFullyAndStartAt(Number(p.logStartOffset));
      return;
    }
    if (p.errorCode !== 0) {
      // Not (or no longer) the leader as far as it knows, or an epoch mismatch: metadata will catch up.
      this.delay(r);
      return;
    }
    if (p.divergingEpoch.epoch >= 0) {
      const theirs = { epoch: p.divergingEpoch.epoch, endOffset: Number(p.divergingEpoch.endOffset) };
      // Where our copy of that epoch (or the last one before it) ends, if earlier, is where we part.
      const ours = log.endOffsetForEpoch(theirs.epoch);
      const to = ours === null ? theirs.endOffset : Math.min(ours.endOffset, theirs.endOffset);
      const target = Math.max(log.logStartOffset, Math.min(to, log.logEndOffset));
      this.opts.logger.info("follower log diverged from the leader's; truncating", {
        partition: key(r.topic, r.partition),
        leader: this.leaderId,
        divergingEpoch: theirs.epoch,
        truncateTo: target,
      });
      await log.truncateTo(target);
      return;
    }
    if (p.records && p.records.length > 0) await appendReplicated(log, p.records);
    const leaderStart = Number(p.logStartOffset);
    if (leaderStart > log.logStartOffset && leaderStart <= log.logEndOffset) {
      // Records the leader deleted (retention, DeleteRecords) go here too.
      await log.deleteRecordsBefore(leaderStart).catch(() => undefined);
    }
    r.setHighWatermark(Math.min(Number(p.highWatermark), log.logEndOffset));
  }

  private delay(r: FollowerReplica): void {
    this.delayed.set(key(r.topic, r.partition), Date.now() + this.opts.backoffMs);
  }
}

/** The fetchers of this broker, one per leader it follows partitions of. */
export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly byPartition = new Map<string, number>();
  private closed = false;
  private readonly base: Omit<ReplicaFetcherOptions, "leaderId" | "address">;

  constructor(base: Omit<ReplicaFetcherOptions, "leaderId" | "address">) {
    this.base = base;
  }

  /** Follows `r` from `leaderId` at `address` (moving it off any other leader's fetcher). */
  follow(r: FollowerReplica, leaderId: number, address: NodeAddress): void {
    // Metadata still arrives while the broker shuts down: no new fetchers then.
    if (this.closed) return;
    this.unfollow(r.topic, r.partition);
    let f = this.fetchers.get(leaderId);
    if (f && (f.address.host !== address.host || f.address.port !== address.port)) {
      void f.close();
      this.fetchers.delete(leaderId);
      f = undefined;
    }
    if (!f) {
      f = new ReplicaFetcher({ ...this.base, leaderId, address });
      this.fetchers.set(leaderId, f);
    }
    f.add(r);
    this.byPartition.set(key(r.topic, r.partition), leaderId);
  }

  unfollow(topic: string, partition: number): void {
    const k = key(topic, partition);
    const leader = this.byPartition.get(k);
    if (leader === undefined) return;
    this.byPartition.delete(k);
    const f = this.fetchers.get(leader);
    f?.remove(topic, partition);
  }

  leaderOf(topic: string, partition: number): number | undefined {
    return this.byPartition.get(key(topic, partition));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.fetchers.values()].map((f) => f.close()));
    this.fetchers.clear();
    this.byPartition.clear();
  }
}
