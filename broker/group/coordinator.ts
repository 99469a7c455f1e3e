// The classic group coordinator: Kafka's JoinGroup/SyncGroup/Heartbeat/LeaveGroup
// protocol, committed offsets, and their persistence in __consumer_offsets, following
// the semantics of Kafka's group-coordinator module (GroupMetadataManager,
// OffsetMetadataManager, ClassicGroup).
//
// Work is split by __consumer_offsets partition, as in Kafka: a group belongs to the
// partition its id hashes to (java-hash.ts), and this broker coordinates the groups of
// the partitions it leads. When it becomes a partition's leader the partition is loaded
// (its records replayed: latest offsets and group metadata win, tombstones delete);
// until then requests for its groups get COORDINATOR_LOAD_IN_PROGRESS, and requests for
// partitions it does not lead get NOT_COORDINATOR, which sends clients to FindCoordinator.
//
// State changes happen synchronously on the event loop, so each request sees and leaves
// a consistent group; what must survive a restart (offsets, and the group's generation,
// members and assignment once a generation is settled) is appended to the partition
// before the request that caused it is answered.
import { randomUUID } from "node:crypto";
import type { Logger } from "../../lib/logger.ts";
import {
  type CompressionType,
  buildRecordBatch,
  iterateRecords,
  readBatchHeader,
} from "../../protocol/records/index.ts";
import { ErrorCode, KafkaError, errorCodeOf, errorMessageOf } from "../errors.ts";
import {
  ClassicGroup,
  EMPTY_BYTES,
  type GroupState,
  type JoinResult,
  Member,
  type Protocol,
  type SyncResult,
  joinError,
  syncError,
} from "./classic-group.ts";
import { groupPartition } from "./java-hash.ts";
import type { OffsetsLog } from "./offsets-log.ts";
import {
  type GroupMetadataValue,
  type OffsetCommitValue,
  type OffsetsTopicRecord,
  decodeOffsetsTopicRecord,
  encodeOffsetsTopicRecord,
} from "./offsets-records.ts";
import { type Clock, KeyedTimer, systemClock } from "./timer.ts";

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size */
  maxGroupSize: number;
  /** offsets.retention.minutes, in ms */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number;
  /** offsets.topic.compression.codec */
  compression: CompressionType;
}

/**
 * How long a new member's JoinGroup may stay parked before the member is dropped
 * (Kafka's classicGroupNewMemberJoinTimeoutMs): a client that gave up on a long
 * rebalance and retried must not leave defunct members behind forever.
 */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface StoredOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Set when the commit carried its own retention time (OffsetCommit v2-4). */
  expireTimestamp: number | null;
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  clientId: string;
  clientHost: string;
  /** JoinGroup v4+: a member without an id is first handed one (MEMBER_ID_REQUIRED). */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a rejoining static leader may be told to skip the assignment. */
  supportsSkipAssignment: boolean;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** -1: the broker's offsets.retention.minutes applies. */
  retentionTimeMs: number;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }>;
  }>;
}

export type PartitionErrors = Array<{
  name: string;
  partitions: Array<{ partitionIndex: number; errorCode: number }>;
}>;

export interface FetchedOffsets {
  errorCode: number;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      metadata: string;
      errorCode: number;
    }>;
  }>;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }>;
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

/** One __consumer_offsets partition's share of the groups. */
class Shard {
  readonly partition: number;
  loading = true;
  readonly groups = new Map<string, ClassicGroup>();
  /** group -> topic -> partition -> committed offset */
  readonly offsets = new Map<string, Map<string, Map<number, StoredOffset>>>();

  constructor(partition: number) {
    this.partition = partition;
  }

  offsetOf(group: string, topic: string, partition: number): StoredOffset | undefined {
    return this.offsets.get(group)?.get(topic)?.get(partition);
  }

  putOffset(group: string, topic: string, partition: number, o: StoredOffset): void {
    let byTopic = this.offsets.get(group);
    if (!byTopic) this.offsets.set(group, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (!byPartition) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, o);
  }

  deleteOffset(group: string, topic: string, partition: number): void {
    const byTopic = this.offsets.get(group);
    const byPartition = byTopic?.get(topic);
    if (!byTopic || !byPartition) return;
    byPartition.delete(partition);
    if (byPartition.size === 0) byTopic.delete(topic);
    if (byTopic.size === 0) this.offsets.delete(group);
  }
}

/** Errors of a failed append, as the group protocol reports them (Kafka's mapping). */
function appendErrorToResponse(code: number, forOffsets: boolean): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return forOffsets ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

export class GroupCoordinator {
  private readonly config: GroupCoordinatorConfig;
  private readonly log: OffsetsLog;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timer: KeyedTimer;
  private readonly shards = new Map<number, Shard>();
  /** Partitions of __consumer_offsets; the host keeps it current (the topic's count once it exists). */
  numPartitions: number;
  private stopped = false;

  constructor(opts: {
    config: GroupCoordinatorConfig;
    log: OffsetsLog;
    logger: Logger;
    numPartitions: number;
    clock?: Clock;
  }) {
    this.config = opts.config;
    this.log = opts.log;
    this.logger = opts.logger;
    this.numPartitions = opts.numPartitions;
    this.clock = opts.clock ?? systemClock;
    this.timer = new KeyedTimer(this.clock, (key, err) =>
      this.logger.error("group coordinator timer failed", {
        timer: key,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
    );
  }

  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.numPartitions);
  }

  /** Partitions whose groups this coordinator serves (loaded or loading). */
  ownedPartitions(): number[] {
    return [...this.shards.keys()].sort((a, b) => a - b);
  }

  isLoading(partition: number): boolean {
    return this.shards.get(partition)?.loading ?? false;
  }

  // ------------------------------------------------------------------ partition ownership

