// The topic admin against a real Capstan broker (in-process) through kafkajs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../../broker/broker.ts";
import { BrokerConfig } from "../../broker/config.ts";
import { createLogger } from "../../lib/logger.ts";
import { Kafka, logLevel } from "kafkajs";
import { TopicAdmin, reassignmentRefusal } from "./kafka-admin.ts";
import { planTopic } from "./plan.ts";
import type { KafkaTopic } from "../api/types.ts";

test("topic admin: create with configs, describe, grow, revert drift, delete", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "capstan-topic-admin-"));
  const broker = await Broker.start(
    BrokerConfig.load(undefined, ["listeners=PLAINTEXT://127.0.0.1:0", `log.dirs=${dir}`]),
    createLogger("topic-admin-test"),
  );
  const admin = new TopicAdmin([`127.0.0.1:${broker.boundPorts().get("PLAINTEXT")}`]);
  t.after(async () => {
    await admin.close();
    await broker.shutdown();
    await rm(dir, { recursive: true, force: true });
  });
  const kt = (spec: KafkaTopic["spec"]): KafkaTopic => ({
    apiVersion: "kafka.capstan.dev/v1alpha1",
    kind: "KafkaTopic",
    metadata: { name: "orders" },
    spec,
  });
  const reconcile = async (spec: KafkaTopic["spec"]) => {
    const plan = planTopic(kt(spec), await admin.describe("orders"), {
      brokerCount: await admin.brokerCount(),
    });
    for (const a of plan.actions) await admin.apply(a);
    return plan;
  };

  assert.equal(await admin.describe("orders"), null);
  await reconcile({ partitions: 2, config: { "retention.ms": "3600000" } });
  let actual = await admin.describe("orders");
  assert.equal(actual?.partitions, 2);
  assert.equal(actual?.replicationFactor, 1);
  assert.deepEqual([...actual!.configs], [["retention.ms", "3600000"]]);

  const grown = await reconcile({ partitions: 4, config: { "retention.ms": "3600000" } });
  assert.deepEqual(
    grown.actions.map((a) => a.kind),
    ["create-partitions"],
  );
  assert.equal((await admin.describe("orders"))?.partitions, 4);

  // Someone changes a config by hand; the next reconcile reverts it.
  await broker.controller.alterTopicConfigs(
    "orders",
    [{ name: "retention.ms", op: "set", value: "1000" }],
    false,
    false,
  );
  const reverted = await reconcile({ partitions: 4, config: { "retention.ms": "3600000" } });
  assert.deepEqual(reverted.actions[0].kind === "set-configs" && reverted.actions[0].reverted, [
    "retention.ms=1000 (now 3600000)",
  ]);
  actual = await admin.describe("orders");
  assert.equal(actual?.configs.get("retention.ms"), "3600000");

  await admin.delete("orders");
  assert.equal(await admin.describe("orders"), null);
  await admin.delete("orders");
});

test("a reassignment the broker refuses is read from kafkajs' error with the broker's error code", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "capstan-topic-admin-"));
  const broker = await Broker.start(
    BrokerConfig.load(undefined, ["listeners=PLAINTEXT://127.0.0.1:0", `log.dirs=${dir}`]),
    createLogger("topic-admin-test"),
  );
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.boundPorts().get("PLAINTEXT")}`],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  t.after(async () => {
    await admin.disconnect();
    await broker.shutdown();
    await rm(dir, { recursive: true, force: true });
  });
  await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 1 }], waitForLeaders: true });
  // Replicas on brokers the one-node cluster does not have: the broker answers per partition.
  const err = await admin
    .alterPartitionReassignments({
      topics: [{ topic: "orders", partitionAssignment: [{ partition: 0, replicas: [0, 1, 2] }] }],
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err, "the broker accepted replicas on unknown brokers");
  assert.match(reassignmentRefusal(err) ?? "", /INVALID_REPLICA_ASSIGNMENT/);
  assert.equal(reassignmentRefusal(new Error("connection refused")), undefined);
});
