import assert from "node:assert/strict";
import { test } from "node:test";
import {
  GROUP_SERIES,
  PARTITION_SERIES,
  TOPIC_SERIES,
  globToRegExp,
  planGranularity,
} from "./cardinality.ts";

const groups = [
  { groupId: "big", partitions: 100, topics: 2 },
  { groupId: "mid", partitions: 10, topics: 1 },
  { groupId: "batch-1", partitions: 4, topics: 1 },
];

test("default and overrides (first matching glob wins)", () => {
  const plan = planGranularity(groups, {
    granularity: "topic",
    overrides: [
      { group: "batch-*", granularity: "group" },
      { group: "*", granularity: "partition" },
    ],
  });
  assert.deepEqual(Object.fromEntries(plan.granularity), {
    big: "partition",
    mid: "partition",
    "batch-1": "group",
  });
  assert.equal(plan.coarsened, 0);
});

test("a series budget coarsens the largest groups first, partition → topic before topic → group", () => {
  const full = planGranularity(groups);
  assert.equal(full.series, 3 * GROUP_SERIES + TOPIC_SERIES * 4 + PARTITION_SERIES * 114);
  const budget = planGranularity(groups, { maxSeries: 100 });
  assert.equal(budget.granularity.get("big"), "topic");
  assert.equal(budget.granularity.get("mid"), "partition");
  assert.ok(budget.series <= 100, String(budget.series));
  assert.equal(budget.coarsened, 1);
  const tight = planGranularity(groups, { maxSeries: 3 * GROUP_SERIES });
  assert.deepEqual([...tight.granularity.values()], ["group", "group", "group"]);
  assert.equal(tight.series, 3 * GROUP_SERIES);
  assert.equal(tight.coarsened, 3);
});

test("globs are anchored and literal apart from * and ?", () => {
  assert.ok(globToRegExp("orders.*").test("orders.v1"));
  assert.ok(!globToRegExp("orders.*").test("ordersXv1"));
  assert.ok(globToRegExp("a?c").test("abc"));
  assert.ok(!globToRegExp("a").test("ab"));
});
