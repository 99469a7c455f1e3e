// What a partition leader knows of its followers (Kafka's Partition.scala, the
// leader's half): each follower's log end offset as its fetches report it, and when it
// was last caught up. From that come the high watermark (the smallest log end offset
// in the ISR: every in-sync replica has everything below it), followers that may join
// the ISR (caught up to the high watermark and into the leader's epoch) and in-sync
// followers that lag too long (replica.lag.time.max.ms) and must leave it. ISR changes
// go to the controller (AlterPartition); until one is committed the leader counts the
// larger of the old and proposed ISR for the high watermark, so it never gets ahead of
// what the committed ISR holds.

export interface FollowerProgress {
  id: number;
  /** The follower's log end offset (its last fetch offset); -1 until it fetches in this epoch. */
  logEndOffset: number;
  lastFetchMs: number;
  /** The last time the follower had everything the leader had (ms); the leader's start time until then. */
  lastCaughtUpMs: number;
  /** The leader's log end offset at the follower's previous fetch. */
  leaderEndAtLastFetch: number;
  lastFetchAtMs: number;
}

export class LeaderReplicaState {
  readonly localId: number;
  /** The first offset of the leader's epoch: a follower joins the ISR only once past it. */
  readonly epochStartOffset: number;
  private followers = new Map<number, FollowerProgress>();
  private committedIsr: number[];
  private proposedIsr: number[] | null = null;

  constructor(
    localId: number,
    replicas: readonly number[],
    isr: readonly number[],
    epochStartOffset: number,
    now: number,
  ) {
    this.localId = localId;
    this.epochStartOffset = epochStartOffset;
    this.committedIsr = [...isr];
    this.setReplicas(replicas, now);
  }

  /** The ISR the metadata records. */
  get isr(): readonly number[] {
    return this.committedIsr;
  }

  /** An AlterPartition is in flight with this ISR. */
  get pendingIsr(): readonly number[] | null {
    return this.proposedIsr;
  }

  /** The replica set or ISR changed in the metadata (it also answers any proposal in flight). */
  updateFromMetadata(replicas: readonly number[], isr: readonly number[], now: number): void {
    this.committedIsr = [...isr];
    this.proposedIsr = null;
    this.setReplicas(replicas, now);
  }

  private setReplicas(replicas: readonly number[], now: number): void {
    const next = new Map<number, FollowerProgress>();
    for (const id of replicas) {
      if (id === this.localId) continue;
      next.set(
        id,
        this.followers.get(id) ?? {
          id,
          logEndOffset: -1,
          lastFetchMs: -1,
          lastCaughtUpMs: now,
          leaderEndAtLastFetch: -1,
          lastFetchAtMs: -1,
        },
      );
    }
    this.followers = next;
  }

  propose(isr: readonly number[]): void {
    this.proposedIsr = [...isr];
  }

  /** The AlterPartition failed: the committed ISR stands. */
  abandonProposal(): void {
    this.proposedIsr = null;
  }

  follower(id: number): FollowerProgress | undefined {
    return this.followers.get(id);
  }

  allFollowers(): FollowerProgress[] {
    return [...this.followers.values()];
  }

  /**
   * A follower fetched from `fetchOffset` (it holds everything below). It is caught up
   * if that reaches the leader's end now, or the leader's end at its previous fetch
   * (it then was caught up when that fetch was answered).
   */
  onFollowerFetch(id: number, fetchOffset: number, leaderEnd: number, now: number): boolean {
    const f = this.followers.get(id);
    if (!f) return false;
    f.logEndOffset = fetchOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpMs = now;
    else if (f.leaderEndAtLastFetch >= 0 && fetchOffset >= f.leaderEndAtLastFetch)
      f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchAtMs);
    f.leaderEndAtLastFetch = leaderEnd;
    f.lastFetchAtMs = now;
    f.lastFetchMs = now;
    return true;
  }

  /** The ISR the high watermark counts: the committed one plus members being added. */
  private maximalIsr(): number[] {
    if (!this.proposedIsr) return this.committedIsr;
    return [...new Set([...this.committedIsr, ...this.proposedIsr])];
  }

  /** The smallest log end offset among the (maximal) ISR; the leader's own end for itself. */
  highWatermark(leaderEnd: number): number {
    let hw = leaderEnd;
    for (const id of this.maximalIsr()) {
      if (id === this.localId) continue;
      const f = this.followers.get(id);
      hw = Math.min(hw, f ? f.logEndOffset : -1);
    }
    return hw;
  }

  /** Followers out of the ISR that may join it: caught up to `hw` and into this leader's epoch. */
  readyToJoin(hw: number): number[] {
    const isr = new Set(this.maximalIsr());
    return this.allFollowers()
      .filter(
        (f) =>
          !isr.has(f.id) &&
          f.logEndOffset >= 0 &&
          f.logEndOffset >= hw &&
          f.logEndOffset >= this.epochStartOffset,
      )
      .map((f) => f.id);
  }

  /** In-sync followers that have not caught up for longer than `lagMs`. */
  laggingInSync(now: number, lagMs: number): number[] {
    return this.committedIsr.filter((id) => {
      if (id === this.localId) return false;
      const f = this.followers.get(id);
      return !f || now - f.lastCaughtUpMs > lagMs;
    });
  }
}