  /** Takes over a partition: replays its records, then serves its groups. */
  async loadPartition(partition: number): Promise<void> {
    if (this.stopped || this.shards.has(partition)) return;
    const shard = new Shard(partition);
    this.shards.set(partition, shard);
    const started = this.clock.now();
    let records = 0;
    try {
      for await (const batch of this.log.batches(partition)) {
        if (this.shards.get(partition) !== shard) return; // unloaded meanwhile
        const header = readBatchHeader(batch, 0);
        if (header.isControl) continue;
        for (const r of iterateRecords(header)) {
          if (r.key === null) continue;
          let rec: OffsetsTopicRecord;
          try {
            rec = decodeOffsetsTopicRecord(r.key, r.value);
          } catch (err) {
            this.logger.warn("skipping an unreadable __consumer_offsets record", {
              partition,
              offset: r.offset,
              error: errorMessageOf(err),
            });
            continue;
          }
          this.replay(shard, rec);
          records++;
        }
      }
    } catch (err) {
      this.logger.error("loading __consumer_offsets partition failed; its groups stay unavailable", {
        partition,
        error: errorMessageOf(err),
      });
      if (this.shards.get(partition) === shard) this.shards.delete(partition);
      return;
    }
    if (this.shards.get(partition) !== shard) return;
    shard.loading = false;
    this.onLoaded(shard);
    // Most partitions are empty; say so only when there was something to load.
    const level = records > 0 ? "info" : "debug";
    this.logger[level]("loaded group coordinator partition", {
      partition,
      groups: shard.groups.size,
      records,
      ms: this.clock.now() - started,
    });
  }

