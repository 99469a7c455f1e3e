// The topic policy in the broker, from every kind of client: CreateTopics straight to a
// Capstan broker started with capstan.topic.policy.file, from kafka-python, librdkafka
// (confluent-kafka's AdminClient: kcat cannot create topics), kafkajs and the Java admin
// client (kafka-topics from the cached jars), is refused with POLICY_VIOLATION (44) and the
// policy engine's message; a compliant name is created. Capstan only: the policy is
// Capstan's (Apache Kafka has a CreateTopicPolicy hook but no policy to load).
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import type { Admin } from "kafkajs";
import { stringify } from "yaml";
import type { TopicPolicySpec } from "../../operator/api/types.ts";
import { checkTopic, describeViolations } from "../../policy/topic-policy.ts";
import { startCapstan } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { isKafkaInstalled } from "../setup/kafka.ts";
import { PYTHON, explain, havePython, run } from "./helpers.ts";
import { kafkaCli } from "./kafka-cli.ts";

const POLICY: TopicPolicySpec = {
  naming: ENV_TEAM_APP_TYPE,
  maxPartitions: 8,
};

/** The engine's message for a topic on the one-broker test cluster (the oracle). */
function expected(name: string, partitions: number, replicationFactor: number): string {
  return describeViolations(
    checkTopic(POLICY, { name, partitions, replicationFactor, configs: new Map() }, { brokerCount: 1 }),
  );
}

/** One CreateTopics from a Python client: prints {"code": N, "message": "..."}. */
const KAFKA_PYTHON = `
import json, sys
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError
b, name, parts, rf = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
admin = KafkaAdminClient(bootstrap_servers=b, client_id="policy-test", request_timeout_ms=15000)
try:
    admin.create_topics([NewTopic(name, parts, rf)], timeout_ms=10000)
    print(json.dumps({"code": 0, "message": None}))
except KafkaError as e:
    print(json.dumps({"code": e.errno, "message": str(e), "type": type(e).__name__}))
finally:
    admin.close()
`;

const CONFLUENT_KAFKA = `
import json, sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic
b, name, parts, rf = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
admin = AdminClient({"bootstrap.servers": b})
futures = admin.create_topics([NewTopic(name, num_partitions=parts, replication_factor=rf)], request_timeout=15)
try:
    futures[name].result(30)
    print(json.dumps({"code": 0, "message": None}))
except KafkaException as e:
    err = e.args[0]
    print(json.dumps({"code": err.code(), "message": err.str(), "type": err.name()}))
`;
import { ENV_TEAM_APP_TYPE } from "../../policy/testing.ts";

interface Outcome {
  code: number;
  message: string | null;
  type?: string;
}

async function python(
  script: string,
  b: string,
  name: string,
  partitions: number,
  rf: number,
): Promise<Outcome> {
  const r = await run(PYTHON, ["-c", script, b, name, String(partitions), String(rf)], { timeoutMs: 60_000 });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  assert.ok(r.code === 0 && last.startsWith("{"), explain(r));
  return JSON.parse(last) as Outcome;
}

