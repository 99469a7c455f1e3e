// The fallback estimate of time lag, for partitions whose record at the committed offset
// could not be read (no READ ACL, deleted by retention, fetch failed or over budget).
//
// Every poll records the high watermark it saw and when. A point (o, first, last) says
// "the high watermark was o from `first` until at least `last`": record o−1 existed by
// `first`, record o did not exist yet at `last`. The record at committed offset c was
// therefore written after the last time the watermark was ≤ c and no later than the
// first time it was > c; between those two points the write time is interpolated
// linearly. Nothing is ever extrapolated (kafka-lag-exporter's "3 years", its issue
// #496): when c is older than the whole table, the answer is the lower bound
// now − (first time the watermark was seen above c), labelled as such.
export interface TablePoint {
  offset: number;
  firstSeen: number;
  lastSeen: number;
}

export interface TimeLagEstimate {
  seconds: number;
  source: "interpolated" | "lower_bound";
}

export class OffsetTimeTable {
  private points: TablePoint[] = [];
  private readonly maxPoints: number;

  constructor(maxPoints = 120) {
    if (maxPoints < 2) throw new Error("an offset/time table needs at least 2 points");
    this.maxPoints = maxPoints;
  }

  /** Records that the high watermark was `offset` at `time` (ms). */
  add(offset: number, time: number): void {
    const last = this.points.at(-1);
    if (last && time < last.lastSeen) return; // out of order: keep the table monotonic
    if (last && offset < last.offset) {
      // The log went backwards (topic recreated, unclean truncation): old points lie.
      this.points = [];
    } else if (last && offset === last.offset) {
      last.lastSeen = time;
      return;
    }
    this.points.push({ offset, firstSeen: time, lastSeen: time });
    if (this.points.length > this.maxPoints) this.points.splice(0, this.points.length - this.maxPoints);
  }

  /** When the record at `committed` was written, estimated; null when the table cannot say. */
  lookup(committed: number, now: number): TimeLagEstimate | null {
    let before: TablePoint | undefined; // last point with offset ≤ committed
    let after: TablePoint | undefined; // first point with offset > committed
    for (const p of this.points) {
      if (p.offset <= committed) before = p;
      else {
        after = p;
        break;
      }
    }
    if (!after) return null; // committed is at or past everything seen: no lag to estimate
    if (!before) return { seconds: Math.max(0, (now - after.firstSeen) / 1000), source: "lower_bound" };
    // Record `committed` appeared when the watermark passed committed + 1.
    const fraction = (committed + 1 - before.offset) / (after.offset - before.offset);
    const written = before.lastSeen + fraction * (after.firstSeen - before.lastSeen);
    return { seconds: Math.max(0, (now - written) / 1000), source: "interpolated" };
  }

  get size(): number {
    return this.points.length;
  }

  /** A copy, for tests and debugging. */
  snapshot(): TablePoint[] {
    return this.points.map((p) => ({ ...p }));
  }
}
