// metav1.Condition bookkeeping without churn: a condition's lastTransitionTime moves only
// when its status flips (a new reason or message is not a transition), and the status
// writer compares whole statuses, so a reconcile that changes nothing writes nothing
// (Strimzi's endless lastTransitionTime updates, strimzi#10576, are the failure avoided).
import { isDeepStrictEqual } from "node:util";
import type { Condition } from "../api/types.ts";
import { rfc3339 } from "./time.ts";

export type ConditionInput = Omit<Condition, "lastTransitionTime">;

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/**
 * The conditions with `next` set: lastTransitionTime kept when the status is unchanged,
 * `now` when it flips or the condition is new. Order: existing conditions keep their
 * place, new ones are appended.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  now: Date = new Date(),
): Condition[] {
  const out = [...(conditions ?? [])];
  const i = out.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? out[i] : undefined;
  const lastTransitionTime =
    prev && prev.status === next.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now);
  const cond: Condition = {
    type: next.type,
    status: next.status,
    ...(next.observedGeneration !== undefined ? { observedGeneration: next.observedGeneration } : {}),
    lastTransitionTime,
    reason: next.reason,
    message: truncate(next.message, 32768),
  };
  if (i >= 0) out[i] = cond;
  else out.push(cond);
  return out;
}

/** Sets several conditions at once (same `now` for all). */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  now: Date = new Date(),
): Condition[] {
  let out = [...(conditions ?? [])];
  for (const c of next) out = setCondition(out, c, now);
  return out;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

/**
 * Equality of JSON values as the API server would store them (key order and undefined
 * members do not matter): the status read back is compared with the one about to be written.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const normal = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  return isDeepStrictEqual(normal(a), normal(b));
}
