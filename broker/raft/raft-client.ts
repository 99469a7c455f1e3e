// The metadata quorum's Raft replica (KRaft's KafkaRaftClient, in small): elections
// among the voters of controller.quorum.voters with Vote, the winner's epoch announced
// with BeginQuorumEpoch and a LeaderChangeMessage in the log, pull replication (each
// follower and observer sends Fetch to the leader, which answers with records, a
// diverging epoch to truncate to, or a snapshot to load), the high watermark moved by
// the voters' fetch offsets, graceful resignation with EndQuorumEpoch.
//
// Every state change runs on one serial queue, like Kafka's single raft thread, so
// the persisted election state, the role and the log never disagree. Committed
// entries reach the state machine (the listener) from a separate loop, in log order,
// so a slow state machine never delays heartbeats or elections.
import type { Logger } from "../../lib/logger.ts";
import {
  Fetch,
  FetchSnapshot,
  Vote,
  BeginQuorumEpoch,
  EndQuorumEpoch,
} from "../../protocol/generated/apis.ts";
import type { ApiDefinition } from "../../protocol/generated/apis.ts";
import type { VoteRequest } from "../../protocol/generated/messages/VoteRequest.ts";
import type { VoteResponse } from "../../protocol/generated/messages/VoteResponse.ts";
import type { FetchRequest } from "../../protocol/generated/messages/FetchRequest.ts";
import { defaultFetchRequest } from "../../protocol/generated/messages/FetchRequest.ts";
import type {
  FetchResponse,
  PartitionData as FetchPartitionData,
} from "../../protocol/generated/messages/FetchResponse.ts";
import { defaultPartitionData as defaultFetchPartitionData } from "../../protocol/generated/messages/FetchResponse.ts";
import type { BeginQuorumEpochRequest } from "../../protocol/generated/messages/BeginQuorumEpochRequest.ts";
import type { BeginQuorumEpochResponse } from "../../protocol/generated/messages/BeginQuorumEpochResponse.ts";
import type { EndQuorumEpochRequest } from "../../protocol/generated/messages/EndQuorumEpochRequest.ts";
import type { EndQuorumEpochResponse } from "../../protocol/generated/messages/EndQuorumEpochResponse.ts";
import type { FetchSnapshotRequest } from "../../protocol/generated/messages/FetchSnapshotRequest.ts";
import type { FetchSnapshotResponse } from "../../protocol/generated/messages/FetchSnapshotResponse.ts";
import type { DescribeQuorumResponse } from "../../protocol/generated/messages/DescribeQuorumResponse.ts";
import { buildRecordBatch, splitBatches } from "../../protocol/records/index.ts";
import { ZERO_UUID } from "../../protocol/wire/index.ts";
import { ErrorCode } from "../errors.ts";
import { SerialQueue } from "../log/serial-queue.ts";
import { NodeClient } from "../network/node-client.ts";
import { leaderChangeBatch, noOpRecordValue } from "./control-records.ts";
import { committedBatch } from "./replay.ts";
import { LeaderProgress } from "./leader-progress.ts";
import { type ElectionState, QuorumStateStore } from "./quorum-state-store.ts";
import { METADATA_TOPIC, METADATA_TOPIC_ID, type RaftLog } from "./raft-log.ts";
import { type SnapshotId, SnapshotReceiver, readSnapshotChunk } from "./snapshot-files.ts";
import { type VoterSet, majority } from "./voters.ts";

/** The API versions this replica sends. */
const VOTE_VERSION = 0;
const BEGIN_QUORUM_VERSION = 0;
const END_QUORUM_VERSION = 0;
const FETCH_VERSION = 16;
const FETCH_SNAPSHOT_VERSION = 0;

/** What the replicated log feeds: the state machine (the controller and every broker's metadata image). */
export interface RaftListener {
  /** A committed batch of data records, in log order (control records are left out). */
  handleCommit(batch: CommittedBatch): Promise<void> | void;
  /** Replace all state with this snapshot's; commits continue from its end offset. */
  handleLoadSnapshot(snapshot: { id: SnapshotId; values: Buffer[] }): Promise<void> | void;
  /** The leader (or its absence, -1) for an epoch. */
  handleLeaderChange?(leader: LeaderAndEpoch): void;
}

export interface CommittedBatch {
  baseOffset: number;
  lastOffset: number;
  epoch: number;
  appendTimestamp: number;
  values: Buffer[];
}

export interface LeaderAndEpoch {
  leaderId: number;
  epoch: number;
}

export interface RaftOptions {
  nodeId: number;
  /** The voters; a node not among them replicates as an observer and never votes. */
  voters: VoterSet;
  log: RaftLog;
  logger: Logger;
  listener: RaftListener;
  clusterId?: string | null;
  /** controller.quorum.election.timeout.ms (1000): randomized between it and twice it. */
  electionTimeoutMs?: number;
  /** controller.quorum.election.backoff.max.ms (1000): wait before retrying a lost election. */
  electionBackoffMaxMs?: number;
  /** controller.quorum.fetch.timeout.ms (2000): a follower silent leader is presumed gone after it. */
  fetchTimeoutMs?: number;
  /** How long the leader holds a Fetch with nothing to return (500). */
  fetchMaxWaitMs?: number;
  /** controller.quorum.request.timeout.ms (2000). */
  requestTimeoutMs?: number;
  /** metadata.max.idle.interval.ms (500): the leader writes a NoOpRecord when idle this long; 0: never. */
  idleIntervalMs?: number;
  /** Timer resolution (ms). */
  tickMs?: number;
  /**
   * Entries below this offset were already given to the state machine before the
   * replica started (the broker replays what it knows is committed at start-up).
   */
  appliedOffset?: number;
  /** Tests cut the network with this: requests to an unreachable node fail at once. */
  isReachable?: (nodeId: number) => boolean;
}

/** Thrown for writes to a replica that is not (or is no longer) the leader. */
export class NotLeaderError extends Error {
  override name = "NotLeaderError";
  readonly leader: LeaderAndEpoch;
  constructor(message: string, leader: LeaderAndEpoch) {
    super(message);
    this.leader = leader;
  }
}

