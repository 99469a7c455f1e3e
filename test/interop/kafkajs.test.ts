// kafkajs (npm) against the target broker (CAPSTAN_TEST_TARGET): admin and producer.
// kafkajs cannot consume without a consumer group, so what it produced is read back with
// kcat (no group); kafkajs consumers are in groups.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
import type { Admin, Producer } from "kafkajs";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { haveCommand, kcatConsume, uniqueName } from "./helpers.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

describe(`kafkajs against ${testTarget()}`, { timeout: 240_000 }, () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  before(async () => {
    broker = await startTarget();
    kafka = new Kafka({
      clientId: "capstan-interop",
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 100 },
    });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });
  after(async () => {
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await broker?.close();
  });

  test("admin: createTopics, fetchTopicMetadata, listTopics, deleteTopics", { timeout: 60_000 }, async () => {
    const topic = uniqueName("kafkajs-admin");
    assert.equal(
      await admin.createTopics({
        topics: [{ topic, numPartitions: 3, configEntries: [{ name: "retention.ms", value: "7200000" }] }],
        waitForLeaders: true,
      }),
      true,
    );
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] }), false, "created twice");
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(md.topics.length, 1);
    assert.equal(md.topics[0].name, topic);
    assert.deepEqual(
      md.topics[0].partitions
        .map((p) => ({
          id: p.partitionId,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
          err: p.partitionErrorCode,
        }))
        .sort((x, y) => x.id - y.id),
      [0, 1, 2].map((id) => ({ id, leader: 1, replicas: [1], isr: [1], err: 0 })),
    );
    assert.ok((await admin.listTopics()).includes(topic), "listTopics");
    const cfg = await admin.describeConfigs({
      resources: [{ type: 2, name: topic }],
      includeSynonyms: false,
    });
    const retention = cfg.resources[0].configEntries.find((e) => e.configName === "retention.ms");
    assert.equal(retention?.configValue, "7200000", "retention.ms from createTopics");
    await admin.deleteTopics({ topics: [topic], timeout: 15_000 });
    const deadline = Date.now() + 15_000;
    while ((await admin.listTopics()).includes(topic)) {
      assert.ok(Date.now() < deadline, "deleted topic still listed after 15 s");
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  test(
    "producer round trip with keys and headers (acks=-1 and acks=1), read back with kcat",
    { skip: haveCommand("kcat", ["-V"]) ? false : "kcat is not installed", timeout: 60_000 },
    async () => {
      const topic = uniqueName("kafkajs-produce");
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const first = await producer.send({
        topic,
        acks: -1,
        messages: [
          { key: "k0", value: "v0" },
          { key: "k1", value: "v1", headers: { h1: "x", h2: Buffer.from("y") } },
          { key: null, value: "no key" },
        ],
      });
      assert.equal(first.length, 1);
      assert.equal(first[0].errorCode, 0);
      assert.equal(first[0].baseOffset, "0");
      const second = await producer.send({
        topic,
        acks: 1,
        messages: [{ key: "k3", value: "v3", timestamp: "1700000000000" }],
      });
      assert.equal(second[0].baseOffset, "3");
      const got = await kcatConsume(broker.bootstrap, topic, { partition: 0 });
      assert.deepEqual(
        got.map((r) => [r.offset, r.key, r.payload, r.headers ?? []]),
        [
          [0, "k0", "v0", []],
          [1, "k1", "v1", ["h1", "x", "h2", "y"]],
          [2, null, "no key", []],
          [3, "k3", "v3", []],
        ],
      );
      assert.equal(got[3].ts, 1_700_000_000_000, "explicit timestamp");
    },
  );

  test(
    "gzip-compressed batch, read back with kcat",
    { skip: haveCommand("kcat", ["-V"]) ? false : "kcat is not installed", timeout: 60_000 },
    async () => {
      const topic = uniqueName("kafkajs-gzip");
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      const messages = Array.from({ length: 100 }, (_, i) => ({
        key: `key-${i}`,
        value: `gzip value ${i} ${"lorem ipsum ".repeat(i % 30)}`,
        headers: i % 10 === 0 ? { n: String(i) } : undefined,
      }));
      const res = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
      assert.equal(res[0].baseOffset, "0");
      const got = await kcatConsume(broker.bootstrap, topic, { partition: 0 });
      assert.deepEqual(
        got.map((r) => [r.offset, r.key, r.payload, r.headers ?? []]),
        messages.map((m, i) => [i, m.key, m.value, m.headers ? ["n", m.headers.n] : []]),
      );
    },
  );

  test("sendBatch to several topics and partitions", { timeout: 60_000 }, async () => {
    const t1 = uniqueName("kafkajs-batch-a");
    const t2 = uniqueName("kafkajs-batch-b");
    await admin.createTopics({
      topics: [
        { topic: t1, numPartitions: 2 },
        { topic: t2, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    const res = await producer.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic: t1,
          messages: [
            { partition: 0, value: "a0" },
            { partition: 1, value: "a1" },
            { partition: 1, value: "a2" },
          ],
        },
        { topic: t2, messages: [{ value: "b0" }] },
      ],
    });
    const summary = res.map((r) => `${r.topicName}/${r.partition}@${r.baseOffset}`).sort();
    assert.deepEqual(summary, [`${t1}/0@0`, `${t1}/1@0`, `${t2}/0@0`].sort());
    const offsets = await admin.fetchTopicOffsets(t1);
    assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [
      [0, "0", "1"],
      [1, "0", "2"],
    ]);
  });
});
