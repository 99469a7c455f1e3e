// How the controller changes a partition (KRaft's PartitionChangeBuilder): given a
// target ISR and replica set, choose the leader and produce the PartitionChangeRecord
// that says only what changed. The leader stays if it is still in the ISR and able to
// lead; otherwise the first able replica, in replica order, that is in the ISR takes
// over. A preferred election tries the first replica first. With no able replica in
// the ISR the partition goes offline (leader -1) unless unclean election is allowed:
// then the first able replica outside it leads, with itself as the whole ISR (it may
// lack acknowledged records; that is the trade unclean.leader.election.enable makes).
import type { PartitionChangeRecord } from "../../protocol/generated/metadata/PartitionChangeRecord.ts";
import type { PartitionState } from "./image.ts";

/** PartitionChangeRecord's "no change" marker for the leader field. */
export const NO_LEADER_CHANGE = -2;
export const NO_LEADER = -1;

export type Election = "keep-if-possible" | "preferred";

export interface PartitionChangeTarget {
  isr?: readonly number[];
  replicas?: readonly number[];
  addingReplicas?: readonly number[];
  removingReplicas?: readonly number[];
}

export interface ElectionRules {
  /** Whether a broker may lead: registered, unfenced, not shutting down. */
  canLead(brokerId: number): boolean;
  /** unclean.leader.election.enable for this topic. */
  uncleanAllowed: boolean;
  election?: Election;
}

export interface ElectionOutcome {
  leader: number;
  isr: number[];
  unclean: boolean;
}

/** The leader and ISR the target leads to. */
export function electLeader(
  p: PartitionState,
  target: PartitionChangeTarget,
  rules: ElectionRules,
): ElectionOutcome {
  const isr = [...(target.isr ?? p.isr)];
  const replicas = target.replicas ?? p.replicas;
  const eligible = (b: number) => isr.includes(b) && replicas.includes(b) && rules.canLead(b);
  if (rules.election === "preferred" && replicas.length > 0 && eligible(replicas[0])) {
    return { leader: replicas[0], isr, unclean: false };
  }
  if (p.leader >= 0 && eligible(p.leader)) return { leader: p.leader, isr, unclean: false };
  const clean = replicas.find(eligible);
  if (clean !== undefined) return { leader: clean, isr, unclean: false };
  if (rules.uncleanAllowed) {
    const unclean = replicas.find((b) => rules.canLead(b));
    if (unclean !== undefined) return { leader: unclean, isr: [unclean], unclean: true };
  }
  return { leader: NO_LEADER, isr, unclean: false };
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The record for the change, or null if it changes nothing. */
export function buildPartitionChange(
  p: PartitionState,
  target: PartitionChangeTarget,
  rules: ElectionRules,
): PartitionChangeRecord | null {
  const outcome = electLeader(p, target, rules);
  const replicas = target.replicas ?? p.replicas;
  const rec: PartitionChangeRecord = {
    partitionId: p.partition,
    topicId: p.topicId,
    isr: same(outcome.isr, p.isr) ? null : outcome.isr,
    leader: outcome.leader === p.leader ? NO_LEADER_CHANGE : outcome.leader,
    replicas: same(replicas, p.replicas) ? null : [...replicas],
    removingReplicas:
      target.removingReplicas && !same(target.removingReplicas, p.removingReplicas)
        ? [...target.removingReplicas]
        : null,
    addingReplicas:
      target.addingReplicas && !same(target.addingReplicas, p.addingReplicas)
        ? [...target.addingReplicas]
        : null,
    leaderRecoveryState: outcome.unclean ? 1 : -1,
    directories: null,
    eligibleLeaderReplicas: null,
    lastKnownElr: null,
  };
  const changed =
    rec.isr !== null ||
    rec.leader !== NO_LEADER_CHANGE ||
    rec.replicas !== null ||
    rec.removingReplicas !== null ||
    rec.addingReplicas !== null;
  return changed ? rec : null;
}

/**
 * The ISR without `brokerId` (fenced, shutting down, or lagging). The last in-sync
 * replica stays: it alone is known to hold every acknowledged record, so the
 * partition waits offline for it rather than forgetting that.
 */
export function isrWithout(isr: readonly number[], brokerId: number): number[] {
  const out = isr.filter((b) => b !== brokerId);
  return out.length === 0 ? [...isr] : out;
}