  /** Gives up a partition (leadership moved or the broker stops): held requests get NOT_COORDINATOR. */
  unloadPartition(partition: number): void {
    const shard = this.shards.get(partition);
    if (!shard) return;
    this.shards.delete(partition);
    this.timer.cancelPrefix(`${partition}/`);
    for (const group of shard.groups.values()) {
      const previous = group.state;
      group.transitionTo("Dead", this.clock.now());
      for (const m of group.members.values()) {
        if (previous === "PreparingRebalance")
          group.completeJoin(m, joinError(ErrorCode.NOT_COORDINATOR, m.memberId));
        group.completeSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
    this.logger[shard.groups.size > 0 ? "info" : "debug"]("unloaded group coordinator partition", {
      partition,
      groups: shard.groups.size,
    });
  }

  shutdown(): void {
    this.stopped = true;
    for (const p of [...this.shards.keys()]) this.unloadPartition(p);
  }

  private replay(shard: Shard, rec: OffsetsTopicRecord): void {
    if (rec.type === "offset") {
      if (rec.value === null) {
        shard.deleteOffset(rec.group, rec.topic, rec.partition);
        return;
      }
      // Offsets committed outside group management belong to a "simple" group.
      if (!shard.groups.has(rec.group))
        shard.groups.set(rec.group, new ClassicGroup(rec.group, this.clock.now()));
      shard.putOffset(rec.group, rec.topic, rec.partition, {
        offset: rec.value.offset,
        leaderEpoch: rec.value.leaderEpoch,
        metadata: rec.value.metadata,
        commitTimestamp: Number(rec.value.commitTimestamp),
        expireTimestamp: rec.value.expireTimestamp >= 0n ? Number(rec.value.expireTimestamp) : null,
      });
    } else if (rec.type === "group") {
      if (rec.value === null) {
        shard.groups.delete(rec.group);
        return;
      }
      shard.groups.set(rec.group, this.groupFromRecord(rec.group, rec.value));
    }
  }

  private groupFromRecord(groupId: string, v: GroupMetadataValue): ClassicGroup {
    const group = new ClassicGroup(groupId, this.clock.now(), {
      state: v.members.length === 0 ? "Empty" : "Stable",
      generationId: v.generation,
      protocolType: v.protocolType === "" ? null : v.protocolType,
      protocolName: v.protocol,
      leaderId: v.leader,
      stateTimestamp: v.currentStateTimestamp === -1n ? null : Number(v.currentStateTimestamp),
    });
    for (const m of v.members) {
      group.add(
        new Member({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout,
          sessionTimeoutMs: m.sessionTimeout,
          protocolType: v.protocolType,
          protocols: [{ name: v.protocol ?? "", metadata: m.subscription }],
          assignment: m.assignment,
        }),
        null,
      );
    }
    // add() makes the first member leader when none is set; the record names the real one.
    if (v.leader !== null && group.has(v.leader)) group.leaderId = v.leader;
    return group;
  }

  /** After loading: members' sessions start counting now; offsets retention is checked periodically. */
  private onLoaded(shard: Shard): void {
    for (const group of shard.groups.values()) {
      for (const m of group.members.values()) this.scheduleHeartbeat(shard, group, m, m.sessionTimeoutMs);
      if (group.size > this.config.maxGroupSize) {
        this.prepareRebalance(
          shard,
          group,
          `loaded group is over group.max.size (${this.config.maxGroupSize})`,
        );
      }
    }
    this.scheduleRetentionCheck(shard);
  }

  /** The loaded shard owning a group, or the error that sends the client elsewhere. */
  private shardOf(groupId: string): Shard {
    const shard = this.shards.get(this.partitionFor(groupId));
    if (!shard || this.stopped) {
      throw new KafkaError("NOT_COORDINATOR", `This broker is not the coordinator of group ${groupId}.`);
    }
    if (shard.loading) {
      throw new KafkaError(
        "COORDINATOR_LOAD_IN_PROGRESS",
        `The coordinator is loading the groups of __consumer_offsets-${shard.partition}.`,
      );
    }
    return shard;
  }

  /** The group only if it still is the one this shard holds (timeouts fire after changes). */
  private liveGroup(shard: Shard, groupId: string): ClassicGroup | undefined {
    if (this.shards.get(shard.partition) !== shard) return undefined;
    return shard.groups.get(groupId);
  }

  /**
   * Runs `then` when a background write finishes. A bug there must not become an
   * unhandled rejection (which would stop the broker): it is logged instead.
   */
  private guard<T>(work: Promise<T>, then: (value: T) => void): void {
    work.then(then).catch((err: unknown) => {
      this.logger.error("group coordinator background step failed", {
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    });
  }

  // ------------------------------------------------------------------ timers

  private heartbeatKey(shard: Shard, groupId: string, memberId: string): string {
    return `${shard.partition}/hb/${groupId}\u0000${memberId}`;
  }

  private joinKey(shard: Shard, groupId: string): string {
    return `${shard.partition}/join/${groupId}`;
  }

  private syncKey(shard: Shard, groupId: string): string {
    return `${shard.partition}/sync/${groupId}`;
  }

  private scheduleHeartbeat(shard: Shard, group: ClassicGroup, member: Member, timeoutMs: number): void {
    const groupId = group.groupId;
    const memberId = member.memberId;
    this.timer.schedule(this.heartbeatKey(shard, groupId, memberId), timeoutMs, () =>
      this.expireHeartbeat(shard, groupId, memberId),
    );
  }

  private rescheduleHeartbeat(shard: Shard, group: ClassicGroup, member: Member): void {
    this.scheduleHeartbeat(shard, group, member, member.sessionTimeoutMs);
  }

  private scheduleRetentionCheck(shard: Shard): void {
    this.timer.schedule(`${shard.partition}/expire`, this.config.offsetsRetentionCheckIntervalMs, () => {
      this.guard(this.expireOffsets(shard), () => {
        if (this.shards.get(shard.partition) === shard) this.scheduleRetentionCheck(shard);
      });
    });
  }

  // ------------------------------------------------------------------ JoinGroup

  async joinGroup(req: JoinRequest): Promise<JoinResult> {
    if (req.groupId === "") return joinError(ErrorCode.INVALID_GROUP_ID, req.memberId);
    if (
      req.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId);
    }
    let shard: Shard;
    try {
      shard = this.shardOf(req.groupId);
    } catch (err) {
      return joinError(errorCodeOf(err), req.memberId);
    }
    return new Promise<JoinResult>((respond) => this.join(shard, req, respond));
  }

  private join(shard: Shard, req: JoinRequest, respond: (r: JoinResult) => void): void {
    const unknownMember = req.memberId === "";
    let group = shard.groups.get(req.groupId);
    if (!group) {
      // A group comes into being with its first member; a member id for a group that
      // does not exist is stale (the group expired or was deleted).
      if (!unknownMember) return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      group = new ClassicGroup(req.groupId, this.clock.now());
      shard.groups.set(req.groupId, group);
    }
    if (!this.acceptsJoiningMember(group, req.memberId)) {
      group.remove(req.memberId);
      return respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ""));
    }
    if (unknownMember) this.joinNewMember(shard, group, req, respond);
    else this.joinExistingMember(shard, group, req, respond);
  }

  /** group.max.size: existing members may always rejoin; new ones only while there is room. */
  private acceptsJoiningMember(group: ClassicGroup, memberId: string): boolean {
    switch (group.state) {
      case "Empty":
      case "Dead":
        return true;
      case "PreparingRebalance":
        return (
          (group.has(memberId) && group.member(memberId).awaitingJoin !== null) ||
          group.numAwaitingJoin < this.config.maxGroupSize
        );
      case "CompletingRebalance":
      case "Stable":
        return group.has(memberId) || group.size < this.config.maxGroupSize;
    }
  }

  private joinNewMember(
    shard: Shard,
    group: ClassicGroup,
    req: JoinRequest,
    respond: (r: JoinResult) => void,
  ): void {
    if (group.is("Dead")) return respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, ""));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ""));
    }
    const newMemberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const existing = group.staticMemberId(req.groupInstanceId);
      if (existing !== undefined)
        return this.rejoinStaticMember(shard, group, req, existing, newMemberId, respond);
      return this.addMemberThenRebalance(shard, group, req, newMemberId, respond);
    }
    if (req.requireKnownMemberId) {
      // KIP-394: hand out an id first, so a client that retries a timed-out JoinGroup
      // rejoins as itself instead of piling up members. The id is pending until used
      // or its session timeout passes.
      group.pendingJoinMembers.add(newMemberId);
      this.timer.schedule(this.heartbeatKey(shard, group.groupId, newMemberId), req.sessionTimeoutMs, () =>
        this.expireHeartbeat(shard, req.groupId, newMemberId),
      );
      return respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
    }
    this.addMemberThenRebalance(shard, group, req, newMemberId, respond);
  }

  private joinExistingMember(
    shard: Shard,
    group: ClassicGroup,
    req: JoinRequest,
    respond: (r: JoinResult) => void,
  ): void {
    const memberId = req.memberId;
    if (group.is("Dead")) return respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
    }
    if (group.isPendingMember(memberId)) {
      // Pending ids are only handed to dynamic members.
      if (req.groupInstanceId !== null) return respond(joinError(ErrorCode.UNKNOWN_SERVER_ERROR, memberId));
      return this.addMemberThenRebalance(shard, group, req, memberId, respond);
    }
    const invalid = this.validateMember(group, memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return respond(joinError(invalid, memberId));
    const member = group.member(memberId);
    const current = (members: JoinResult["members"]): JoinResult => ({
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      memberId,
      skipAssignment: false,
      members,
    });
    switch (group.state) {
      case "PreparingRebalance":
        return this.updateMemberThenRebalance(
          shard,
          group,
          member,
          req,
          "member rejoins during a rebalance",
          respond,
        );
      case "CompletingRebalance":
        // The same metadata: the member probably missed its JoinGroup response; repeat it.
        if (member.matches(req.protocols)) {
          return respond(current(group.isLeader(memberId) ? group.joinedMembers() : []));
        }
        return this.updateMemberThenRebalance(
          shard,
          group,
          member,
          req,
          "member changed its metadata",
          respond,
        );
      case "Stable":
        // A rejoining leader forces a rebalance (it may have seen metadata change, such as
        // new partitions); a follower with unchanged metadata just gets the generation back.
        if (group.isLeader(memberId)) {
          return this.updateMemberThenRebalance(shard, group, member, req, "leader rejoins", respond);
        }
        if (!member.matches(req.protocols)) {
          return this.updateMemberThenRebalance(
            shard,
            group,
            member,
            req,
            "member changed its metadata",
            respond,
          );
        }
        return respond(current([]));
      default:
        return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  /** A known group.instance.id joins without a member id: it replaces its previous incarnation. */
  private rejoinStaticMember(
    shard: Shard,
    group: ClassicGroup,
    req: JoinRequest,
    oldMemberId: string,
    newMemberId: string,
    respond: (r: JoinResult) => void,
  ): void {
    const instanceId = req.groupInstanceId!;
    const previousLeader = group.leaderId;
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.timer.cancel(this.heartbeatKey(shard, group.groupId, oldMemberId));
    this.rescheduleHeartbeat(shard, group, member);
    const old = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, respond);
    if (group.is("Stable")) {
      // KIP-345: a static member coming back with the same protocol keeps its assignment
      // without a rebalance; only the new member id is persisted.
      if (group.protocolName === group.selectProtocol()) {
        const assignment = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
        this.guard(this.storeGroup(shard, group, assignment), (error) => {
          if (error !== ErrorCode.NONE) {
            this.logger.warn("persisting a rejoined static member failed; reverting to its old member id", {
              group: group.groupId,
              instance: instanceId,
              error,
            });
            group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
            const restored = group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            this.rescheduleHeartbeat(shard, group, restored);
            respond({
              ...joinError(appendErrorToResponse(error, false), ""),
              generationId: group.generationId,
              leader: previousLeader ?? "",
            });
            return;
          }
          const isLeader = group.isLeader(newMemberId);
          group.completeJoin(member, {
            errorCode: ErrorCode.NONE,
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leader: (req.supportsSkipAssignment ? group.leaderId : previousLeader) ?? "",
            memberId: newMemberId,
            skipAssignment: req.supportsSkipAssignment && isLeader,
            members: req.supportsSkipAssignment && isLeader ? group.joinedMembers() : [],
          });
        });
        return;
      }
      return this.maybePrepareRebalanceOrCompleteJoin(
        shard,
        group,
        `static member ${instanceId} changed the protocol`,
      );
    }
    if (group.is("CompletingRebalance")) {
      // The leader may already be assigning to the old id: rebalance so the new id gets partitions.
      return this.prepareRebalance(
        shard,
        group,
        `static member ${instanceId} rejoined during the sync phase`,
      );
    }
    this.maybeCompleteJoinPhase(shard, group);
  }

  private addMemberThenRebalance(
    shard: Shard,
    group: ClassicGroup,
    req: JoinRequest,
    memberId: string,
    respond: (r: JoinResult) => void,
  ): void {
    const member = new Member({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    });
    member.isNew = true;
    // During the initial delay every new member extends the wait for more.
    if (group.is("PreparingRebalance") && group.previousState === "Empty") group.newMemberAdded = true;
    group.add(member, respond);
    // A parked JoinGroup cannot heartbeat; bound how long a new member may wait in it.
    this.scheduleHeartbeat(shard, group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalanceOrCompleteJoin(shard, group, `new member ${memberId} joins`);
  }

  private updateMemberThenRebalance(
    shard: Shard,
    group: ClassicGroup,
    member: Member,
    req: JoinRequest,
    reason: string,
    respond: (r: JoinResult) => void,
  ): void {
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, respond);
    this.maybePrepareRebalanceOrCompleteJoin(shard, group, `${reason} (${member.memberId})`);
  }

  private maybePrepareRebalanceOrCompleteJoin(shard: Shard, group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(shard, group, reason);
    else this.maybeCompleteJoinPhase(shard, group);
  }

  private prepareRebalance(shard: Shard, group: ClassicGroup, reason: string): void {
    // Members waiting for an assignment must rejoin instead.
    if (group.is("CompletingRebalance"))
      this.resetAndPropagateAssignment(shard, group, ErrorCode.REBALANCE_IN_PROGRESS);
    group.pendingSyncMembers.clear();
    this.timer.cancel(this.syncKey(shard, group.groupId));
    const initial = group.is("Empty");
    if (initial) {
      // A new group waits group.initial.rebalance.delay.ms for more members, so a set of
      // consumers starting together gets one rebalance instead of one per member.
      const delay = this.config.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      const groupId = group.groupId;
      this.timer.schedule(this.joinKey(shard, groupId), delay, () =>
        this.completeInitialRebalance(shard, groupId, delay, remaining),
      );
    }
    group.transitionTo("PreparingRebalance", this.clock.now());
    this.logger.info("preparing to rebalance group", {
      group: group.groupId,
      generation: group.generationId,
      members: group.size,
      reason,
    });
    if (!initial) this.completeJoinElseSchedule(shard, group);
  }

  private completeJoinElseSchedule(shard: Shard, group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) return this.completeJoinPhase(shard, group);
    const groupId = group.groupId;
    this.timer.schedule(this.joinKey(shard, groupId), group.rebalanceTimeoutMs(), () => {
      const g = this.liveGroup(shard, groupId);
      if (g) this.completeJoinPhase(shard, g);
    });
  }

  private completeInitialRebalance(
    shard: Shard,
    groupId: string,
    delayMs: number,
    remainingMs: number,
  ): void {
    const group = this.liveGroup(shard, groupId);
    if (!group) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelay = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
      const nextRemaining = Math.max(remainingMs - delayMs, 0);
      this.timer.schedule(this.joinKey(shard, groupId), nextDelay, () =>
        this.completeInitialRebalance(shard, groupId, nextDelay, nextRemaining),
      );
      return;
    }
    this.completeJoinPhase(shard, group);
  }

  /** Completes the join phase early once everyone is in (never during the initial delay). */
  private maybeCompleteJoinPhase(shard: Shard, group: ClassicGroup): void {
    if (!group.is("PreparingRebalance")) return;
    if (group.previousState === "Empty") return;
    if (!group.hasAllMembersJoined()) return;
    this.completeJoinPhase(shard, group);
  }

  /**
   * Ends the join phase: dynamic members that did not rejoin are dropped, the generation
   * advances, and every parked JoinGroup is answered (the leader gets the member list).
   */
  private completeJoinPhase(shard: Shard, group: ClassicGroup): void {
    this.timer.cancel(this.joinKey(shard, group.groupId));
    const dropped = group.notYetRejoined().filter((m) => !m.isStatic);
    for (const m of dropped) {
      group.remove(m.memberId);
      this.timer.cancel(this.heartbeatKey(shard, group.groupId, m.memberId));
    }
    if (dropped.length > 0) {
      this.logger.info("removed members that did not rejoin within the rebalance timeout", {
        group: group.groupId,
        members: dropped.map((m) => m.memberId).join(","),
      });
    }
    if (group.is("Dead")) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait for them (or their sessions to end).
      const groupId = group.groupId;
      this.timer.schedule(this.joinKey(shard, groupId), group.rebalanceTimeoutMs(), () => {
        const g = this.liveGroup(shard, groupId);
        if (g) this.completeJoinPhase(shard, g);
      });
      return;
    }
    group.initNextGeneration(this.clock.now());
    if (group.is("Empty")) {
      this.logger.info("group is now empty", { group: group.groupId, generation: group.generationId });
      this.guard(this.storeGroup(shard, group, new Map()), (error) => {
        if (error !== ErrorCode.NONE) {
          this.logger.warn("writing the empty group's metadata failed", { group: group.groupId, error });
        }
      });
      return;
    }
    this.logger.info("group joined, awaiting the leader's assignment", {
      group: group.groupId,
      generation: group.generationId,
      protocol: group.protocolName,
      members: group.size,
    });
    for (const m of group.members.values()) {
      group.completeJoin(m, {
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? "",
        memberId: m.memberId,
        skipAssignment: false,
        members: group.isLeader(m.memberId) ? group.joinedMembers() : [],
      });
      this.rescheduleHeartbeat(shard, group, m);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    // Members that never send SyncGroup are removed after the rebalance timeout.
    const groupId = group.groupId;
    const generation = group.generationId;
    this.timer.schedule(this.syncKey(shard, groupId), group.rebalanceTimeoutMs(), () =>
      this.expirePendingSync(shard, groupId, generation),
    );
  }

  private expirePendingSync(shard: Shard, groupId: string, generation: number): void {
    const group = this.liveGroup(shard, groupId);
    if (!group || group.generationId !== generation) return;
    if (!group.is("CompletingRebalance") && !group.is("Stable")) return;
    if (group.pendingSyncMembers.size === 0) return;
    const late = [...group.pendingSyncMembers];
    for (const id of late) {
      group.remove(id);
      this.timer.cancel(this.heartbeatKey(shard, groupId, id));
    }
    this.prepareRebalance(
      shard,
      group,
      `members ${late.join(",")} sent no SyncGroup within the rebalance timeout`,
    );
  }

  private expireHeartbeat(shard: Shard, groupId: string, memberId: string): void {
    const group = this.liveGroup(shard, groupId);
    if (!group || group.is("Dead")) return;
    if (group.isPendingMember(memberId)) {
      group.remove(memberId);
      if (group.is("PreparingRebalance") && group.hasAllMembersJoined()) this.completeJoinPhase(shard, group);
      return;
    }
    const member = group.members.get(memberId);
    if (!member || member.hasSatisfiedHeartbeat()) return;
    this.logger.info("member's session timed out; removing it from the group", {
      group: groupId,
      member: memberId,
      sessionTimeoutMs: member.sessionTimeoutMs,
    });
    this.removeMemberAndUpdateGroup(shard, group, member, "session timeout");
  }

  private removeMemberAndUpdateGroup(
    shard: Shard,
    group: ClassicGroup,
    member: Member,
    reason: string,
  ): void {
    // A member removed while its JoinGroup is parked learns it must join again.
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ""));
    group.remove(member.memberId);
    if (group.is("Stable") || group.is("CompletingRebalance")) {
      this.maybePrepareRebalanceOrCompleteJoin(
        shard,
        group,
        `removing member ${member.memberId} (${reason})`,
      );
    } else if (group.is("PreparingRebalance") && group.hasAllMembersJoined()) {
      this.completeJoinPhase(shard, group);
    }
  }

  private validateMember(group: ClassicGroup, memberId: string, instanceId: string | null): number {
    if (instanceId !== null) {
      const owner = group.staticMemberId(instanceId);
      if (owner === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (owner !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return group.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  // ------------------------------------------------------------------ SyncGroup

  async syncGroup(req: SyncRequest): Promise<SyncResult> {
    if (req.groupId === "") return syncError(ErrorCode.INVALID_GROUP_ID);
    let shard: Shard;
    try {
      shard = this.shardOf(req.groupId);
    } catch (err) {
      return syncError(errorCodeOf(err));
    }
    const group = shard.groups.get(req.groupId);
    if (!group || group.is("Empty")) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is("Dead")) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const invalid = this.validateMember(group, req.memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return syncError(invalid);
    if (req.generationId !== group.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    const inconsistent = (a: string | null, b: string | null): boolean => a !== null && b !== null && a !== b;
    if (
      inconsistent(req.protocolType, group.protocolType) ||
      inconsistent(req.protocolName, group.protocolName)
    ) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (group.is("PreparingRebalance")) return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    const member = group.member(req.memberId);
    if (group.is("Stable")) {
      this.removePendingSync(shard, group, req.memberId);
      return {
        errorCode: ErrorCode.NONE,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        assignment: member.assignment,
      };
    }
    // CompletingRebalance: park until the leader's assignment is stored.
    return new Promise<SyncResult>((respond) => {
      member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      member.awaitingSync = respond;
      this.removePendingSync(shard, group, req.memberId);
      if (!group.isLeader(req.memberId)) return;
      const assignment = new Map<string, Buffer>();
      for (const a of req.assignments) assignment.set(a.memberId, a.assignment);
      for (const id of group.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY_BYTES);
      this.logger.info("assignment received from the group leader", {
        group: group.groupId,
        generation: group.generationId,
        members: group.size,
      });
      this.guard(this.storeGroup(shard, group, assignment), (error) => {
        // Another member may have joined while the record was written; then this generation is over.
        if (!group.is("CompletingRebalance") || group.generationId !== req.generationId) return;
        if (error !== ErrorCode.NONE) {
          this.resetAndPropagateAssignment(shard, group, appendErrorToResponse(error, false));
          this.maybePrepareRebalanceOrCompleteJoin(
            shard,
            group,
            `storing the assignment failed (error ${error})`,
          );
          return;
        }
        for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_BYTES;
        this.propagateAssignment(shard, group, ErrorCode.NONE);
        group.transitionTo("Stable", this.clock.now());
        this.logger.info("group is stable", { group: group.groupId, generation: group.generationId });
      });
    });
  }

  private removePendingSync(shard: Shard, group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    const waitingForOthers =
      (group.is("CompletingRebalance") || group.is("Stable")) && group.pendingSyncMembers.size > 0;
    if (!waitingForOthers) this.timer.cancel(this.syncKey(shard, group.groupId));
  }

  private resetAndPropagateAssignment(shard: Shard, group: ClassicGroup, error: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_BYTES;
    this.propagateAssignment(shard, group, error);
  }

  private propagateAssignment(shard: Shard, group: ClassicGroup, error: number): void {
    const ok = error === ErrorCode.NONE;
    for (const m of group.members.values()) {
      const answered = group.completeSync(m, {
        errorCode: error,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      // Session deadlines that passed while the member waited were forgiven; start afresh.
      if (answered) this.rescheduleHeartbeat(shard, group, m);
    }
  }

  // ------------------------------------------------------------------ Heartbeat, LeaveGroup

  heartbeat(req: {
    groupId: string;
    memberId: string;
    groupInstanceId: string | null;
    generationId: number;
  }): number {
    if (req.groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const shard = this.shardOf(req.groupId);
    const group = shard.groups.get(req.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = this.validateMember(group, req.memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.member(req.memberId);
    switch (group.state) {
      case "PreparingRebalance":
        this.rescheduleHeartbeat(shard, group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case "CompletingRebalance":
      case "Stable":
        this.rescheduleHeartbeat(shard, group, member);
        return ErrorCode.NONE;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  leaveGroup(
    groupId: string,
    members: Array<{ memberId: string; groupInstanceId: string | null }>,
  ): {
    errorCode: number;
    members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
  } {
    if (groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const shard = this.shardOf(groupId);
    const group = shard.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] };
    if (group.is("Dead")) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results = members.map((identity) => {
      let errorCode: number = ErrorCode.NONE;
      if (identity.memberId === "") {
        // Administrative removal of a static member by its instance id alone.
        const id =
          identity.groupInstanceId !== null ? group.staticMemberId(identity.groupInstanceId) : undefined;
        if (id === undefined) errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        else this.removeLeavingMember(shard, group, id);
      } else if (group.isPendingMember(identity.memberId)) {
        group.remove(identity.memberId);
        this.timer.cancel(this.heartbeatKey(shard, groupId, identity.memberId));
      } else {
        errorCode = this.validateMember(group, identity.memberId, identity.groupInstanceId);
        if (errorCode === ErrorCode.NONE) this.removeLeavingMember(shard, group, identity.memberId);
      }
      return { ...identity, errorCode };
    });
    const left = results.filter((r) => r.errorCode === ErrorCode.NONE);
    if (left.length > 0) {
      this.logger.info("members left the group", {
        group: groupId,
        members: left.map((r) => r.memberId).join(","),
      });
      if (group.is("Stable") || group.is("CompletingRebalance")) {
        this.maybePrepareRebalanceOrCompleteJoin(shard, group, "members left the group");
      } else if (group.is("PreparingRebalance")) {
        this.maybeCompleteJoinPhase(shard, group);
      }
    }
    return { errorCode: ErrorCode.NONE, members: results };
  }

  private removeLeavingMember(shard: Shard, group: ClassicGroup, memberId: string): void {
    const member = group.member(memberId);
    this.timer.cancel(this.heartbeatKey(shard, group.groupId, memberId));
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ""));
    group.remove(memberId);
  }

  // ------------------------------------------------------------------ offsets

  /**
   * Commits offsets: checked against the group (ClassicGroup.validateOffsetCommit's
   * rules), made durable in __consumer_offsets, then visible to OffsetFetch. Partitions
   * the caller already found invalid (unknown topics) are passed with their error.
   */
  async commitOffsets(
    req: CommitRequest,
    apiVersion: number,
    invalid: (topic: string, partition: number) => number,
  ): Promise<PartitionErrors> {
    const all = (code: number): PartitionErrors =>
      req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
      }));
    if (req.groupId === "") return all(ErrorCode.INVALID_GROUP_ID);
    let shard: Shard;
    try {
      shard = this.shardOf(req.groupId);
    } catch (err) {
      return all(errorCodeOf(err));
    }
    let group = shard.groups.get(req.groupId);
    if (!group) {
      if (req.generationId >= 0)
        return all(apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      // Offsets committed without group management (assign() consumers, admin tools).
      group = new ClassicGroup(req.groupId, this.clock.now());
      shard.groups.set(req.groupId, group);
    }
    const invalidGroup = this.validateOffsetCommit(group, req);
    if (invalidGroup !== ErrorCode.NONE) return all(invalidGroup);
    // A commit keeps a classic member's session alive, as a heartbeat does.
    if ((group.is("Stable") || group.is("PreparingRebalance")) && group.has(req.memberId)) {
      this.rescheduleHeartbeat(shard, group, group.member(req.memberId));
    }
    const now = this.clock.now();
    const expireTimestamp = req.retentionTimeMs === -1 ? null : now + req.retentionTimeMs;
    const records: OffsetsTopicRecord[] = [];
    const accepted: Array<{ topic: string; partition: number; value: StoredOffset }> = [];
    const result: PartitionErrors = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode = invalid(t.name, p.partitionIndex);
        if (
          errorCode === ErrorCode.NONE &&
          p.committedMetadata !== null &&
          Buffer.byteLength(p.committedMetadata) > this.config.offsetMetadataMaxBytes
        ) {
          errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        }
        if (errorCode === ErrorCode.NONE) {
          const value: StoredOffset = {
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata ?? "",
            commitTimestamp: now,
            expireTimestamp,
          };
          accepted.push({ topic: t.name, partition: p.partitionIndex, value });
          records.push({
            type: "offset",
            group: req.groupId,
            topic: t.name,
            partition: p.partitionIndex,
            value: toOffsetValue(value),
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    }));
    if (records.length === 0) return result;
    const error = await this.append(shard, records);
    if (error !== ErrorCode.NONE) {
      const mapped = appendErrorToResponse(error, true);
      for (const t of result)
        for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE) p.errorCode = mapped;
      return result;
    }
    if (this.shards.get(shard.partition) === shard) {
      for (const a of accepted) shard.putOffset(req.groupId, a.topic, a.partition, a.value);
    }
    return result;
  }

  private validateOffsetCommit(group: ClassicGroup, req: CommitRequest): number {
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Generation -1 on an empty group: an admin or assign()-based commit.
    if (req.generationId < 0 && group.is("Empty")) return ErrorCode.NONE;
    if (req.generationId >= 0 || req.memberId !== "" || req.groupInstanceId !== null) {
      const invalid = this.validateMember(group, req.memberId, req.groupInstanceId);
      if (invalid !== ErrorCode.NONE) return invalid;
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is("Empty")) {
      // No member id and no generation (OffsetCommit v0) only works on an empty group.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member has its new generation but not its assignment yet.
    if (group.is("CompletingRebalance")) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** Committed offsets of a group: the given partitions (-1 where none), or all when topics is null. */
  fetchOffsets(
    groupId: string,
    topics: Array<{ name: string; partitionIndexes: number[] }> | null,
  ): FetchedOffsets {
    let shard: Shard;
    try {
      shard = this.shardOf(groupId);
    } catch (err) {
      return { errorCode: errorCodeOf(err), topics: [] };
    }
    const group = shard.groups.get(groupId);
    const known = group !== undefined && !group.is("Dead") ? shard.offsets.get(groupId) : undefined;
    const partition = (index: number, o: StoredOffset | undefined) => ({
      partitionIndex: index,
      committedOffset: o ? o.offset : -1n,
      committedLeaderEpoch: o ? o.leaderEpoch : -1,
      metadata: o ? o.metadata : "",
      errorCode: ErrorCode.NONE,
    });
    if (topics === null) {
      return {
        errorCode: ErrorCode.NONE,
        topics: [...(known ?? new Map<string, Map<number, StoredOffset>>())].map(([name, parts]) => ({
          name,
          partitions: [...parts].sort((a, b) => a[0] - b[0]).map(([index, o]) => partition(index, o)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((i) => partition(i, known?.get(t.name)?.get(i))),
      })),
    };
  }

  /** OffsetDelete: drops a group's offsets for topics it does not consume (groups must be empty here). */
  async deleteOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }>,
    invalid: (topic: string, partition: number) => number,
  ): Promise<{ errorCode: number; topics: PartitionErrors }> {
    const shard = this.shardOf(groupId);
    const group = shard.groups.get(groupId);
    if (!group || group.is("Dead")) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    if (!group.is("Empty")) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    const subscribed = group.subscribedTopics();
    const records: OffsetsTopicRecord[] = [];
    const result: PartitionErrors = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode = invalid(t.name, p);
        if (errorCode === ErrorCode.NONE && subscribed?.has(t.name))
          errorCode = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        if (errorCode === ErrorCode.NONE && shard.offsetOf(groupId, t.name, p)) {
          records.push({ type: "offset", group: groupId, topic: t.name, partition: p, value: null });
        }
        return { partitionIndex: p, errorCode };
      }),
    }));
    if (records.length > 0) {
      const error = await this.append(shard, records);
      if (error !== ErrorCode.NONE) return { errorCode: appendErrorToResponse(error, false), topics: [] };
      for (const r of records) if (r.type === "offset") shard.deleteOffset(groupId, r.topic, r.partition);
    }
    return { errorCode: ErrorCode.NONE, topics: result };
  }

  // ------------------------------------------------------------------ admin

  listGroups(statesFilter: string[], typesFilter: string[]): ListedGroup[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const out: ListedGroup[] = [];
    for (const shard of this.shards.values()) {
      if (shard.loading) continue;
      for (const g of shard.groups.values()) {
        if (g.is("Dead")) continue;
        if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
        if (types.size > 0 && !types.has("classic")) continue;
        out.push({
          groupId: g.groupId,
          protocolType: g.protocolType ?? "",
          groupState: g.state,
          groupType: "classic",
        });
      }
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  describeGroup(groupId: string): DescribedGroup {
    const dead = (errorCode: number, state: GroupState | ""): DescribedGroup => ({
      errorCode,
      groupId,
      groupState: state,
      protocolType: "",
      protocolData: "",
      members: [],
    });
    let shard: Shard;
    try {
      shard = this.shardOf(groupId);
    } catch (err) {
      return dead(errorCodeOf(err), "");
    }
    const g = shard.groups.get(groupId);
    if (!g) return dead(ErrorCode.NONE, "Dead");
    // Member metadata (subscriptions) is only meaningful once the generation's protocol is settled.
    const stable = g.is("Stable");
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType ?? "",
      protocolData: stable ? (g.protocolName ?? "") : "",
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(g.protocolName) : EMPTY_BYTES,
        memberAssignment: m.assignment,
      })),
    };
  }

  /** DeleteGroups: an empty group and all its offsets go (tombstones), or an error says why not. */
  async deleteGroup(groupId: string): Promise<number> {
    let shard: Shard;
    try {
      shard = this.shardOf(groupId);
    } catch (err) {
      return errorCodeOf(err);
    }
    const group = shard.groups.get(groupId);
    if (!group || group.is("Dead")) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is("Empty")) return ErrorCode.NON_EMPTY_GROUP;
    const records: OffsetsTopicRecord[] = [];
    for (const [topic, parts] of shard.offsets.get(groupId) ?? []) {
      for (const partition of parts.keys())
        records.push({ type: "offset", group: groupId, topic, partition, value: null });
    }
    records.push({ type: "group", group: groupId, value: null });
    const error = await this.append(shard, records);
    if (error !== ErrorCode.NONE) return appendErrorToResponse(error, false);
    this.removeGroup(shard, group);
    this.logger.info("deleted group", { group: groupId, offsets: records.length - 1 });
    return ErrorCode.NONE;
  }

  private removeGroup(shard: Shard, group: ClassicGroup): void {
    if (shard.groups.get(group.groupId) !== group) return;
    group.transitionTo("Dead", this.clock.now());
    shard.groups.delete(group.groupId);
    shard.offsets.delete(group.groupId);
    this.timer.cancel(this.joinKey(shard, group.groupId));
    this.timer.cancel(this.syncKey(shard, group.groupId));
  }

  /**
   * Offsets retention (offsets.retention.minutes): an empty group's offsets expire that
   * long after it became empty, a simple group's that long after each commit, a commit
   * with its own retention time at its expiry; offsets of topics a stable consumer group
   * no longer subscribes to expire by commit time. A group left with no offsets and no
   * members is deleted. Expiry writes tombstones, as Kafka does, so compaction forgets them.
   */
  private async expireOffsets(shard: Shard): Promise<void> {
    if (this.shards.get(shard.partition) !== shard || shard.loading) return;
    const now = this.clock.now();
    const retention = this.config.offsetsRetentionMs;
    const records: OffsetsTopicRecord[] = [];
    const deadGroups: ClassicGroup[] = [];
    for (const group of shard.groups.values()) {
      const offsets = shard.offsets.get(group.groupId);
      let allExpired = true;
      if (offsets) {
        let base: ((o: StoredOffset) => number) | null = null;
        const subscribed = group.subscribedTopics();
        if (group.protocolType === null) base = (o) => o.commitTimestamp;
        else if (group.is("Empty")) base = (o) => group.stateTimestamp ?? o.commitTimestamp;
        else if (group.protocolType === "consumer" && subscribed !== null && group.is("Stable")) {
          base = (o) => o.commitTimestamp;
        }
        if (base === null) {
          allExpired = false;
        } else {
          for (const [topic, parts] of offsets) {
            if (subscribed?.has(topic)) {
              allExpired = false;
              continue;
            }
            for (const [partition, o] of parts) {
              const expired =
                o.expireTimestamp !== null ? now >= o.expireTimestamp : now - base(o) >= retention;
              if (expired)
                records.push({ type: "offset", group: group.groupId, topic, partition, value: null });
              else allExpired = false;
            }
          }
        }
      }
      if (allExpired && group.is("Empty") && group.pendingJoinMembers.size === 0) {
        records.push({ type: "group", group: group.groupId, value: null });
        deadGroups.push(group);
      }
    }
    if (records.length === 0) return;
    const error = await this.append(shard, records);
    if (error !== ErrorCode.NONE) {
      this.logger.warn("writing expired-offset tombstones failed", { partition: shard.partition, error });
      return;
    }
    let expired = 0;
    for (const r of records) {
      if (r.type === "offset") {
        shard.deleteOffset(r.group, r.topic, r.partition);
        expired++;
      }
    }
    // A group that gained members or offsets while the tombstones were written stays.
    for (const g of deadGroups)
      if (g.is("Empty") && !shard.offsets.has(g.groupId)) this.removeGroup(shard, g);
    this.logger.info("expired committed offsets", {
      partition: shard.partition,
      offsets: expired,
      groups: deadGroups.length,
    });
  }

  /** Runs the retention check of every loaded partition now (tests and tools). */
  async expireAllOffsets(): Promise<void> {
    for (const shard of [...this.shards.values()]) await this.expireOffsets(shard);
  }

  // ------------------------------------------------------------------ persistence

  /** Writes the group's metadata record (its generation, members and their assignments). */
  private storeGroup(shard: Shard, group: ClassicGroup, assignment: Map<string, Buffer>): Promise<number> {
    const value: GroupMetadataValue = {
      protocolType: group.protocolType ?? "",
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: BigInt(group.stateTimestamp ?? this.clock.now()),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(group.protocolName),
        assignment: assignment.get(m.memberId) ?? EMPTY_BYTES,
      })),
    };
    return this.append(shard, [{ type: "group", group: group.groupId, value }]);
  }

  /** Appends records as one batch; resolves with the error code (NONE once committed). */
  private async append(shard: Shard, records: OffsetsTopicRecord[]): Promise<number> {
    if (this.shards.get(shard.partition) !== shard) return ErrorCode.NOT_COORDINATOR;
    const now = BigInt(this.clock.now());
    const batch = buildRecordBatch({
      records: records.map((r) => {
        const { key, value } = encodeOffsetsTopicRecord(r);
        return { key, value };
      }),
      compression: this.config.compression,
      timestamp: now,
    });
    try {
      await this.log.append(shard.partition, batch);
      return ErrorCode.NONE;
    } catch (err) {
      this.logger.warn("appending to __consumer_offsets failed", {
        partition: shard.partition,
        error: errorMessageOf(err),
      });
      return errorCodeOf(err);
    }
  }
}

function toOffsetValue(o: StoredOffset): OffsetCommitValue {
  return {
    offset: o.offset,
    leaderEpoch: o.leaderEpoch,
    metadata: o.metadata,
    commitTimestamp: BigInt(o.commitTimestamp),
    expireTimestamp: o.expireTimestamp === null ? -1n : BigInt(o.expireTimestamp),
  };
}
