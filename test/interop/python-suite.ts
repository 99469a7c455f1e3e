// The interop cases shared by the two Python clients (kafka-python and confluent-kafka):
// admin, keyed partitioning, headers, null keys/values, compression, offset reset,
// offsets-for-times and record size limits. kafka-python.test.ts and confluent-kafka.test.ts
// each run them against their own broker. Not a test file.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { CAPSTAN_GROUPS_ENABLED, havePython, py, uniqueName } from "./helpers.ts";
import type { PyClient } from "./helpers.ts";

interface Delivery {
  error: string | null;
  code?: number | null;
  message?: string;
  local?: boolean;
  partition: number;
  offset: number;
  timestamp: number;
}

type Shown = string | null | { len: number; sha256: string };

interface Consumed {
  partition: number;
  offset: number;
  timestamp: number;
  key: Shown;
  value: Shown;
  headers: [string, string | null][];
}

interface ConsumeResult {
  records: Consumed[];
  errors: string[];
  produced: Delivery[] | null;
  /** confluent-kafka: librdkafka's warnings and errors while consuming. */
  client_log?: string[];
}

/** What the client reported while consuming, for assertion messages. */
function clientSaid(r: ConsumeResult): string {
  const said = [...r.errors, ...(r.client_log ?? [])];
  return said.length ? `; the client reported:\n${said.join("\n")}` : "";
}

interface Described {
  brokers: [number, string, number][];
  controller_id: number;
  exists: boolean;
  error?: string | number | null;
  partitions?: { id: number; leader: number; replicas: number[]; isrs: number[]; error: unknown }[];
  config?: Record<string, string | null>;
  config_error?: unknown;
}

interface RecordSpec {
  key?: string | null;
  value?: string | null | { size: number; fill?: string };
  headers?: [string, string | null][];
  partition?: number;
  timestamp?: number;
}

const CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;
/** kafka-python needs a Python module per codec (Debian python3-snappy, python3-lz4, python3-zstandard). */
const KAFKA_PYTHON_CODEC_MODULE: Record<string, string> = {
  gzip: "gzip",
  snappy: "snappy",
  lz4: "lz4.frame",
  zstd: "zstandard",
};

function sha256OfFill(size: number, fill = "x"): { len: number; sha256: string } {
  return { len: size, sha256: createHash("sha256").update(fill.repeat(size)).digest("hex") };
}

function assertDelivered(results: Delivery[], what: string): void {
  const failed = results.filter((r) => r.error !== null);
  assert.equal(
    failed.length,
    0,
    `${what}: ${failed.length} of ${results.length} not delivered: ${JSON.stringify(failed.slice(0, 3))}`,
  );
}