describe("the topic policy in the broker, from real clients", { timeout: 300_000 }, () => {
  let dir: string;
  let broker: TestBroker;
  let admin: Admin;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "capstan-policy-interop-"));
    const file = path.join(dir, "topic-policy.yaml");
    await writeFile(file, stringify(POLICY));
    broker = await startCapstan({ overrides: { "capstan.topic.policy.file": file } });
    admin = new Kafka({
      clientId: "policy-test",
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
  });
  after(async () => {
    await admin?.disconnect();
    await broker?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const exists = async (name: string) => (await admin.listTopics()).includes(name);

  for (const [client, script, module] of [
    ["kafka-python", KAFKA_PYTHON, "kafka"],
    ["confluent-kafka (librdkafka)", CONFLUENT_KAFKA, "confluent_kafka"],
  ] as const) {
    test(
      `${client}: refused with 44 and the message; a compliant name is created`,
      { skip: !havePython(module) && `no ${module}` },
      async () => {
        const app = client.split(" ")[0];
        const bad = `prod.payments.${app}.json`;
        const refused = await python(script, broker.bootstrap, bad, 3, 1);
        assert.equal(refused.code, 44, JSON.stringify(refused));
        assert.ok(
          refused.message?.includes(expected(bad, 3, 1)),
          `${refused.message}\nshould include\n${expected(bad, 3, 1)}`,
        );
        assert.ok(!(await exists(bad)));

        // More replicas than brokers: refused before the policy, as Kafka does
        // (INVALID_REPLICATION_FACTOR, 38), with both numbers in the message.
        const good = `prd.payments.${app}.json`;
        const rf = await python(script, broker.bootstrap, good, 3, 4);
        assert.equal(rf.code, 38, JSON.stringify(rf));
        assert.match(rf.message ?? "", /replication factor of 4 cannot be reached because only 1 broker/);

        const ok = await python(script, broker.bootstrap, good, 3, 1);
        assert.equal(ok.code, 0, JSON.stringify(ok));
        assert.ok(await exists(good));
      },
    );
  }

  test("kafkajs: refused with POLICY_VIOLATION (44); a compliant name is created", async () => {
    const kafka = new Kafka({
      clientId: "policy-kafkajs",
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const a = kafka.admin();
    await a.connect();
    try {
      const bad = "prd.Payments.kafkajs.json";
      const err = await a
        .createTopics({ topics: [{ topic: bad, numPartitions: 16, replicationFactor: 1 }] })
        .then(
          () => undefined,
          (e: unknown) => e as { errors?: Array<{ type: string; code: number; topic: string }> },
        );
      // kafkajs keeps the error code and drops the broker's message (its own text instead).
      const topicError = err?.errors?.[0];
      assert.equal(topicError?.type, "POLICY_VIOLATION", String(err));
      assert.equal(topicError?.code, 44);
      assert.equal(topicError?.topic, bad);
      assert.ok(!(await exists(bad)));
      assert.equal(
        await a.createTopics({
          topics: [{ topic: "prd.payments.kafkajs.json", numPartitions: 8, replicationFactor: 1 }],
        }),
        true,
      );
    } finally {
      await a.disconnect();
    }
  });

  test("auto-creation by a producer is refused too: no topic the policy forbids appears", async () => {
    const kafka = new Kafka({
      clientId: "policy-producer",
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1, initialRetryTime: 100 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const bad = "orders-auto";
      await assert.rejects(producer.send({ topic: bad, messages: [{ value: "x" }] }));
      assert.ok(!(await exists(bad)));
      const good = "dev.payments.auto.json";
      await producer.send({ topic: good, messages: [{ value: "x" }] });
      assert.ok(await exists(good));
    } finally {
      await producer.disconnect();
    }
  });

  test(
    "the Java admin client (kafka-topics): PolicyViolationException with the message; a compliant name is created",
    { skip: !isKafkaInstalled() && "Kafka jars not installed (test/setup/install.sh)" },
    async () => {
      const bad = "prd.payments.java.xml";
      const create = (name: string, partitions: number) =>
        kafkaCli("topics", [
          "--bootstrap-server",
          broker.bootstrap,
          "--create",
          "--topic",
          name,
          "--partitions",
          String(partitions),
          "--replication-factor",
          "1",
        ]);
      const refused = await create(bad, 3);
      assert.notEqual(refused.code, 0, explain(refused));
      const out = refused.stdout + refused.stderr;
      // PolicyViolationException is the Java client's exception for error code 44.
      assert.match(out, /PolicyViolationException/, explain(refused));
      assert.ok(out.includes(expected(bad, 3, 1)), explain(refused));
      assert.ok(!(await exists(bad)));

      const ok = await create("prd.payments.java.json", 3);
      assert.equal(ok.code, 0, explain(ok));
      assert.ok(await exists("prd.payments.java.json"));
    },
  );
});
