// Replica lists for a replication factor change, as a pure function: the reassignment the
// topic reconciler hands to AlterPartitionReassignments, and how far a change has come.
// Growing keeps every current replica (the data stays where it is; the preferred leader
// stays first) and adds the brokers holding the fewest replicas of the topic; shrinking
// keeps the first replicas, so the preferred leader keeps its place.

export interface PartitionReplicas {
  partition: number;
  replicas: number[];
}

export interface ReassignmentProgress {
  /** Partitions of the topic. */
  total: number;
  /** Partitions that have the target replication factor and no move in progress. */
  done: number;
  /** Partitions with a reassignment in progress. */
  moving: number;
}

/**
 * The change cannot be carried out as asked: the cluster has too few brokers, or the brokers
 * answered AlterPartitionReassignments with per-partition errors.
 */
export class ReassignmentRefusedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReassignmentRefusedError";
  }
}

/** The new replica list of every partition that does not have `to` replicas yet. */
export function planReplicas(
  partitions: readonly PartitionReplicas[],
  brokers: readonly number[],
  to: number,
): PartitionReplicas[] {
  if (to > brokers.length) {
    throw new ReassignmentRefusedError(
      `replication factor ${to} is above the ${brokers.length} brokers of the cluster`,
    );
  }
  const load = new Map<number, number>(brokers.map((b) => [b, 0]));
  for (const p of partitions) for (const r of p.replicas) load.set(r, (load.get(r) ?? 0) + 1);
  const out: PartitionReplicas[] = [];
  for (const p of [...partitions].sort((a, b) => a.partition - b.partition)) {
    if (p.replicas.length === to) continue;
    let replicas: number[];
    if (p.replicas.length > to) {
      replicas = p.replicas.slice(0, to);
      for (const r of p.replicas.slice(to)) load.set(r, (load.get(r) ?? 1) - 1);
    } else {
      replicas = [...p.replicas];
      while (replicas.length < to) {
        // Least loaded first; ties go to the broker after the partition's leader, so
        // partitions spread around the ring rather than piling on the lowest id.
        const leader = replicas[0] ?? 0;
        const candidates = brokers
          .filter((b) => !replicas.includes(b))
          .sort(
            (a, b) =>
              (load.get(a) ?? 0) - (load.get(b) ?? 0) || ring(a, leader, brokers) - ring(b, leader, brokers),
          );
        replicas.push(candidates[0]);
        load.set(candidates[0], (load.get(candidates[0]) ?? 0) + 1);
      }
    }
    out.push({ partition: p.partition, replicas });
  }
  return out;
}

/** Distance of broker b after broker `from` going round the sorted broker ids. */
function ring(b: number, from: number, brokers: readonly number[]): number {
  const ids = [...brokers].sort((x, y) => x - y);
  const i = ids.indexOf(b);
  const j = Math.max(0, ids.indexOf(from));
  return (i - j + ids.length) % ids.length;
}

export function progressOf(
  partitions: readonly PartitionReplicas[],
  moving: ReadonlySet<number>,
  to: number,
): ReassignmentProgress {
  return {
    total: partitions.length,
    done: partitions.filter((p) => p.replicas.length === to && !moving.has(p.partition)).length,
    moving: moving.size,
  };
}
