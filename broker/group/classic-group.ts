// A classic (JoinGroup/SyncGroup) consumer group as Kafka's group coordinator keeps it:
// its state, generation, chosen protocol, leader and members, plus the bookkeeping of a
// rebalance in flight (who has rejoined, who still owes a SyncGroup, members that were
// handed an id but have not joined with it yet). This module holds the data and its
// invariants; the transitions driven by requests and timeouts live in coordinator.ts.
//
// States (DescribeGroups prints these exact names):
//   Empty               no members; offsets may still be committed (simple consumers, admin)
//   PreparingRebalance  waiting for members to (re)join; JoinGroup responses are held
//   CompletingRebalance joined; waiting for the leader's assignment in SyncGroup
//   Stable              assignment handed out; members heartbeat
//   Dead                removed (deleted, or its partition unloaded)

import { ErrorCode } from "../errors.ts";

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

/** Which states each state may be entered from (Kafka's ClassicGroupState rules). */
const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ["PreparingRebalance"],
  PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
};

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  skipAssignment: boolean;
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export function joinError(errorCode: number, memberId: string): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: "",
    memberId,
    skipAssignment: false,
    members: [],
  };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class Member {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  protocols: Protocol[];
  assignment: Buffer = EMPTY_BYTES;
  /** Set while the member's JoinGroup response is held. */
  awaitingJoin: ((r: JoinResult) => void) | null = null;
  /** Set while the member's SyncGroup response is held. */
  awaitingSync: ((r: SyncResult) => void) | null = null;
  /** Joined in the current rebalance: its session is not yet kept alive by heartbeats. */
  isNew = false;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: Protocol[];
    assignment?: Buffer;
  }) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
    if (init.assignment) this.assignment = init.assignment;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  /** The member's metadata for a protocol (its subscription, for consumers). */
  metadata(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_BYTES;
  }

  /** Same protocols, same order, same metadata: a rejoin that changes nothing. */
  matches(protocols: Protocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every(
        (p, i) => p.name === this.protocols[i].name && p.metadata.equals(this.protocols[i].metadata),
      )
    );
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.protocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return p.name;
  }

  /**
   * Whether a session deadline passing should be forgiven: members parked in a join or
   * sync are alive by definition, except those new in this rebalance (they may be gone).
   */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.awaitingJoin !== null || this.awaitingSync !== null;
  }
}

export class ClassicGroup {
  readonly groupId: string;
  state: GroupState;
  previousState: GroupState;
  /** When the group entered its current state (ms); null for groups loaded from old records. */
  stateTimestamp: number | null;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  readonly members = new Map<string, Member>();
  /** group.instance.id -> member id of the static member holding it. */
  readonly staticMembers = new Map<string, string>();
  /** Ids handed out with MEMBER_ID_REQUIRED whose owners have not joined yet. */
  readonly pendingJoinMembers = new Set<string>();
  /** Members that have not sent SyncGroup for the current generation. */
  readonly pendingSyncMembers = new Set<string>();
  /** How many members support each protocol (a protocol all members support is a candidate). */
  private readonly supportedProtocols = new Map<string, number>();
  private awaitingJoinCount = 0;
  /** A member joined during the initial rebalance delay, which therefore extends. */
  newMemberAdded = false;

