// Burrow-style consumer status, evaluated in-process over a sliding window of polls.
//
// Burrow reads commits from __consumer_offsets and knows when each commit happened;
// OffsetFetch does not say, so STOP and STALL are told apart here by whether the group
// still has members. Per partition, over the last `window` observations (oldest first),
// the first rule that matches wins:
//
//   1. OK      current lag ≤ allowedLag.
//   2. REWIND  the committed offset is below a value it had earlier in the window.
//   3. OK      fewer than `window` observations yet (not enough history to judge).
//   4. OK      lag was ≤ allowedLag at some point in the window (caught up recently).
//   5. STOP    the committed offset did not move in the whole window and the group has
//              no members: nobody is consuming.
//      STALL   the committed offset did not move in the whole window although the group
//              has members: consumers are there but make no progress.
//   6. WARN    the offset moved, but the lag never decreased from one observation to the
//              next and ends higher than it started: consumers fall behind.
//   7. OK      otherwise.
//
// Group status: ERR when the group's offsets or description could not be read in the
// last poll, or any partition is REWIND (Burrow folds rewinds into its group ERR too);
// else the worst partition status, STOP > STALL > WARN > OK.
export interface Observation {
  /** Poll time, ms since the epoch. */
  time: number;
  committed: number;
  highWatermark: number;
  /** max(0, highWatermark − committed). */
  lag: number;
}

export type PartitionStatus = "OK" | "WARN" | "STALL" | "STOP" | "REWIND";
export type GroupStatus = "OK" | "WARN" | "STALL" | "STOP" | "ERR";
export const GROUP_STATUSES: readonly GroupStatus[] = ["OK", "WARN", "STALL", "STOP", "ERR"];

export interface StatusRules {
  /** Observations a partition needs before it can be WARN, STALL or STOP. */
  window: number;
  /** Lag at or below which a partition counts as caught up. */
  allowedLag: number;
}

export const DEFAULT_STATUS_RULES: StatusRules = { window: 10, allowedLag: 0 };

/** `observations`: the partition's history, oldest first; only the last `window` count. */
export function partitionStatus(
  observations: readonly Observation[],
  hasMembers: boolean,
  rules: StatusRules = DEFAULT_STATUS_RULES,
): PartitionStatus {
  const w = observations.slice(-rules.window);
  const current = w.at(-1);
  if (!current || current.lag <= rules.allowedLag) return "OK";
  let highest = -Infinity;
  for (const o of w.slice(0, -1)) highest = Math.max(highest, o.committed);
  if (current.committed < highest) return "REWIND";
  if (w.length < rules.window) return "OK";
  if (w.some((o) => o.lag <= rules.allowedLag)) return "OK";
  const first = w[0];
  if (w.every((o) => o.committed === first.committed)) return hasMembers ? "STALL" : "STOP";
  let neverDecreased = true;
  for (let i = 1; i < w.length; i++) if (w[i].lag < w[i - 1].lag) neverDecreased = false;
  if (neverDecreased && current.lag > first.lag) return "WARN";
  return "OK";
}

const SEVERITY: Record<GroupStatus, number> = { OK: 0, WARN: 1, STALL: 2, STOP: 3, ERR: 4 };

export function groupStatus(partitions: Iterable<PartitionStatus>, readError: boolean): GroupStatus {
  if (readError) return "ERR";
  let worst: GroupStatus = "OK";
  for (const p of partitions) {
    const s: GroupStatus = p === "REWIND" ? "ERR" : p;
    if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  }
  return worst;
}
