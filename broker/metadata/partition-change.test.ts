import { test } from "node:test";
import assert from "node:assert/strict";
import type { PartitionState } from "./image.ts";
import { NO_LEADER_CHANGE, buildPartitionChange, electLeader, isrWithout } from "./partition-change.ts";

const part = (over: Partial<PartitionState> = {}): PartitionState => ({
  topicId: "t",
  partition: 0,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  addingReplicas: [],
  removingReplicas: [],
  leader: 1,
  leaderEpoch: 0,
  partitionEpoch: 0,
  ...over,
});
const all = { canLead: () => true, uncleanAllowed: false };

test("the leader stays while it is in the ISR and able to lead", () => {
  assert.deepEqual(electLeader(part(), { isr: [1, 3] }, all), { leader: 1, isr: [1, 3], unclean: false });
  const rec = buildPartitionChange(part(), { isr: [1, 3] }, all)!;
  assert.equal(rec.leader, NO_LEADER_CHANGE);
  assert.deepEqual(rec.isr, [1, 3]);
  assert.equal(buildPartitionChange(part(), { isr: [1, 2, 3] }, all), null);
});

test("a fenced leader hands over to the next replica in order that is in the ISR", () => {
  const fenced = { canLead: (b: number) => b !== 1, uncleanAllowed: false };
  const rec = buildPartitionChange(part(), { isr: isrWithout([1, 2, 3], 1) }, fenced)!;
  assert.equal(rec.leader, 2);
  assert.deepEqual(rec.isr, [2, 3]);
  // Replica order decides, not ISR order.
  assert.equal(electLeader(part({ replicas: [1, 3, 2], isr: [2, 3] }), {}, fenced).leader, 3);
});

test("the last in-sync replica is kept and the partition goes offline without it", () => {
  const none = { canLead: () => false, uncleanAllowed: false };
  assert.deepEqual(isrWithout([2], 2), [2]);
  const rec = buildPartitionChange(part({ isr: [2], leader: 2 }), { isr: isrWithout([2], 2) }, none)!;
  assert.equal(rec.leader, -1);
  assert.equal(rec.isr, null);
});

test("unclean election picks an able replica outside the ISR only when allowed", () => {
  const only3 = (b: number) => b === 3;
  const p = part({ isr: [1], leader: -1 });
  assert.equal(electLeader(p, {}, { canLead: only3, uncleanAllowed: false }).leader, -1);
  assert.deepEqual(electLeader(p, {}, { canLead: only3, uncleanAllowed: true }), {
    leader: 3,
    isr: [3],
    unclean: true,
  });
});

test("a preferred election moves leadership back to the first replica", () => {
  const p = part({ leader: 2 });
  assert.equal(electLeader(p, {}, { ...all, election: "preferred" }).leader, 1);
  assert.equal(electLeader(p, {}, all).leader, 2);
  assert.equal(
    electLeader(part({ leader: 2, isr: [2, 3] }), {}, { ...all, election: "preferred" }).leader,
    2,
  );
});
