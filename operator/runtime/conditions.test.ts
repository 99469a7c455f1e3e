import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonEqual, setCondition, setConditions } from "./conditions.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T00:05:00Z");

test("a new condition gets the current time", () => {
  const c = setCondition(undefined, { type: "Ready", status: "False", reason: "Starting", message: "m" }, t0);
  assert.deepEqual(c, [
    {
      type: "Ready",
      status: "False",
      lastTransitionTime: "2026-01-01T00:00:00Z",
      reason: "Starting",
      message: "m",
    },
  ]);
});

test("lastTransitionTime moves only when the status flips", () => {
  const a = setCondition(
    undefined,
    { type: "Ready", status: "False", reason: "Starting", message: "1 of 3" },
    t0,
  );
  const b = setCondition(a, { type: "Ready", status: "False", reason: "Rolling", message: "2 of 3" }, t1);
  assert.equal(
    b[0].lastTransitionTime,
    "2026-01-01T00:00:00Z",
    "reason and message changes are no transition",
  );
  assert.equal(b[0].reason, "Rolling");
  const c = setCondition(b, { type: "Ready", status: "True", reason: "Ready", message: "ok" }, t1);
  assert.equal(c[0].lastTransitionTime, "2026-01-01T00:05:00Z");
});

test("recomputing the same conditions later changes nothing (no churn)", () => {
  const input = [
    { type: "Ready", status: "True" as const, reason: "BrokersReady", message: "ok", observedGeneration: 2 },
    {
      type: "Reconciling",
      status: "False" as const,
      reason: "Reconciled",
      message: "",
      observedGeneration: 2,
    },
    { type: "Stalled", status: "False" as const, reason: "NotStalled", message: "", observedGeneration: 2 },
  ];
  const first = setConditions(undefined, input, t0);
  const again = setConditions(first, input, t1);
  assert.ok(jsonEqual(first, again));
});

test("other conditions keep their place and content", () => {
  const a = setConditions(
    undefined,
    [
      { type: "Ready", status: "False", reason: "A", message: "" },
      { type: "Custom", status: "True", reason: "B", message: "" },
    ],
    t0,
  );
  const b = setCondition(a, { type: "Ready", status: "True", reason: "C", message: "" }, t1);
  assert.deepEqual(
    b.map((c) => c.type),
    ["Ready", "Custom"],
  );
  assert.deepEqual(b[1], a[1]);
});

test("jsonEqual ignores key order and undefined members, not values", () => {
  assert.ok(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined }));
  assert.ok(!jsonEqual({ a: 1 }, { a: 2 }));
  assert.ok(!jsonEqual([1, 2], [2, 1]));
  assert.ok(jsonEqual(undefined, undefined));
});
