// What the leader knows of each replica of the metadata log: how far each voter's log
// matches its own (the fetch offset of its last valid Fetch) and when it last fetched,
// plus the observers (brokers) for DescribeQuorum. The high watermark is the largest
// offset a majority of voters hold, and it only moves once that offset is past the
// start of the leader's own epoch: an entry of an earlier epoch is committed only
// together with one of the current epoch (Raft's commitment rule, which the
// LeaderChangeMessage at the epoch start satisfies quickly).
import { majority } from "./voters.ts";

export interface ReplicaProgress {
  id: number;
  /** The replica's log matches the leader's below this offset; -1 until it fetches. */
  endOffset: number;
  /** When the replica last fetched (ms), -1 never. */
  lastFetchMs: number;
  /** The last time the replica's fetch reached the leader's log end (ms), -1 never. */
  lastCaughtUpMs: number;
}

export class LeaderProgress {
  readonly leaderId: number;
  readonly epochStartOffset: number;
  private readonly voters = new Map<number, ReplicaProgress>();
  private readonly observers = new Map<number, ReplicaProgress>();
  private hw: number;
  /** When the leadership began: voters get a full window from then to start fetching. */
  private readonly sinceMs: number;

  constructor(
    leaderId: number,
    voterIds: Iterable<number>,
    epochStartOffset: number,
    highWatermark: number,
    now: number,
  ) {
    this.leaderId = leaderId;
    this.epochStartOffset = epochStartOffset;
    this.hw = highWatermark;
    this.sinceMs = now;
    for (const id of voterIds)
      this.voters.set(id, { id, endOffset: -1, lastFetchMs: -1, lastCaughtUpMs: -1 });
  }

  get highWatermark(): number {
    return this.hw;
  }

  isVoter(id: number): boolean {
    return this.voters.has(id);
  }

  /** The leader's own log end moved (after a durable append). Returns whether the HW advanced. */
  updateLocal(endOffset: number, now: number): boolean {
    const me = this.voters.get(this.leaderId)!;
    me.endOffset = endOffset;
    me.lastFetchMs = now;
    me.lastCaughtUpMs = now;
    return this.maybeAdvance();
  }

  /** A replica fetched from `fetchOffset` (validated); returns whether the HW advanced. */
  updateReplica(id: number, fetchOffset: number, leaderEndOffset: number, now: number): boolean {
    let p = this.voters.get(id);
    if (!p) {
      p = this.observers.get(id) ?? { id, endOffset: -1, lastFetchMs: -1, lastCaughtUpMs: -1 };
      this.observers.set(id, p);
    }
    p.endOffset = Math.max(p.endOffset, fetchOffset);
    p.lastFetchMs = now;
    if (fetchOffset >= leaderEndOffset) p.lastCaughtUpMs = now;
    return this.voters.has(id) && this.maybeAdvance();
  }

  private maybeAdvance(): boolean {
    const offsets = [...this.voters.values()].map((p) => p.endOffset).sort((a, b) => b - a);
    const candidate = offsets[majority(this.voters.size) - 1];
    if (candidate > this.epochStartOffset && candidate > this.hw) {
      this.hw = candidate;
      return true;
    }
    return false;
  }

  /** Whether a majority of voters (the leader counts) fetched within `windowMs` (check quorum). */
  hasQuorumContact(now: number, windowMs: number): boolean {
    let n = 0;
    for (const p of this.voters.values()) {
      if (p.id === this.leaderId || now - Math.max(p.lastFetchMs, this.sinceMs) <= windowMs) n++;
    }
    return n >= majority(this.voters.size);
  }

  /** Whether voter `id` fetched in this epoch (BeginQuorumEpoch need not be resent then). */
  hasFetched(id: number): boolean {
    return (this.voters.get(id)?.lastFetchMs ?? -1) >= 0;
  }

  voterProgress(): ReplicaProgress[] {
    return [...this.voters.values()].sort((a, b) => a.id - b.id);
  }

  observerProgress(): ReplicaProgress[] {
    return [...this.observers.values()].sort((a, b) => a.id - b.id);
  }

  /** Voters other than the leader, most caught up first (successors when resigning). */
  preferredSuccessors(): number[] {
    return [...this.voters.values()]
      .filter((p) => p.id !== this.leaderId)
      .sort((a, b) => b.endOffset - a.endOffset || a.id - b.id)
      .map((p) => p.id);
  }
}
