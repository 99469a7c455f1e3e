import { test } from "node:test";
import assert from "node:assert/strict";
import type { KafkaTopic } from "../api/types.ts";
import { planTopic } from "./plan.ts";

const topic = (spec: Partial<KafkaTopic["spec"]> = {}, name = "orders"): KafkaTopic => ({
  apiVersion: "kafka.capstan.dev/v1alpha1",
  kind: "KafkaTopic",
  metadata: { name, labels: { "kafka.capstan.dev/cluster": "demo" } },
  spec: { partitions: 3, ...spec },
});
const cluster = { brokerCount: 3 };

test("a missing topic is created with the policy's default replication factor", () => {
  const p = planTopic(topic(), null, { brokerCount: 3, policy: { replicationFactor: { default: 2 } } });
  assert.deepEqual(p.actions, [
    { kind: "create", name: "orders", partitions: 3, replicationFactor: 2, configs: new Map() },
  ]);
});

test("growing partitions, refusing to shrink them", () => {
  const actual = { topicId: "x", partitions: 3, replicationFactor: 3, configs: new Map() };
  assert.deepEqual(planTopic(topic({ partitions: 5 }), actual, cluster).actions, [
    { kind: "create-partitions", name: "orders", count: 5 },
  ]);
  const shrink = planTopic(topic({ partitions: 2 }), actual, cluster);
  assert.equal(shrink.problems[0].reason, "PartitionDecreaseRefused");
  assert.match(shrink.problems[0].message, /has 3 partitions.*set spec\.partitions to 3 or more/);
});

test("configs changed behind our back are reverted, and the plan says which", () => {
  const actual = {
    topicId: "x",
    partitions: 3,
    replicationFactor: 3,
    configs: new Map([
      ["retention.ms", "1000"],
      ["cleanup.policy", "compact"],
    ]),
  };
  const p = planTopic(topic({ config: { "retention.ms": "86400000" } }), actual, cluster);
  assert.equal(p.actions.length, 1);
  const a = p.actions[0];
  assert.equal(a.kind, "set-configs");
  assert.deepEqual(a.kind === "set-configs" && a.reverted, [
    "retention.ms=1000 (now 86400000)",
    "cleanup.policy=compact (removed)",
  ]);
  // Incremental: only what differs is set, what the spec does not name is deleted.
  assert.deepEqual(a.kind === "set-configs" && [...a.set], [["retention.ms", "86400000"]]);
  assert.deepEqual(a.kind === "set-configs" && a.remove, ["cleanup.policy"]);
});

test("a replication factor change is planned as a reassignment; one above the broker count is refused in any mode", () => {
  const actual = { topicId: "x", partitions: 3, replicationFactor: 1, configs: new Map() };
  assert.deepEqual(planTopic(topic({ replicationFactor: 3 }), actual, cluster).actions, [
    { kind: "change-replication-factor", name: "orders", from: 1, to: 3 },
  ]);
  const four = planTopic(topic({ replicationFactor: 4 }), actual, {
    brokerCount: 3,
    policy: { mode: "Audit" },
  });
  assert.equal(four.actions.length, 0);
  assert.match(four.problems[0].message, /replication factor 4 is above the 3 brokers/);
});

test("policy: Enforce blocks with the reason; Warn proceeds and reports", () => {
  const policy = { naming: { pattern: "[a-z]+\\.[a-z]+" } };
  const enforce = planTopic(topic({}, "Orders"), null, { brokerCount: 3, policy });
  assert.equal(enforce.actions.length, 0);
  assert.equal(enforce.problems[0].reason, "PolicyViolation");
  assert.match(enforce.problems[0].message, /\[naming\]/);
  const warn = planTopic(topic({}, "Orders"), null, {
    brokerCount: 3,
    policy: { ...policy, mode: "Warn" as const },
  });
  assert.equal(warn.actions[0].kind, "create");
  assert.match(warn.warnings[0], /\[naming\]/);
});
