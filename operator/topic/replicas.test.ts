import assert from "node:assert/strict";
import { test } from "node:test";
import { ReassignmentRefusedError, planReplicas, progressOf } from "./replicas.ts";

test("growing keeps every replica, the leader first, and spreads the new ones", () => {
  const partitions = [
    { partition: 0, replicas: [1] },
    { partition: 1, replicas: [2] },
    { partition: 2, replicas: [3] },
  ];
  const moves = planReplicas(partitions, [1, 2, 3], 3);
  assert.equal(moves.length, 3);
  for (const m of moves) {
    assert.equal(m.replicas.length, 3);
    assert.equal(new Set(m.replicas).size, 3);
    assert.equal(m.replicas[0], partitions[m.partition].replicas[0], "the preferred leader stays first");
  }
  const two = planReplicas(partitions, [1, 2, 3], 2);
  const load = new Map<number, number>();
  for (const m of two) for (const r of m.replicas) load.set(r, (load.get(r) ?? 0) + 1);
  assert.deepEqual([...load.values()], [2, 2, 2], "each broker ends with two replicas");
});

test("shrinking keeps the first replicas; partitions already there are left alone", () => {
  const moves = planReplicas(
    [
      { partition: 0, replicas: [2, 3, 1] },
      { partition: 1, replicas: [3, 1] },
    ],
    [1, 2, 3],
    2,
  );
  assert.deepEqual(moves, [{ partition: 0, replicas: [2, 3] }]);
});

test("more replicas than brokers is refused with both numbers", () => {
  assert.throws(
    () => planReplicas([{ partition: 0, replicas: [1] }], [1, 2, 3], 4),
    (err: Error) => err instanceof ReassignmentRefusedError && /4 is above the 3 brokers/.test(err.message),
  );
});

test("progress counts partitions at the target and not moving", () => {
  const p = progressOf(
    [
      { partition: 0, replicas: [1, 2, 3] },
      { partition: 1, replicas: [1, 2, 3] },
      { partition: 2, replicas: [1] },
    ],
    new Set([1]),
    3,
  );
  assert.deepEqual(p, { total: 3, done: 1, moving: 1 });
});
