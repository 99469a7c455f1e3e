// The Apache Kafka Java client against the target broker (CAPSTAN_TEST_TARGET): the seed
// notes' SimpleProducer compiled and run as written (bootstrap address aside), and Kafka's own
// CLI tools from the cached jars: kafka-topics, kafka-configs, the console producer and the
// console consumer (assigned a partition, no group). Group-based Java cases (the client driver,
// SimpleConsumer) are in groups.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { isKafkaInstalled } from "../setup/kafka.ts";
import { explain, haveCommand, kcatConsume, run, uniqueName } from "./helpers.ts";
import { kafkaCli } from "./kafka-cli.ts";
import { compileSeed, seedUnavailable } from "./seed.ts";
import type { CompiledSeed } from "./seed.ts";

const unavailable = !isKafkaInstalled()
  ? "Kafka jars are not cached: run bash test/setup/install.sh"
  : !haveCommand("java", ["-version"])
    ? "java is not installed"
    : false;

describe(`Java client and Kafka CLI against ${testTarget()}`, { skip: unavailable, timeout: 300_000 }, () => {
  let broker: TestBroker;
  let b = "";
  before(async () => {
    broker = await startTarget();
    b = broker.bootstrap;
  });
  after(() => broker?.close());

  describe("seed notes: SimpleProducer", { skip: seedUnavailable() }, () => {
    let seed: CompiledSeed;
    before(async () => {
      seed = await compileSeed();
    });
    after(() => seed?.cleanup());

    test("compiled as written, it sends key1=testMessage to topic test", { timeout: 90_000 }, async () => {
      const r = await run("java", seed.javaArgs("SimpleProducer", b), { timeoutMs: 60_000 });
      assert.equal(r.code, 0, explain(r));
      assert.match(
        r.stdout,
        /record : ProducerRecord\(topic=test, .*key=key1, value=testMessage/,
        explain(r),
      );
      // (A WARN about UNKNOWN_TOPIC_OR_PARTITION while "test" is auto-created is normal.)
      assert.doesNotMatch(r.stdout + r.stderr, /\bERROR\b/, explain(r));
      const got = await kcatConsume(b, "test", { partition: 0 });
      assert.ok(
        got.some((m) => m.key === "key1" && m.payload === "testMessage"),
        `topic test holds ${JSON.stringify(got)}`,
      );
    });
  });

  test("kafka-topics: create, list, describe", { timeout: 90_000 }, async () => {
    const topic = uniqueName("cli-topics");
    const created = await kafkaCli("topics", [
      "--bootstrap-server",
      b,
      "--create",
      "--topic",
      topic,
      "--partitions",
      "3",
      "--replication-factor",
      "1",
      "--config",
      "max.message.bytes=2000000",
    ]);
    assert.equal(created.code, 0, explain(created));
    assert.match(created.stdout, new RegExp(`Created topic ${topic}\\.`));
    const listed = await kafkaCli("topics", ["--bootstrap-server", b, "--list"]);
    assert.equal(listed.code, 0, explain(listed));
    assert.ok(listed.stdout.split("\n").includes(topic), explain(listed));
    const described = await kafkaCli("topics", ["--bootstrap-server", b, "--describe", "--topic", topic]);
    assert.equal(described.code, 0, explain(described));
    assert.match(
      described.stdout,
      new RegExp(`Topic: ${topic}\\s+TopicId: \\S+\\s+PartitionCount: 3\\s+ReplicationFactor: 1`),
    );
    assert.match(described.stdout, /Configs: .*max\.message\.bytes=2000000/);
    for (const p of [0, 1, 2]) {
      assert.match(
        described.stdout,
        new RegExp(`Topic: ${topic}\\s+Partition: ${p}\\s+Leader: 1\\s+Replicas: 1\\s+Isr: 1`),
        explain(described),
      );
    }
  });

  test("kafka-configs: alter and describe topic configs", { timeout: 90_000 }, async () => {
    const topic = uniqueName("cli-configs");
    const created = await kafkaCli("topics", ["--bootstrap-server", b, "--create", "--topic", topic]);
    assert.equal(created.code, 0, explain(created));
    const entity = ["--bootstrap-server", b, "--entity-type", "topics", "--entity-name", topic];
    const altered = await kafkaCli("configs", [
      ...entity,
      "--alter",
      "--add-config",
      "retention.ms=86400000,segment.bytes=1048576",
    ]);
    assert.equal(altered.code, 0, explain(altered));
    assert.match(altered.stdout, new RegExp(`Completed updating config for topic ${topic}`));
    const described = await kafkaCli("configs", [...entity, "--describe"]);
    assert.equal(described.code, 0, explain(described));
    assert.match(described.stdout, /retention\.ms=86400000\b/, explain(described));
    assert.match(described.stdout, /segment\.bytes=1048576\b/, explain(described));
    const removed = await kafkaCli("configs", [...entity, "--alter", "--delete-config", "retention.ms"]);
    assert.equal(removed.code, 0, explain(removed));
    const after = await kafkaCli("configs", [...entity, "--describe"]);
    assert.equal(after.code, 0, explain(after));
    assert.doesNotMatch(after.stdout, /retention\.ms=/, explain(after));
    assert.match(after.stdout, /segment\.bytes=1048576\b/, explain(after));
  });

  test(
    "console producer then console consumer (partition assigned, no group)",
    { timeout: 90_000 },
    async () => {
      const topic = uniqueName("cli-console");
      const created = await kafkaCli("topics", [
        "--bootstrap-server",
        b,
        "--create",
        "--topic",
        topic,
        "--partitions",
        "1",
      ]);
      assert.equal(created.code, 0, explain(created));
      const lines = Array.from({ length: 5 }, (_, i) => `key-${i}:value ${i}`);
      const produced = await kafkaCli(
        "console-producer",
        [
          "--bootstrap-server",
          b,
          "--topic",
          topic,
          "--reader-property",
          "parse.key=true",
          "--reader-property",
          "key.separator=:",
          "--request-required-acks",
          "all",
        ],
        { input: lines.join("\n") + "\n" },
      );
      assert.equal(produced.code, 0, explain(produced));
      assert.doesNotMatch(produced.stderr, /ERROR/, explain(produced));
      const consumed = await kafkaCli("console-consumer", [
        "--bootstrap-server",
        b,
        "--topic",
        topic,
        "--partition",
        "0",
        "--offset",
        "earliest",
        "--max-messages",
        "5",
        "--timeout-ms",
        "30000",
        "--formatter-property",
        "print.key=true",
        "--formatter-property",
        "print.offset=true",
        "--formatter-property",
        "key.separator=|",
      ]);
      assert.equal(consumed.code, 0, explain(consumed));
      assert.deepEqual(
        consumed.stdout.trim().split("\n"),
        lines.map((l, i) => `Offset:${i}|${l.replace(":", "|")}`),
        explain(consumed),
      );
      assert.match(consumed.stderr, /Processed a total of 5 messages/, explain(consumed));
    },
  );
});