  constructor(
    groupId: string,
    now: number,
    init?: {
      state: GroupState;
      generationId: number;
      protocolType: string | null;
      protocolName: string | null;
      leaderId: string | null;
      stateTimestamp: number | null;
    },
  ) {
    this.groupId = groupId;
    this.state = init?.state ?? "Empty";
    this.previousState = this.state;
    this.stateTimestamp = init ? init.stateTimestamp : now;
    this.generationId = init?.generationId ?? 0;
    this.protocolType = init?.protocolType ?? null;
    this.protocolName = init?.protocolName ?? null;
    this.leaderId = init?.leaderId ?? null;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!VALID_PREVIOUS[state].includes(this.state)) {
      throw new Error(`group ${this.groupId} cannot move from ${this.state} to ${state}`);
    }
    this.previousState = this.state;
    this.state = state;
    this.stateTimestamp = now;
  }

  /** A rebalance can start from Empty, Stable and CompletingRebalance. */
  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  member(memberId: string): Member {
    const m = this.members.get(memberId);
    if (!m) throw new Error(`no member ${memberId} in group ${this.groupId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get size(): number {
    return this.members.size;
  }

  get numAwaitingJoin(): number {
    return this.awaitingJoinCount;
  }

  /** The largest rebalance timeout among members: how long a rebalance waits for rejoins. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  add(member: Member, awaitingJoin: ((r: JoinResult) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`instance ${member.groupInstanceId} is already a member of ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, 1);
    member.awaitingJoin = awaitingJoin;
    if (awaitingJoin) this.awaitingJoinCount++;
    this.pendingJoinMembers.delete(member.memberId);
  }

  remove(memberId: string): void {
    const m = this.members.get(memberId);
    if (m) {
      this.members.delete(memberId);
      this.countProtocols(m, -1);
      if (m.awaitingJoin) this.awaitingJoinCount--;
      if (m.groupInstanceId !== null) this.staticMembers.delete(m.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.pendingJoinMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  /** Changes a member's protocols and timeouts on rejoin; `awaitingJoin` parks (or unparks) its JoinGroup. */
  updateMember(
    member: Member,
    protocols: Protocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    awaitingJoin: ((r: JoinResult) => void) | null,
  ): void {
    this.countProtocols(member, -1);
    member.protocols = protocols;
    this.countProtocols(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (awaitingJoin && !member.awaitingJoin) this.awaitingJoinCount++;
    else if (!awaitingJoin && member.awaitingJoin) this.awaitingJoinCount--;
    member.awaitingJoin = awaitingJoin;
  }

  /** Answers a member's held JoinGroup; false if none was held. */
  completeJoin(member: Member, result: JoinResult): boolean {
    const resolve = member.awaitingJoin;
    if (!resolve) return false;
    member.awaitingJoin = null;
    this.awaitingJoinCount--;
    resolve(result);
    return true;
  }

  /** Answers a member's held SyncGroup; false if none was held. */
  completeSync(member: Member, result: SyncResult): boolean {
    const resolve = member.awaitingSync;
    if (!resolve) return false;
    member.awaitingSync = null;
    resolve(result);
    return true;
  }

  /**
   * A static member rejoined with a new member id: the old id is fenced (its held
   * requests answered FENCED_INSTANCE_ID) and the member continues under the new id,
   * keeping its assignment and leadership.
   */
  replaceStaticMember(instanceId: string, oldMemberId: string, newMemberId: string): Member {
    const old = this.members.get(oldMemberId);
    if (!old) throw new Error(`cannot replace unknown member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    // The old id's held requests are answered now (the count of parked joins drops with it).
    this.completeJoin(old, joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    this.completeSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    const replacement = new Member({
      memberId: newMemberId,
      groupInstanceId: old.groupInstanceId,
      clientId: old.clientId,
      clientHost: old.clientHost,
      rebalanceTimeoutMs: old.rebalanceTimeoutMs,
      sessionTimeoutMs: old.sessionTimeoutMs,
      protocolType: old.protocolType,
      protocols: old.protocols,
      assignment: old.assignment,
    });
    this.members.set(newMemberId, replacement);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(instanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return replacement;
  }

  staticMemberId(instanceId: string): string | undefined {
    return this.staticMembers.get(instanceId);
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingJoinMembers.has(memberId);
  }

  /** Every member has rejoined and no handed-out id is still outstanding. */
  hasAllMembersJoined(): boolean {
    return this.members.size === this.awaitingJoinCount && this.pendingJoinMembers.size === 0;
  }

  notYetRejoined(): Member[] {
    return [...this.members.values()].filter((m) => m.awaitingJoin === null);
  }

  /**
   * Before a new generation: keeps the leader if it rejoined, else promotes a member
   * that did. False when nobody has rejoined (the rebalance has to wait longer).
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader && leader.awaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Protocols every member supports. */
  private candidateProtocols(): Set<string> {
    const out = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === this.members.size) out.add(name);
    return out;
  }

  /** The protocol for the next generation: each member votes for its first candidate; most votes wins. */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best = "";
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /**
   * Whether a member with this protocol type and these protocols could join: any
   * non-empty set for an empty group; otherwise the same type and at least one
   * protocol every current member supports.
   */
  supportsProtocols(protocolType: string, protocols: Protocol[]): boolean {
    if (this.is("Empty")) return protocolType !== "" && protocols.length > 0;
    return (
      this.protocolType === protocolType &&
      protocols.some((p) => (this.supportedProtocols.get(p.name) ?? 0) === this.members.size)
    );
  }

  /** Starts the next generation: CompletingRebalance with a chosen protocol, or Empty. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo("CompletingRebalance", now);
    } else {
      this.protocolName = null;
      this.transitionTo("Empty", now);
    }
    this.pendingSyncMembers.clear();
  }

  /** The member list the leader receives in its JoinGroup response. */
  joinedMembers(): JoinResult["members"] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(this.protocolName),
    }));
  }

  /** Topics the members subscribe to (consumer groups only), or null when unknown. */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== "consumer") return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const out = new Set<string>();
    for (const m of this.members.values()) {
      const topics = subscriptionTopics(m.metadata(this.protocolName));
      if (topics === null) return null;
      for (const t of topics) out.add(t);
    }
    return out;
  }

  private countProtocols(member: Member, delta: 1 | -1): void {
    for (const p of member.protocols) {
      this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + delta);
    }
  }
}

/**
 * The topics of a ConsumerProtocolSubscription (int16 version, then an int32 count of
 * int16-length strings, a prefix every version shares), or null if it does not parse.
 */
export function subscriptionTopics(metadata: Buffer): string[] | null {
  try {
    let pos = 2;
    const n = metadata.readInt32BE(pos);
    pos += 4;
    if (n < 0 || n > metadata.length) return null;
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = metadata.readInt16BE(pos);
      pos += 2;
      if (len < 0 || pos + len > metadata.length) return null;
      out.push(metadata.toString("utf8", pos, pos + len));
      pos += len;
    }
    return out;
  } catch {
    return null;
  }
}
