import assert from "node:assert/strict";
import { test } from "node:test";
import type { GroupSnapshot, LagSnapshot } from "./snapshot.ts";
import { deepFreeze, topicLagSummary } from "./snapshot.ts";

const part = (topic: string, lag: number, lagSeconds: number | null) => ({
  topic,
  partition: 0,
  committed: 0,
  highWatermark: lag,
  lag,
  lagSeconds,
  lagSecondsSource: lagSeconds === null ? null : ("record" as const),
  status: "OK" as const,
});

const g = (groupId: string, partitions: GroupSnapshot["partitions"]) =>
  ({ groupId, partitions }) as GroupSnapshot;

test("KafkaTopic's summary: the largest lag and the slowest group (oldest unconsumed record first)", () => {
  const s = {
    groups: [
      g("many-records", [part("t", 5000, 2)]),
      g("old-record", [part("t", 10, 600)]),
      g("other", [part("u", 99, 99)]),
    ],
  } as unknown as LagSnapshot;
  assert.deepEqual(topicLagSummary(s, "t"), {
    topic: "t",
    maxLag: 5000,
    maxLagSeconds: 600,
    slowestGroup: "old-record",
    groups: 2,
  });
  assert.equal(topicLagSummary(s, "none"), null);
});

test("snapshots are deeply frozen", () => {
  const s = deepFreeze({ groups: [{ partitions: [{ lag: 1 }] }] });
  assert.throws(() => {
    (s.groups[0].partitions[0] as { lag: number }).lag = 2;
  }, TypeError);
});
