import assert from "node:assert/strict";
import { test } from "node:test";
import type { PartitionInfo } from "./scale-down.ts";
import { partitionsOn, planScaleDown } from "./scale-down.ts";

const p = (topic: string, partition: number, replicas: number[]): PartitionInfo => ({
  topic,
  partition,
  replicas,
  isr: replicas,
});

test("finds the partitions with a replica on a removed broker", () => {
  const parts = [p("a", 0, [0, 1, 2]), p("a", 1, [1, 2, 3]), p("b", 0, [4])];
  assert.deepEqual(
    partitionsOn(parts, new Set([3, 4])).map((x) => `${x.topic}/${x.partition}`),
    ["a/1", "b/0"],
  );
});

test("moves replicas off removed brokers onto the least loaded remaining ones, keeping the others in place", () => {
  const parts = [p("a", 0, [0, 1, 2]), p("a", 1, [3, 0, 1]), p("a", 2, [4, 3, 2]), p("b", 0, [1, 4])];
  const plan = planScaleDown(parts, [0, 1, 2]);
  assert.ok(plan.ok);
  if (!plan.ok) return;
  const to = Object.fromEntries(plan.moves.map((m) => [`${m.topic}/${m.partition}`, m.to]));
  assert.deepEqual(Object.keys(to).sort(), ["a/1", "a/2", "b/0"]);
  assert.deepEqual(to["a/1"], [2, 0, 1], "the replicas on 0 and 1 keep their place; 3 goes to 2");
  assert.equal(to["a/2"][2], 2, "the replica on 2 stays last");
  for (const replicas of Object.values(to)) {
    assert.ok(
      replicas.every((r) => r <= 2),
      "only remaining brokers",
    );
    assert.equal(new Set(replicas).size, replicas.length, "no broker twice");
  }
  assert.equal(to["b/0"][0], 1);
});

test("refuses when a partition has more replicas than brokers would remain", () => {
  const plan = planScaleDown([p("a", 0, [0, 1, 2]), p("a", 1, [1, 2, 3])], [0, 1]);
  assert.equal(plan.ok, false);
  if (plan.ok) return;
  assert.match(plan.reason, /a\/1 \[1,2,3\]/);
  assert.match(plan.reason, /replication factor/);
});

test("nothing to move when no partition is on the removed brokers", () => {
  assert.deepEqual(planScaleDown([p("a", 0, [0, 1])], [0, 1, 2]), { ok: true, moves: [] });
});