type Role =
  | { kind: "unattached"; electionDeadline: number | null }
  | { kind: "candidate"; granted: Set<number>; rejected: Set<number>; electionDeadline: number }
  | { kind: "leader"; progress: LeaderProgress; beginQuorumSentMs: number }
  | { kind: "follower"; leaderId: number; fetchDeadline: number }
  | { kind: "resigned"; electionDeadline: number };

interface CommitWaiter {
  offset: number;
  epoch: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RaftClient {
  readonly nodeId: number;
  readonly voters: VoterSet;
  readonly log: RaftLog;
  private readonly logger: Logger;
  private readonly listener: RaftListener;
  private readonly store: QuorumStateStore;
  private readonly clusterId: string | null;
  private readonly electionTimeoutMs: number;
  private readonly electionBackoffMaxMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly fetchMaxWaitMs: number;
  private readonly requestTimeoutMs: number;
  private readonly idleIntervalMs: number;
  private readonly tickMs: number;
  private readonly isReachable: (id: number) => boolean;
  private readonly initialApplied: number | undefined;

  private readonly events = new SerialQueue();
  private election: ElectionState = { epoch: 0, votedId: -1, leaderId: -1 };
  private role: Role = { kind: "unattached", electionDeadline: null };
  private hw = 0;
  private hwWritten = 0;
  private hwWrittenMs = 0;
  private lastAppendMs = 0;
  private closed = false;
  private ticking = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly clients = new Map<string, NodeClient>();
  /** Parked leader-side fetches and idle loops, woken when the log or HW moves. */
  private logWaiters = new Set<() => void>();
  private fetchWake: (() => void) | null = null;
  private applyWake: (() => void) | null = null;
  /** The next offset the listener has not seen. */
  private nextApply = 0;
  private pendingSnapshotLoad: SnapshotId | null = null;
  private commitWaiters: CommitWaiter[] = [];
  private snapshotFetch: { receiver: SnapshotReceiver } | null = null;
  private observerCursor = 0;
  /** The leader's high watermark from the first answer to this replica's fetches. */
  private firstLeaderHw: number | null = null;
  private loops: Promise<void>[] = [];

  private constructor(opts: RaftOptions) {
    this.nodeId = opts.nodeId;
    this.voters = opts.voters;
    this.log = opts.log;
    this.logger = opts.logger;
    this.listener = opts.listener;
    this.store = new QuorumStateStore(opts.log.dir, [...opts.voters.keys()]);
    this.clusterId = opts.clusterId ?? null;
    this.electionTimeoutMs = opts.electionTimeoutMs ?? 1000;
    this.electionBackoffMaxMs = opts.electionBackoffMaxMs ?? 1000;
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? 2000;
    this.fetchMaxWaitMs = opts.fetchMaxWaitMs ?? 500;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 2000;
    this.idleIntervalMs = opts.idleIntervalMs ?? 500;
    this.tickMs = opts.tickMs ?? 20;
    this.isReachable = opts.isReachable ?? (() => true);
    this.initialApplied = opts.appliedOffset;
  }

  /** Restores the persisted state and starts taking part in the quorum. */
  static async start(opts: RaftOptions): Promise<RaftClient> {
    const raft = new RaftClient(opts);
    await raft.init();
    return raft;
  }

  get isVoter(): boolean {
    return this.voters.has(this.nodeId);
  }

  get epoch(): number {
    return this.election.epoch;
  }

  get leaderAndEpoch(): LeaderAndEpoch {
    return { leaderId: this.currentLeaderId(), epoch: this.election.epoch };
  }

  get isLeader(): boolean {
    return this.role.kind === "leader";
  }

  get roleName(): Role["kind"] {
    return this.role.kind;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** The offset after the last entry the listener has been given. */
  get appliedOffset(): number {
    return this.nextApply;
  }

  private currentLeaderId(): number {
    if (this.role.kind === "leader") return this.nodeId;
    if (this.role.kind === "follower") return this.role.leaderId;
    return -1;
  }

  private async init(): Promise<void> {
    const stored = await this.store.read();
    const snap = this.log.latestSnapshot;
    const committedOnDisk = await this.log.readHighWatermark();
    this.hw = Math.max(committedOnDisk, snap?.endOffset ?? 0, 0);
    this.hwWritten = this.hw;
    this.nextApply = this.log.startOffset;
    if (this.initialApplied !== undefined) {
      this.nextApply = this.initialApplied;
      this.hw = Math.max(this.hw, this.initialApplied);
    } else if (snap && snap.endOffset > 0) {
      this.pendingSnapshotLoad = snap;
      this.nextApply = snap.endOffset;
    }
    // The epoch can never be below one seen in the log.
    this.election = { ...stored, epoch: Math.max(stored.epoch, this.log.lastEpoch(), 0) };
    if (this.election.epoch !== stored.epoch)
      this.election = { epoch: this.election.epoch, votedId: -1, leaderId: -1 };
    const now = Date.now();
    if (this.isVoter && this.voters.size === 1) {
      this.role = { kind: "unattached", electionDeadline: now };
    } else if (this.election.leaderId === this.nodeId) {
      // A leader that restarted cannot know what it had committed: it stands down and an election follows.
      this.role = { kind: "resigned", electionDeadline: now + this.randomElectionTimeout() };
    } else if (this.election.leaderId >= 0) {
      this.role = {
        kind: "follower",
        leaderId: this.election.leaderId,
        fetchDeadline: now + this.fetchTimeoutMs,
      };
    } else {
      this.role = {
        kind: "unattached",
        electionDeadline: this.isVoter ? now + this.randomElectionTimeout() : null,
      };
    }
    this.logger.info("metadata quorum replica started", {
      nodeId: this.nodeId,
      voters: [...this.voters.keys()].join(","),
      role: this.role.kind,
      epoch: this.election.epoch,
      leaderId: this.currentLeaderId(),
      logEnd: this.log.endOffset,
      highWatermark: this.hw,
    });
    this.timer = setInterval(() => this.scheduleTick(), this.tickMs);
    this.loops.push(this.fetchLoop(), this.applyLoop());
  }

  // ---------------------------------------------------------------------------------------------
  // Transitions (always on the event queue)

  private async persist(next: ElectionState): Promise<void> {
    await this.store.write(next);
    this.election = next;
  }

  private randomElectionTimeout(): number {
    return this.electionTimeoutMs + Math.floor(Math.random() * this.electionTimeoutMs);
  }

  private leaveRole(): void {
    if (this.role.kind === "leader") {
      const err = new NotLeaderError("leadership lost before the write was committed", this.leaderAndEpoch);
      for (const w of this.commitWaiters) w.reject(err);
      this.commitWaiters = [];
    }
    this.snapshotFetch = null;
    this.wakeLogWaiters();
    this.fetchWake?.();
  }

  private announce(): void {
    this.listener.handleLeaderChange?.(this.leaderAndEpoch);
  }

  private async becomeUnattached(epoch: number, electionDelayMs?: number): Promise<void> {
    const votedId = epoch === this.election.epoch ? this.election.votedId : -1;
    this.leaveRole();
    await this.persist({ epoch, votedId, leaderId: -1 });
    const deadline = this.isVoter ? Date.now() + (electionDelayMs ?? this.randomElectionTimeout()) : null;
    this.role = { kind: "unattached", electionDeadline: deadline };
    this.logger.info("metadata quorum: no leader known", { epoch });
    this.announce();
  }

  private async becomeFollower(epoch: number, leaderId: number): Promise<void> {
    const votedId = epoch === this.election.epoch ? this.election.votedId : -1;
    this.leaveRole();
    await this.persist({ epoch, votedId, leaderId });
    this.role = { kind: "follower", leaderId, fetchDeadline: Date.now() + this.fetchTimeoutMs };
    this.logger.info("metadata quorum: following", { epoch, leaderId, voter: this.isVoter });
    this.announce();
  }

  private async becomeCandidate(): Promise<void> {
    const epoch = this.election.epoch + 1;
    this.leaveRole();
    await this.persist({ epoch, votedId: this.nodeId, leaderId: -1 });
    this.role = {
      kind: "candidate",
      granted: new Set([this.nodeId]),
      rejected: new Set(),
      electionDeadline: Date.now() + this.randomElectionTimeout(),
    };
    this.logger.info("metadata quorum: standing for election", { epoch });
    this.announce();
    if (this.role.granted.size >= majority(this.voters.size)) {
      await this.becomeLeader();
      return;
    }
    const lastEpoch = this.log.lastEpoch();
    const endOffset = this.log.endOffset;
    for (const id of this.voters.keys()) {
      if (id === this.nodeId) continue;
      const req: VoteRequest = {
        clusterId: this.clusterId,
        voterId: id,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: 0,
                candidateEpoch: epoch,
                candidateId: this.nodeId,
                candidateDirectoryId: ZERO_UUID,
                voterDirectoryId: ZERO_UUID,
                lastOffsetEpoch: Math.max(lastEpoch, 0),
                lastOffset: BigInt(endOffset),
              },
            ],
          },
        ],
      };
      this.send(id, "control", Vote, VOTE_VERSION, req)
        .then((resp) => this.events.run(() => this.onVoteResponse(id, epoch, resp)))
        .catch((e: unknown) => this.logger.debug("vote request failed", { to: id, error: e }));
    }
  }

  private async becomeLeader(): Promise<void> {
    if (this.role.kind !== "candidate") return;
    const granted = [...this.role.granted].sort((a, b) => a - b);
    const epoch = this.election.epoch;
    this.leaveRole();
    await this.persist({ epoch, votedId: this.nodeId, leaderId: this.nodeId });
    const progress = new LeaderProgress(
      this.nodeId,
      this.voters.keys(),
      this.log.endOffset,
      this.hw,
      Date.now(),
    );
    this.role = { kind: "leader", progress, beginQuorumSentMs: 0 };
    this.logger.info("metadata quorum: elected leader", {
      epoch,
      votes: granted.join(","),
      logEnd: this.log.endOffset,
    });
    await this.appendLocked(leaderChangeBatch(this.nodeId, epoch, [...this.voters.keys()].sort(), granted));
    this.sendBeginQuorumEpoch();
    this.announce();
  }

  private becomeResigned(graceful: boolean): void {
    this.leaveRole();
    this.role = { kind: "resigned", electionDeadline: Date.now() + this.randomElectionTimeout() };
    if (graceful) this.logger.info("metadata quorum: leader resigned", { epoch: this.election.epoch });
    else this.logger.warn("metadata quorum: leader resigned", { epoch: this.election.epoch });
    this.announce();
  }

  /** A message carried a newer epoch: adopt it. Returns whether the state changed. */
  private async observeEpoch(epoch: number, leaderId: number): Promise<boolean> {
    if (epoch > this.election.epoch) {
      if (leaderId >= 0 && leaderId !== this.nodeId) await this.becomeFollower(epoch, leaderId);
      else await this.becomeUnattached(epoch);
      return true;
    }
    if (
      epoch === this.election.epoch &&
      leaderId >= 0 &&
      leaderId !== this.nodeId &&
      (this.role.kind === "unattached" || this.role.kind === "candidate")
    ) {
      await this.becomeFollower(epoch, leaderId);
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  private scheduleTick(): void {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    void this.events
      .run(() => this.tick())
      .catch((e: unknown) => this.logger.error("metadata quorum tick failed", { error: e }))
      .finally(() => {
        this.ticking = false;
      });
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    const role = this.role;
    switch (role.kind) {
      case "unattached":
        if (role.electionDeadline !== null && now >= role.electionDeadline) await this.becomeCandidate();
        break;
      case "candidate":
      case "resigned":
        if (now >= role.electionDeadline) await this.becomeCandidate();
        break;
      case "follower":
        if (now >= role.fetchDeadline) {
          this.logger.warn("metadata quorum: no word from the leader", {
            leaderId: role.leaderId,
            epoch: this.election.epoch,
            timeoutMs: this.fetchTimeoutMs,
          });
          if (this.isVoter) await this.becomeCandidate();
          else await this.becomeUnattached(this.election.epoch);
        }
        break;
      case "leader": {
        if (!role.progress.hasQuorumContact(now, Math.floor(this.fetchTimeoutMs * 1.5))) {
          this.logger.warn("metadata quorum: a majority of voters stopped fetching; stepping down", {
            epoch: this.election.epoch,
          });
          this.becomeResigned(false);
          break;
        }
        if (now - role.beginQuorumSentMs >= this.fetchMaxWaitMs) this.sendBeginQuorumEpoch();
        if (this.idleIntervalMs > 0 && now - this.lastAppendMs >= this.idleIntervalMs) {
          await this.appendLocked(this.dataBatch([noOpRecordValue()]));
        }
        break;
      }
    }
    if (this.hw > this.hwWritten && now - this.hwWrittenMs >= 1000) await this.checkpointHighWatermark();
  }

  private async checkpointHighWatermark(): Promise<void> {
    const hw = Math.min(this.hw, this.nextApply);
    if (hw <= this.hwWritten) return;
    await this.log.writeHighWatermark(hw);
    this.hwWritten = hw;
    this.hwWrittenMs = Date.now();
  }

  // ---------------------------------------------------------------------------------------------
  // Outbound

  private client(id: number, purpose: "control" | "fetch"): NodeClient {
    const key = `${purpose}-${id}`;
    let c = this.clients.get(key);
    if (!c) {
      const addr = this.voters.get(id);
      if (!addr) throw new Error(`node ${id} is not a voter`);
      c = new NodeClient(addr, { clientId: `raft-${this.nodeId}` });
      this.clients.set(key, c);
    }
    return c;
  }

  private async send<Req, Res>(
    id: number,
    purpose: "control" | "fetch",
    api: ApiDefinition<Req, Res>,
    version: number,
    body: Req,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<Res> {
    if (!this.isReachable(id)) throw new Error(`node ${id} is unreachable`);
    return this.client(id, purpose).request(api, version, body, timeoutMs);
  }

  private sendBeginQuorumEpoch(): void {
    if (this.role.kind !== "leader") return;
    const role = this.role;
    role.beginQuorumSentMs = Date.now();
    const epoch = this.election.epoch;
    for (const id of this.voters.keys()) {
      if (id === this.nodeId || role.progress.hasFetched(id)) continue;
      const req: BeginQuorumEpochRequest = {
        clusterId: this.clusterId,
        voterId: id,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              { partitionIndex: 0, voterDirectoryId: ZERO_UUID, leaderId: this.nodeId, leaderEpoch: epoch },
            ],
          },
        ],
        leaderEndpoints: [],
      };
      this.send(id, "control", BeginQuorumEpoch, BEGIN_QUORUM_VERSION, req)
        .then((resp) => {
          const p = resp.topics[0]?.partitions[0];
          if (p && p.leaderEpoch > epoch)
            return this.events.run(() => this.observeEpoch(p.leaderEpoch, p.leaderId));
        })
        .catch((e: unknown) => this.logger.debug("BeginQuorumEpoch failed", { to: id, error: e }));
    }
  }

  private async onVoteResponse(from: number, epoch: number, resp: VoteResponse): Promise<void> {
    const p = resp.topics[0]?.partitions[0];
    if (resp.errorCode !== 0 || !p) {
      this.logger.warn("vote refused with an error", { from, error: resp.errorCode || p?.errorCode });
      return;
    }
    if (await this.observeEpoch(p.leaderEpoch, p.leaderId)) return;
    if (this.role.kind !== "candidate" || this.election.epoch !== epoch) return;
    if (p.errorCode === 0 && p.voteGranted) {
      this.role.granted.add(from);
      if (this.role.granted.size >= majority(this.voters.size)) await this.becomeLeader();
    } else {
      this.role.rejected.add(from);
      if (this.role.rejected.size >= majority(this.voters.size)) {
        // Lost: wait a random backoff before standing again, so two candidates do not keep colliding.
        this.role.electionDeadline = Date.now() + Math.floor(Math.random() * this.electionBackoffMaxMs);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Leader writes

  private dataBatch(values: readonly Buffer[]): Buffer {
    return buildRecordBatch({ records: values.map((value) => ({ key: null, value })) });
  }

  private async appendLocked(batch: Buffer): Promise<{ baseOffset: number; lastOffset: number }> {
    if (this.role.kind !== "leader")
      throw new NotLeaderError("not the metadata quorum leader", this.leaderAndEpoch);
    const r = await this.log.appendAsLeader(batch, this.election.epoch);
    const now = Date.now();
    this.lastAppendMs = now;
    if (this.role.progress.updateLocal(this.log.endOffset, now))
      this.onHighWatermark(this.role.progress.highWatermark);
    this.wakeLogWaiters();
    return r;
  }

  /**
   * Appends records as one batch (all or nothing) if this replica is the leader;
   * resolves with the batch's last offset once written locally (not yet committed).
   */
  append(values: readonly Buffer[]): Promise<{ lastOffset: number; epoch: number }> {
    return this.events.run(async () => {
      if (this.closed || this.role.kind !== "leader") {
        throw new NotLeaderError("not the metadata quorum leader", this.leaderAndEpoch);
      }
      const r = await this.appendLocked(this.dataBatch(values));
      return { lastOffset: r.lastOffset, epoch: this.election.epoch };
    });
  }

  /**
   * Resolves once the listener has applied the entry at `offset`; rejects with
   * NotLeaderError if leadership of `epoch` ends first (the write may or may not survive).
   */
  waitForApplied(offset: number, epoch: number): Promise<void> {
    if (this.nextApply > offset) return Promise.resolve();
    if (this.election.epoch !== epoch || this.role.kind !== "leader") {
      return Promise.reject(new NotLeaderError("leadership changed", this.leaderAndEpoch));
    }
    return new Promise((resolve, reject) => this.commitWaiters.push({ offset, epoch, resolve, reject }));
  }

  /**
   * Resolves once this leader has applied every entry committed before its election
   * (its own LeaderChangeMessage is applied): only then is its state machine current.
   */
  leaderCaughtUp(): Promise<void> {
    if (this.role.kind !== "leader") {
      return Promise.reject(new NotLeaderError("not the metadata quorum leader", this.leaderAndEpoch));
    }
    return this.waitForApplied(this.role.progress.epochStartOffset, this.election.epoch);
  }

  /**
   * Resolves true once this replica has applied what was committed when it first heard
   * from a leader (or, as the leader, everything before its election); false after
   * `timeoutMs` without getting there.
   */
  async waitForCatchUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.closed) {
      if (this.role.kind === "leader" && this.nextApply > this.role.progress.epochStartOffset) return true;
      if (this.firstLeaderHw !== null && this.nextApply >= this.firstLeaderHw) return true;
      await sleep(20);
    }
    return false;
  }

  /** append, then waitForApplied: the records are committed and applied when it resolves. */
  async appendAndWait(values: readonly Buffer[]): Promise<number> {
    const { lastOffset, epoch } = await this.append(values);
    await this.waitForApplied(lastOffset, epoch);
    return lastOffset;
  }

  private onHighWatermark(hw: number): void {
    if (hw <= this.hw) return;
    this.hw = hw;
    this.applyWake?.();
    this.wakeLogWaiters();
  }

  private wakeLogWaiters(): void {
    const waiters = this.logWaiters;
    this.logWaiters = new Set();
    for (const w of waiters) w();
  }

  private waitForLogChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.logWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.logWaiters.add(done);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  /**
   * Writes a snapshot of the state machine as of `endOffset` (committed and applied)
   * and moves the log start up to it; followers further behind then load the snapshot.
   */
  createSnapshot(
    endOffset: number,
    values: Iterable<Buffer>,
    lastTimestamp = Date.now(),
  ): Promise<SnapshotId> {
    return this.events.run(async () => {
      if (endOffset > this.nextApply || endOffset > this.hw) {
        throw new Error(
          `cannot snapshot at ${endOffset}: applied up to ${this.nextApply}, committed up to ${this.hw}`,
        );
      }
      return this.log.createSnapshot(endOffset, values, lastTimestamp);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Applying committed entries

  private async applyLoop(): Promise<void> {
    while (!this.closed) {
      try {
        const snap = this.pendingSnapshotLoad;
        if (snap) {
          this.pendingSnapshotLoad = null;
          const values = await this.log.readSnapshot(snap);
          await this.listener.handleLoadSnapshot({ id: snap, values });
          this.nextApply = Math.max(this.nextApply, snap.endOffset);
          this.settleWaiters();
          continue;
        }
        const limit = Math.min(this.hw, this.log.endOffset);
        if (this.nextApply >= limit) {
          await new Promise<void>((resolve) => {
            this.applyWake = resolve;
            setTimeout(resolve, 200);
          });
          this.applyWake = null;
          continue;
        }
        const records = await this.log.read(this.nextApply, 1 << 20, limit);
        if (records.length === 0) {
          await sleep(10);
          continue;
        }
        for (const b of splitBatches(records).batches) {
          if (this.pendingSnapshotLoad) break;
          const next = Number(b.nextOffset);
          if (next <= this.nextApply) continue;
          const batch = committedBatch(b, this.nextApply);
          if (batch) await this.listener.handleCommit(batch);
          this.nextApply = next;
          this.settleWaiters();
        }
      } catch (e) {
        if (this.closed) break;
        // A snapshot install can move the log start under a read; the next round sees it.
        this.logger.debug("applying committed metadata paused", { error: e });
        await sleep(20);
      }
    }
  }

  private settleWaiters(): void {
    if (this.commitWaiters.length === 0) return;
    const still: CommitWaiter[] = [];
    for (const w of this.commitWaiters) {
      if (this.nextApply > w.offset) w.resolve();
      else still.push(w);
    }
    this.commitWaiters = still;
  }

  // ---------------------------------------------------------------------------------------------
  // Follower and observer side of replication

  private fetchTarget(): number | null {
    if (this.role.kind === "follower") return this.role.leaderId;
    if (this.role.kind === "unattached" && !this.isVoter) {
      // An observer with no leader asks the voters in turn; one that knows the leader says so.
      const ids = [...this.voters.keys()];
      return ids[this.observerCursor++ % ids.length];
    }
    return null;
  }

  private async fetchLoop(): Promise<void> {
    while (!this.closed) {
      const target = this.fetchTarget();
      if (target === null) {
        await new Promise<void>((resolve) => {
          this.fetchWake = resolve;
          setTimeout(resolve, 100);
        });
        this.fetchWake = null;
        continue;
      }
      const epoch = this.election.epoch;
      let backoff: boolean;
      try {
        if (this.snapshotFetch) {
          backoff = await this.fetchSnapshotChunk(target, epoch);
        } else {
          const resp = await this.send(
            target,
            "fetch",
            Fetch,
            FETCH_VERSION,
            this.fetchRequest(epoch),
            this.fetchMaxWaitMs + this.requestTimeoutMs,
          );
          backoff = await this.events.run(() => this.onFetchResponse(target, epoch, resp));
        }
      } catch (e) {
        if (this.closed) break;
        this.logger.debug("metadata fetch failed", { from: target, error: e });
        backoff = true;
      }
      if (backoff && !this.closed) await sleep(Math.min(100, this.fetchMaxWaitMs));
    }
  }

  private fetchRequest(epoch: number): FetchRequest {
    return {
      ...defaultFetchRequest(),
      clusterId: this.clusterId,
      replicaId: -1,
      replicaState: { replicaId: this.nodeId, replicaEpoch: -1n },
      maxWaitMs: this.fetchMaxWaitMs,
      minBytes: 1,
      maxBytes: 8 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: METADATA_TOPIC,
          topicId: METADATA_TOPIC_ID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: epoch,
              fetchOffset: BigInt(this.log.endOffset),
              lastFetchedEpoch: this.log.lastEpoch(),
              logStartOffset: BigInt(this.log.startOffset),
              partitionMaxBytes: 8 << 20,
              replicaDirectoryId: ZERO_UUID,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    };
  }

  /** Handles the leader's answer; returns true when the next fetch should wait a little. */
  private async onFetchResponse(from: number, epoch: number, resp: FetchResponse): Promise<boolean> {
    if (this.election.epoch !== epoch) return false;
    const p = resp.responses[0]?.partitions[0];
    if (resp.errorCode !== 0 || !p) {
      this.logger.debug("metadata fetch error", { from, error: resp.errorCode });
      return true;
    }
    const leader = p.currentLeader;
    if (p.errorCode !== 0) {
      if (await this.observeEpoch(leader.leaderEpoch, leader.leaderId)) return false;
      return true;
    }
    if (leader.leaderEpoch > epoch || (this.role.kind === "unattached" && leader.leaderId >= 0)) {
      await this.observeEpoch(leader.leaderEpoch, leader.leaderId);
      if (this.role.kind !== "follower") return true;
    }
    if (this.role.kind !== "follower" || this.role.leaderId !== from) return false;
    this.role.fetchDeadline = Date.now() + this.fetchTimeoutMs;

    if (p.divergingEpoch.epoch >= 0) {
      const target = await this.log.truncateToDivergence({
        epoch: p.divergingEpoch.epoch,
        endOffset: Number(p.divergingEpoch.endOffset),
      });
      if (target < this.hw) {
        this.logger.error("the leader asked to truncate below the high watermark", { target, hw: this.hw });
      }
      this.logger.info("metadata log diverged from the leader's; truncated", {
        leaderId: from,
        divergingEpoch: p.divergingEpoch.epoch,
        truncatedTo: target,
      });
      return false;
    }
    if (p.snapshotId.endOffset >= 0n) {
      const id = { endOffset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch };
      this.logger.info("metadata log is behind the leader's log start; fetching its snapshot", {
        snapshotEndOffset: id.endOffset,
        snapshotEpoch: id.epoch,
      });
      const receiver = new SnapshotReceiver(this.log.dir, id);
      await receiver.abandon();
      this.snapshotFetch = { receiver };
      return false;
    }
    if (p.records && p.records.length > 0) await this.log.appendAsFollower(p.records);
    const leaderHw = Number(p.highWatermark);
    this.firstLeaderHw ??= leaderHw;
    this.onHighWatermark(Math.min(leaderHw, this.log.endOffset));
    return false;
  }

  /** One FetchSnapshot round trip; returns true when the next should wait a little. */
  private async fetchSnapshotChunk(target: number, epoch: number): Promise<boolean> {
    const fetch = this.snapshotFetch!;
    const id = fetch.receiver.id;
    const req: FetchSnapshotRequest = {
      clusterId: this.clusterId,
      replicaId: this.nodeId,
      maxBytes: 1 << 20,
      topics: [
        {
          name: METADATA_TOPIC,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: epoch,
              snapshotId: { endOffset: BigInt(id.endOffset), epoch: id.epoch },
              position: BigInt(fetch.receiver.position),
              replicaDirectoryId: ZERO_UUID,
            },
          ],
        },
      ],
    };
    const resp = await this.send(target, "fetch", FetchSnapshot, FETCH_SNAPSHOT_VERSION, req);
    return this.events.run(async () => {
      if (this.snapshotFetch !== fetch || this.election.epoch !== epoch) return false;
      const p = resp.topics[0]?.partitions[0];
      if (resp.errorCode !== 0 || !p) return true;
      if (p.errorCode !== 0) {
        if (await this.observeEpoch(p.currentLeader.leaderEpoch, p.currentLeader.leaderId)) return false;
        // The snapshot is gone (a newer one replaced it): fetch again to learn the new one.
        await fetch.receiver.abandon();
        this.snapshotFetch = null;
        return true;
      }
      if (this.role.kind === "follower") this.role.fetchDeadline = Date.now() + this.fetchTimeoutMs;
      await fetch.receiver.write(Number(p.position), p.unalignedRecords);
      if (fetch.receiver.position < Number(p.size)) return false;
      await fetch.receiver.complete();
      this.snapshotFetch = null;
      await this.log.installSnapshot(id);
      this.pendingSnapshotLoad = id;
      this.nextApply = Math.min(this.nextApply, id.endOffset);
      this.onHighWatermark(id.endOffset);
      this.applyWake?.();
      return false;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Inbound requests

  private checkClusterId(clusterId: string | null): boolean {
    return clusterId === null || this.clusterId === null || clusterId === this.clusterId;
  }

  handleVote(req: VoteRequest): Promise<VoteResponse> {
    return this.events.run(async () => {
      const answer = (errorCode: number, granted: boolean): VoteResponse => ({
        errorCode: 0,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: 0,
                errorCode,
                leaderId: this.currentLeaderId(),
                leaderEpoch: this.election.epoch,
                voteGranted: granted,
              },
            ],
          },
        ],
        nodeEndpoints: [],
      });
      if (!this.checkClusterId(req.clusterId)) {
        return { errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [], nodeEndpoints: [] };
      }
      const p = req.topics[0]?.partitions[0];
      if (!p || req.topics[0].topicName !== METADATA_TOPIC) {
        return { errorCode: ErrorCode.INVALID_REQUEST, topics: [], nodeEndpoints: [] };
      }
      if (!this.isVoter || !this.voters.has(p.candidateId))
        return answer(ErrorCode.INCONSISTENT_VOTER_SET, false);
      if (p.candidateEpoch < this.election.epoch) return answer(ErrorCode.FENCED_LEADER_EPOCH, false);
      if (p.candidateEpoch > this.election.epoch) await this.becomeUnattached(p.candidateEpoch);
      const canVote =
        this.role.kind === "unattached" &&
        (this.election.votedId === -1 || this.election.votedId === p.candidateId);
      const lastEpoch = this.log.lastEpoch();
      const upToDate =
        p.lastOffsetEpoch > lastEpoch ||
        (p.lastOffsetEpoch === lastEpoch && Number(p.lastOffset) >= this.log.endOffset);
      const granted = canVote && upToDate;
      if (granted) {
        if (this.election.votedId !== p.candidateId) {
          await this.persist({ ...this.election, votedId: p.candidateId });
        }
        this.role = { kind: "unattached", electionDeadline: Date.now() + this.randomElectionTimeout() };
      }
      this.logger.info(granted ? "metadata quorum: vote granted" : "metadata quorum: vote refused", {
        candidate: p.candidateId,
        epoch: p.candidateEpoch,
        ...(granted
          ? {}
          : { reason: !canVote ? `already ${this.role.kind}/voted ${this.election.votedId}` : "log behind" }),
      });
      return answer(ErrorCode.NONE, granted);
    });
  }

  /**
   * BeginQuorumEpoch and EndQuorumEpoch answer alike: the error of the one metadata
   * partition with this node's view of the leader and epoch.
   */
  private epochAnswer(errorCode: number): BeginQuorumEpochResponse & EndQuorumEpochResponse {
    return {
      errorCode: 0,
      topics: [
        {
          topicName: METADATA_TOPIC,
          partitions: [
            {
              partitionIndex: 0,
              errorCode,
              leaderId: this.currentLeaderId(),
              leaderEpoch: this.election.epoch,
            },
          ],
        },
      ],
      nodeEndpoints: [],
    };
  }

  /** The top-level refusal of a Begin/EndQuorumEpoch request (other cluster, no partition), or undefined. */
  private checkEpochRequest(req: {
    clusterId: string | null;
    topics: { partitions: unknown[] }[];
  }): (BeginQuorumEpochResponse & EndQuorumEpochResponse) | undefined {
    if (!this.checkClusterId(req.clusterId)) {
      return { errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, topics: [], nodeEndpoints: [] };
    }
    if (!req.topics[0]?.partitions[0])
      return { errorCode: ErrorCode.INVALID_REQUEST, topics: [], nodeEndpoints: [] };
    return undefined;
  }

  handleBeginQuorumEpoch(req: BeginQuorumEpochRequest): Promise<BeginQuorumEpochResponse> {
    return this.events.run(async () => {
      const refused = this.checkEpochRequest(req);
      if (refused) return refused;
      const p = req.topics[0].partitions[0];
      if (p.leaderEpoch < this.election.epoch) return this.epochAnswer(ErrorCode.FENCED_LEADER_EPOCH);
      if (p.leaderId === this.nodeId) return this.epochAnswer(ErrorCode.INVALID_REQUEST);
      if (
        p.leaderEpoch > this.election.epoch ||
        !(this.role.kind === "follower" && this.role.leaderId === p.leaderId)
      ) {
        await this.becomeFollower(p.leaderEpoch, p.leaderId);
      }
      return this.epochAnswer(ErrorCode.NONE);
    });
  }

  handleEndQuorumEpoch(req: EndQuorumEpochRequest, version: number): Promise<EndQuorumEpochResponse> {
    return this.events.run(async () => {
      const refused = this.checkEpochRequest(req);
      if (refused) return refused;
      const p = req.topics[0].partitions[0];
      if (p.leaderEpoch < this.election.epoch) return this.epochAnswer(ErrorCode.FENCED_LEADER_EPOCH);
      const followingIt = this.role.kind === "follower" && this.role.leaderId === p.leaderId;
      if (p.leaderEpoch > this.election.epoch || followingIt) {
        const successors =
          version === 0 ? p.preferredSuccessors : p.preferredCandidates.map((c) => c.candidateId);
        const rank = successors.indexOf(this.nodeId);
        // The most caught-up successor stands first; the others give it time to win.
        const delay =
          rank < 0
            ? this.randomElectionTimeout()
            : rank * Math.max(50, Math.floor(this.electionBackoffMaxMs / 2)) + Math.floor(Math.random() * 50);
        this.logger.info("metadata quorum: the leader resigned", {
          leaderId: p.leaderId,
          epoch: p.leaderEpoch,
        });
        await this.becomeUnattached(p.leaderEpoch, delay);
      }
      return this.epochAnswer(ErrorCode.NONE);
    });
  }

  /** Fetch of the metadata log from a follower (a voter) or an observer (a broker). */
  async handleFetch(req: FetchRequest, version: number): Promise<FetchResponse> {
    const topic = req.topics[0];
    const fp = topic?.partitions[0];
    const response = (p: FetchPartitionData, errorCode = 0): FetchResponse => ({
      throttleTimeMs: 0,
      errorCode,
      sessionId: 0,
      responses: topic ? [{ topic: topic.topic, topicId: topic.topicId, partitions: [p] }] : [],
      nodeEndpoints: [],
    });
    if (!this.checkClusterId(req.clusterId))
      return response(defaultFetchPartitionData(), ErrorCode.INCONSISTENT_CLUSTER_ID);
    const matches = version >= 13 ? topic?.topicId === METADATA_TOPIC_ID : topic?.topic === METADATA_TOPIC;
    if (!fp || !matches || fp.partition !== 0) {
      return response({ ...defaultFetchPartitionData(), errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    }
    const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
    const fetchOffset = Number(fp.fetchOffset);
    const first = await this.events.run(async () =>
      this.fetchStep(replicaId, fp.currentLeaderEpoch, fetchOffset, fp.lastFetchedEpoch),
    );
    if (first.kind === "answer") return response(first.partition);
    if (req.maxWaitMs > 0 && first.kind === "empty")
      await this.waitForLogChange(Math.min(req.maxWaitMs, this.fetchMaxWaitMs * 2));
    const second = await this.events.run(async () => {
      const again = this.fetchStep(replicaId, fp.currentLeaderEpoch, fetchOffset, fp.lastFetchedEpoch, true);
      if (again.kind === "answer") return again.partition;
      const records = await this.log.read(
        fetchOffset,
        Math.min(req.maxBytes, fp.partitionMaxBytes) || 1 << 20,
      );
      return { ...this.partitionAnswer(0), records };
    });
    return response(second);
  }

  private partitionAnswer(errorCode: number): FetchPartitionData {
    return {
      ...defaultFetchPartitionData(),
      partitionIndex: 0,
      errorCode,
      highWatermark: BigInt(this.role.kind === "leader" ? this.hw : -1),
      lastStableOffset: BigInt(this.hw),
      logStartOffset: BigInt(this.log.startOffset),
      currentLeader: { leaderId: this.currentLeaderId(), leaderEpoch: this.election.epoch },
      records: null,
    };
  }

  /** The leader's checks of a Fetch (on the event queue): an immediate answer, or go read. */
  private fetchStep(
    replicaId: number,
    currentLeaderEpoch: number,
    fetchOffset: number,
    lastFetchedEpoch: number,
    recheck = false,
  ): { kind: "answer"; partition: FetchPartitionData } | { kind: "read" } | { kind: "empty" } {
    const err = (code: number) => ({ kind: "answer" as const, partition: this.partitionAnswer(code) });
    if (currentLeaderEpoch > this.election.epoch) return err(ErrorCode.UNKNOWN_LEADER_EPOCH);
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < this.election.epoch)
      return err(ErrorCode.FENCED_LEADER_EPOCH);
    if (this.role.kind !== "leader") return err(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (recheck) return { kind: "read" };
    const valid = this.log.validateFetchPosition(fetchOffset, lastFetchedEpoch);
    if (valid.kind === "diverging") {
      const partition = this.partitionAnswer(0);
      partition.divergingEpoch = { epoch: valid.epoch, endOffset: BigInt(valid.endOffset) };
      return { kind: "answer", partition };
    }
    if (valid.kind === "snapshot") {
      const partition = this.partitionAnswer(0);
      partition.snapshotId = { endOffset: BigInt(valid.id.endOffset), epoch: valid.id.epoch };
      return { kind: "answer", partition };
    }
    if (fetchOffset > this.log.endOffset) return err(ErrorCode.OFFSET_OUT_OF_RANGE);
    if (replicaId >= 0) {
      if (this.role.progress.updateReplica(replicaId, fetchOffset, this.log.endOffset, Date.now())) {
        this.onHighWatermark(this.role.progress.highWatermark);
      }
    }
    return fetchOffset < this.log.endOffset ? { kind: "read" } : { kind: "empty" };
  }

  handleFetchSnapshot(req: FetchSnapshotRequest): Promise<FetchSnapshotResponse> {
    return this.events.run(async () => {
      const t = req.topics[0];
      const p = t?.partitions[0];
      const answer = (errorCode: number): FetchSnapshotResponse => ({
        throttleTimeMs: 0,
        errorCode: 0,
        topics: [
          {
            name: METADATA_TOPIC,
            partitions: [
              {
                index: 0,
                errorCode,
                snapshotId: p?.snapshotId ?? { endOffset: -1n, epoch: -1 },
                currentLeader: { leaderId: this.currentLeaderId(), leaderEpoch: this.election.epoch },
                size: 0n,
                position: 0n,
                unalignedRecords: Buffer.alloc(0),
              },
            ],
          },
        ],
        nodeEndpoints: [],
      });
      if (!this.checkClusterId(req.clusterId)) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID,
          topics: [],
          nodeEndpoints: [],
        };
      }
      if (!p || t.name !== METADATA_TOPIC || p.partition !== 0)
        return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (p.currentLeaderEpoch > this.election.epoch) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
      if (p.currentLeaderEpoch < this.election.epoch) return answer(ErrorCode.FENCED_LEADER_EPOCH);
      if (this.role.kind !== "leader") return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const id = { endOffset: Number(p.snapshotId.endOffset), epoch: p.snapshotId.epoch };
      if (!this.log.hasSnapshot(id)) return answer(ErrorCode.SNAPSHOT_NOT_FOUND);
      const position = Number(p.position);
      const chunk = await readSnapshotChunk(
        this.log.dir,
        id,
        position,
        Math.max(1, Math.min(req.maxBytes, 1 << 20)),
      );
      if (position > chunk.size) return answer(ErrorCode.POSITION_OUT_OF_RANGE);
      const out = answer(0);
      const part = out.topics[0].partitions[0];
      part.size = BigInt(chunk.size);
      part.position = BigInt(position);
      part.unalignedRecords = chunk.bytes;
      return out;
    });
  }

  /** DescribeQuorum (55), answered by the leader. */
  describeQuorum(): DescribeQuorumResponse {
    const role = this.role;
    const base = {
      errorCode: 0,
      errorMessage: null,
      nodes: [],
    };
    if (role.kind !== "leader") {
      return {
        ...base,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: 0,
                errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
                errorMessage: "not the metadata quorum leader",
                leaderId: this.currentLeaderId(),
                leaderEpoch: this.election.epoch,
                highWatermark: -1n,
                currentVoters: [],
                observers: [],
              },
            ],
          },
        ],
      };
    }
    const now = Date.now();
    const state = (p: { id: number; endOffset: number; lastFetchMs: number; lastCaughtUpMs: number }) => ({
      replicaId: p.id,
      replicaDirectoryId: ZERO_UUID,
      logEndOffset: BigInt(p.id === this.nodeId ? this.log.endOffset : p.endOffset),
      lastFetchTimestamp: BigInt(p.id === this.nodeId ? now : p.lastFetchMs),
      lastCaughtUpTimestamp: BigInt(p.id === this.nodeId ? now : p.lastCaughtUpMs),
    });
    return {
      ...base,
      topics: [
        {
          topicName: METADATA_TOPIC,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              errorMessage: null,
              leaderId: this.nodeId,
              leaderEpoch: this.election.epoch,
              highWatermark: BigInt(this.hw),
              currentVoters: role.progress.voterProgress().map(state),
              observers: role.progress.observerProgress().map(state),
            },
          ],
        },
      ],
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /** A leader hands over: tells the voters (most caught-up first) to elect a successor now. */
  async resign(): Promise<void> {
    const plan = await this.events.run(async () => {
      if (this.role.kind !== "leader") return null;
      const successors = this.role.progress.preferredSuccessors();
      const epoch = this.election.epoch;
      this.becomeResigned(true);
      return { successors, epoch };
    });
    if (!plan) return;
    const req: EndQuorumEpochRequest = {
      clusterId: this.clusterId,
      topics: [
        {
          topicName: METADATA_TOPIC,
          partitions: [
            {
              partitionIndex: 0,
              leaderId: this.nodeId,
              leaderEpoch: plan.epoch,
              preferredSuccessors: plan.successors,
              preferredCandidates: [],
            },
          ],
        },
      ],
      leaderEndpoints: [],
    };
    await Promise.allSettled(
      plan.successors.map((id) =>
        this.send(
          id,
          "control",
          EndQuorumEpoch,
          END_QUORUM_VERSION,
          req,
          Math.min(this.requestTimeoutMs, 1000),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.resign().catch(() => undefined);
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const err = new NotLeaderError("the metadata quorum replica is shutting down", this.leaderAndEpoch);
    for (const w of this.commitWaiters) w.reject(err);
    this.commitWaiters = [];
    this.wakeLogWaiters();
    this.fetchWake?.();
    this.applyWake?.();
    for (const c of this.clients.values()) c.close();
    await Promise.allSettled(this.loops);
    await this.events.run(async () => {
      await this.checkpointHighWatermark().catch(() => undefined);
      await this.log.close();
    });
    this.logger.info("metadata quorum replica stopped", { nodeId: this.nodeId });
  }

  /** Stops without a handover or a final checkpoint (tests of a crash). */
  async crash(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.commitWaiters) w.reject(new NotLeaderError("crashed", this.leaderAndEpoch));
    this.commitWaiters = [];
    this.wakeLogWaiters();
    this.fetchWake?.();
    this.applyWake?.();
    for (const c of this.clients.values()) c.close();
    await Promise.allSettled(this.loops);
    await this.events.run(() => this.log.close()).catch(() => undefined);
  }
}
