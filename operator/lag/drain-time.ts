// Estimated time for a group to consume its whole backlog at the rates of the status
// window: total lag / (consume rate − produce rate), each rate the sum over the group's
// partitions of (change over the window) / (window duration). 0 when there is no lag,
// +Inf when the backlog is not shrinking (the alert "will it ever catch up" fires on
// that), null (no series) without two observations to take rates from.
import type { Observation } from "./group-status.ts";

export function timeToDrainSeconds(windows: Iterable<readonly Observation[]>): number | null {
  let lag = 0;
  let consumeRate = 0;
  let produceRate = 0;
  let rated = false;
  for (const w of windows) {
    const last = w.at(-1);
    if (!last) continue;
    lag += last.lag;
    const first = w[0];
    const seconds = (last.time - first.time) / 1000;
    if (seconds <= 0) continue;
    rated = true;
    // A rewind is not consumption: count it as none rather than as negative progress.
    consumeRate += Math.max(0, last.committed - first.committed) / seconds;
    produceRate += Math.max(0, last.highWatermark - first.highWatermark) / seconds;
  }
  if (lag === 0) return 0;
  if (!rated) return null;
  const net = consumeRate - produceRate;
  return net > 0 ? lag / net : Infinity;
}
