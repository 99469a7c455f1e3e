// Scale-down safety: brokers are removed from the highest ordinal down, and only once no
// partition has a replica on them. This plans the partition moves that empty them: each
// replica on a removed broker goes to the remaining broker with the fewest replicas that
// does not hold the partition already; replicas on remaining brokers keep their place and
// order (so the preferred leader stays where it was when it is not removed).

export interface PartitionInfo {
  topic: string;
  partition: number;
  replicas: number[];
  isr: number[];
}

export interface Move {
  topic: string;
  partition: number;
  from: number[];
  to: number[];
}

export type ScaleDownPlan =
  { ok: true; moves: Move[] } | { ok: false; reason: string; blocking: PartitionInfo[] };

/** Partitions with a replica on one of the removed brokers. */
export function partitionsOn(
  partitions: readonly PartitionInfo[],
  removed: ReadonlySet<number>,
): PartitionInfo[] {
  return partitions.filter((p) => p.replicas.some((r) => removed.has(r)));
}

export function planScaleDown(
  partitions: readonly PartitionInfo[],
  remaining: readonly number[],
): ScaleDownPlan {
  const keep = new Set(remaining);
  const load = new Map<number, number>(remaining.map((b) => [b, 0]));
  for (const p of partitions) for (const r of p.replicas) if (keep.has(r)) load.set(r, load.get(r)! + 1);
  const moves: Move[] = [];
  const tooBig: PartitionInfo[] = [];
  for (const p of partitions) {
    if (p.replicas.every((r) => keep.has(r))) continue;
    if (p.replicas.length > remaining.length) {
      tooBig.push(p);
      continue;
    }
    const to: number[] = [];
    for (const r of p.replicas) {
      if (keep.has(r)) {
        to.push(r);
        continue;
      }
      const target = [...keep]
        .filter((b) => !p.replicas.includes(b) && !to.includes(b))
        .sort((a, b) => load.get(a)! - load.get(b)! || a - b)[0];
      load.set(target, load.get(target)! + 1);
      to.push(target);
    }
    moves.push({ topic: p.topic, partition: p.partition, from: p.replicas, to });
  }
  if (tooBig.length > 0) {
    return {
      ok: false,
      reason: `${tooBig.length} partition(s) have more replicas than the ${remaining.length} broker(s) that would remain (${describe(tooBig)}): lower their replication factor first`,
      blocking: tooBig,
    };
  }
  return { ok: true, moves };
}

/** "orders/0 [1,2,3], orders/1 [2,3,4]" (the first few). */
export function describe(
  partitions: readonly { topic: string; partition: number; replicas: number[] }[],
  max = 10,
): string {
  const shown = partitions.slice(0, max).map((p) => `${p.topic}/${p.partition} [${p.replicas.join(",")}]`);
  if (partitions.length > max) shown.push(`and ${partitions.length - max} more`);
  return shown.join(", ");
}