export function pythonClientSuite(client: PyClient): void {
  const module = client === "kafka-python" ? "kafka" : "confluent_kafka";
  const available = havePython(module);
  const target = testTarget();
  // Producer settings that let a record up to 10 MB leave the client, so the broker decides.
  const bigProducer =
    client === "kafka-python" ? { max_request_size: 10_000_000 } : { "message.max.bytes": 10_000_000 };

  describe(
    `${client} against ${target}`,
    {
      skip: available ? false : `python3 module ${module} is not installed (Debian python3-${client})`,
      timeout: 300_000,
    },
    () => {
      let broker: TestBroker;
      let b = "";
      const op = <T>(name: string, args: Record<string, unknown>, timeoutMs = 60_000) =>
        py<T>(client, name, { bootstrap: b, ...args }, timeoutMs);
      const produce = (topic: string, records: RecordSpec[], config?: Record<string, unknown>) =>
        op<Delivery[]>("produce", { topic, records, config });
      const consume = (topic: string, args: Record<string, unknown> = {}) =>
        op<ConsumeResult>("consume", { topic, ...args });
      const createTopic = async (topic: string, partitions: number, config?: Record<string, string>) => {
        const r = await op<{ error: unknown }>("create_topic", { topic, partitions, config });
        assert.equal(r.error, null, `create_topic ${topic}: ${JSON.stringify(r)}`);
      };

      before(async () => {
        broker = await startTarget();
        b = broker.bootstrap;
      });
      after(() => broker?.close());

      test("admin: create, describe, alter nothing, delete a topic", { timeout: 90_000 }, async () => {
        const topic = uniqueName(`${client}-admin`);
        await createTopic(topic, 3, { "retention.ms": "3600000" });
        const again = await op<{ error: unknown }>("create_topic", { topic, partitions: 3 });
        assert.match(
          JSON.stringify(again),
          /TOPIC_ALREADY_EXISTS|TopicAlreadyExists|"code":36|,36\]/,
          "creating it again should fail with TOPIC_ALREADY_EXISTS (36)",
        );
        const d = await op<Described>("describe_topic", { topic });
        assert.deepEqual(
          d.brokers.map(([id, host, port]) => [id, host, port]),
          [[1, "127.0.0.1", broker.port]],
          "brokers",
        );
        assert.equal(d.exists, true, `describe: ${JSON.stringify(d).slice(0, 500)}`);
        assert.deepEqual(
          d.partitions,
          [0, 1, 2].map((id) => ({ id, leader: 1, replicas: [1], isrs: [1], error: null })),
          "partitions",
        );
        assert.ok(d.config, `topic config: ${JSON.stringify(d.config_error)}`);
        assert.equal(d.config["retention.ms"], "3600000", "retention.ms set at creation");
        assert.equal(d.config["cleanup.policy"], "delete", "cleanup.policy default");
        const del = await op<{ error: unknown; gone: boolean }>("delete_topic", { topic });
        assert.deepEqual(del, { error: null, gone: true });
        const d2 = await op<Described>("describe_topic", { topic });
        assert.equal(d2.exists, false, "deleted topic still described");
      });

      test(
        "records with the same key land in the same partition of a 3-partition topic",
        { timeout: 90_000 },
        async () => {
          const topic = uniqueName(`${client}-keys`);
          await createTopic(topic, 3);
          const records = Array.from({ length: 48 }, (_, i) => ({
            key: `key-${i % 12}`,
            value: `value-${i}`,
          }));
          const acks = await produce(topic, records);
          assertDelivered(acks, "produce");
          const partitionOf = new Map<string, number>();
          acks.forEach((a, i) => {
            const key = records[i].key;
            if (!partitionOf.has(key)) partitionOf.set(key, a.partition);
            assert.equal(
              a.partition,
              partitionOf.get(key),
              `record ${i} with ${key} went to another partition`,
            );
          });
          assert.ok(new Set(partitionOf.values()).size > 1, "12 keys all hashed to one partition");
          // Offsets within each partition are consecutive from 0, in send order.
          const next = new Map<number, number>();
          for (const a of acks) {
            assert.equal(a.offset, next.get(a.partition) ?? 0, `offset in partition ${a.partition}`);
            next.set(a.partition, a.offset + 1);
          }
          const { records: got } = await consume(topic);
          assert.equal(got.length, records.length, "consumed count");
          for (const r of got) {
            const i = acks.findIndex((a) => a.partition === r.partition && a.offset === r.offset);
            assert.ok(i >= 0, `unexpected record ${JSON.stringify(r)}`);
            assert.equal(r.key, records[i].key);
            assert.equal(r.value, records[i].value);
          }
        },
      );

      test(
        "headers survive the round trip (order, duplicates, empty values)",
        { timeout: 60_000 },
        async () => {
          const topic = uniqueName(`${client}-headers`);
          const headers: [string, string | null][] = [
            ["h1", "v1"],
            ["h2", ""],
            ["h1", "again"],
            ["unicode-é", "välue"],
          ];
          if (client === "confluent-kafka") headers.push(["null-value", null]);
          const records: RecordSpec[] = [
            { key: "k0", value: "no headers", partition: 0 },
            { key: "k1", value: "with headers", headers, partition: 0 },
          ];
          assertDelivered(await produce(topic, records), "produce");
          const { records: got } = await consume(topic, { partitions: [0] });
          assert.deepEqual(
            got.map((r) => [r.offset, r.key, r.value, r.headers]),
            [
              [0, "k0", "no headers", []],
              [1, "k1", "with headers", headers],
            ],
          );
        },
      );

      test(
        "null keys and null values stay null (and differ from empty ones)",
        { timeout: 60_000 },
        async () => {
          const topic = uniqueName(`${client}-nulls`);
          const records: RecordSpec[] = [
            { key: null, value: "null key" },
            { key: "null value", value: null },
            { key: "", value: "" },
          ];
          if (client === "confluent-kafka") records.push({ key: null, value: null }); // kafka-python refuses this
          assertDelivered(
            await produce(
              topic,
              records.map((r) => ({ ...r, partition: 0 })),
            ),
            "produce",
          );
          const { records: got } = await consume(topic, { partitions: [0] });
          assert.deepEqual(
            got.map((r) => [r.key, r.value]),
            records.map((r) => [r.key, r.value]),
          );
        },
      );

      for (const codec of CODECS) {
        const skip =
          client === "kafka-python" && !havePython(KAFKA_PYTHON_CODEC_MODULE[codec])
            ? `python3 module ${KAFKA_PYTHON_CODEC_MODULE[codec]} is not installed`
            : false;
        test(`${codec}-compressed batches round-trip`, { skip, timeout: 60_000 }, async () => {
          const topic = uniqueName(`${client}-${codec}`);
          const records: RecordSpec[] = Array.from({ length: 60 }, (_, i) => ({
            key: i % 7 === 0 ? null : `key-${i}`,
            value: `${codec} value ${i} ` + "abcdefgh".repeat(1 + (i % 50)),
            headers: i % 10 === 0 ? [["i", String(i)]] : undefined,
            partition: 0,
          }));
          const acks = await produce(topic, records, lingerFor(client, codec));
          assertDelivered(acks, "produce");
          assert.deepEqual(
            acks.map((a) => a.offset),
            records.map((_, i) => i),
          );
          const { records: got } = await consume(topic, { partitions: [0] });
          assert.deepEqual(
            got.map((r) => [r.offset, r.key, r.value, r.headers]),
            records.map((r, i) => [i, r.key, r.value, r.headers ?? []]),
          );
        });
      }

      // confluent-kafka needs a group.id, and with one librdkafka talks to the group coordinator.
      const needsGroups =
        client === "confluent-kafka" && testTarget() === "capstan" && !CAPSTAN_GROUPS_ENABLED;
      test(
        "auto.offset.reset earliest and latest",
        { timeout: 60_000, skip: needsGroups ? "needs the group coordinator" : false },
        async () => {
          const topic = uniqueName(`${client}-reset`);
          const old = Array.from({ length: 5 }, (_, i) => ({ value: `old-${i}`, partition: 0 }));
          assertDelivered(await produce(topic, old), "produce");
          // kafka-python: no group, no position -> the reset policy applies. confluent-kafka
          // needs a group.id, so the reset is triggered by an out-of-range start offset instead.
          const start = client === "kafka-python" ? {} : { offset: 1_000_000_000 };
          const early = await consume(topic, { partitions: [0], reset: "earliest", ...start });
          assert.deepEqual(
            early.records.map((r) => [r.offset, r.value]),
            old.map((r, i) => [i, r.value]),
            `earliest${clientSaid(early)}`,
          );
          const fresh = [
            { value: "new-0", partition: 0 },
            { value: "new-1", partition: 0 },
          ];
          const late = await consume(topic, {
            partitions: [0],
            reset: "latest",
            ...start,
            produce_when_positioned: fresh,
          });
          assert.ok(late.produced, `latest: the consumer never got positioned${clientSaid(late)}`);
          assertDelivered(late.produced, "produce while positioned");
          assert.deepEqual(
            late.records.map((r) => [r.offset, r.value]),
            [
              [5, "new-0"],
              [6, "new-1"],
            ],
            `latest: only records produced after positioning${clientSaid(late)}`,
          );
        },
      );

      test(
        "offsets_for_times finds the first offset at or after a timestamp",
        { timeout: 60_000 },
        async () => {
          const topic = uniqueName(`${client}-times`);
          const base = Date.now() - 60_000;
          const records = Array.from({ length: 5 }, (_, i) => ({
            value: `t${i}`,
            partition: 0,
            timestamp: base + i * 1000,
          }));
          const acks = await produce(topic, records);
          assertDelivered(acks, "produce");
          const { records: got } = await consume(topic, { partitions: [0] });
          assert.deepEqual(
            got.map((r) => r.timestamp),
            records.map((r) => r.timestamp),
            "CreateTime timestamps kept",
          );
          const offsets = await op<number[]>("offsets_for_times", {
            topic,
            partition: 0,
            timestamps: [base - 1, base, base + 1500, base + 4000, base + 4001, base + 10_000],
          });
          assert.deepEqual(offsets, [0, 0, 2, 4, -1, -1]);
        },
      );

      test("a 1,000,000-byte record is accepted and fetched intact", { timeout: 60_000 }, async () => {
        const topic = uniqueName(`${client}-big`);
        const acks = await produce(
          topic,
          [{ value: { size: 1_000_000, fill: "x" }, partition: 0 }],
          bigProducer,
        );
        assertDelivered(acks, "produce");
        const { records: got } = await consume(topic, { partitions: [0] });
        assert.equal(got.length, 1);
        assert.deepEqual(got[0].value, sha256OfFill(1_000_000));
      });

      test(
        "a record over message.max.bytes is refused with MESSAGE_TOO_LARGE",
        { timeout: 60_000 },
        async () => {
          const topic = uniqueName(`${client}-too-big`);
          const acks = await produce(
            topic,
            [
              { value: "before", partition: 0 },
              { value: { size: 1_100_000 }, partition: 0 },
              { value: "after", partition: 0 },
            ],
            bigProducer,
          );
          assert.equal(acks[0].error, null, `first record: ${JSON.stringify(acks[0])}`);
          assert.equal(acks[1].code, 10, `the big record: ${JSON.stringify(acks[1])}`);
          assert.ok(!acks[1].local, `refused by the client, not the broker: ${JSON.stringify(acks[1])}`);
          assert.match(
            String(acks[1].error),
            client === "kafka-python" ? /MessageSizeTooLarge/ : /MSG_SIZE_TOO_LARGE/,
          );
          assert.equal(acks[2].error, null, `record after it: ${JSON.stringify(acks[2])}`);
          const { records: got } = await consume(topic, { partitions: [0] });
          assert.deepEqual(
            got.map((r) => r.value),
            ["before", "after"],
          );
        },
      );
    },
  );
}

function lingerFor(client: PyClient, codec: string): Record<string, unknown> {
  // A linger so the 60 records travel in a few compressed batches, not one each.
  return client === "kafka-python"
    ? { compression_type: codec, linger_ms: 50 }
    : { "compression.type": codec, "linger.ms": 50 };
}
