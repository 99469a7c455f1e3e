// The lag collector against the target broker (CAPSTAN_TEST_TARGET), without Prometheus:
// request counts that do not grow with the number of groups, topic offsets, the
// interpolated time lag that never extrapolates, KIP-848 groups (where the target serves
// them), failed polls, and the standalone entry (operator/lag/main.ts).
// Group-dependent cases run against Kafka always, against Capstan while CAPSTAN_GROUPS_ENABLED.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Admin, Producer } from "kafkajs";
import { Kafka, logLevel } from "kafkajs";
import { ApiVersions } from "../../protocol/generated/apis.ts";
import { LagCollector } from "../../operator/lag/collector.ts";
import { LagMetrics } from "../../operator/lag/metrics.ts";
import type { LagSnapshot } from "../../operator/lag/snapshot.ts";
import { driverAvailable, driverCommand } from "../clients/drivers.ts";
import { CAPSTAN_GROUPS_ENABLED, uniqueName } from "../interop/helpers.ts";
import { node24, startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { freePort } from "../setup/kafka.ts";
import { commitOffsets, deleteRecords } from "./kafka-ops.ts";
import { RawClient } from "../setup/raw-client.ts";
import { ROOT } from "./dashboard.ts";

const target = testTarget();
const groupsEnabled = target === "kafka" || CAPSTAN_GROUPS_ENABLED || process.env.CAPSTAN_TEST_GROUPS === "1";
const noGroups = groupsEnabled
  ? false
  : "Capstan has no group coordinator yet (CAPSTAN_TEST_GROUPS=1 runs these)";
const CONSUMER_GROUP_HEARTBEAT = 68;

describe(`lag collector against ${target}`, { timeout: 240_000 }, () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const collectors: LagCollector[] = [];

  const collector = (opts: Partial<ConstructorParameters<typeof LagCollector>[0]> = {}) => {
    const c = new LagCollector({
      cluster: "c",
      namespace: "ns",
      bootstrap: [broker.bootstrap],
      intervalMs: 1000,
      ...opts,
    });
    collectors.push(c);
    return c;
  };
  const topicOf = (s: LagSnapshot, topic: string) => s.topics.find((t) => t.topic === topic);
  const groupOf = (s: LagSnapshot, id: string) => s.groups.find((g) => g.groupId === id);

  before(async () => {
    broker = await startTarget();
    kafka = new Kafka({
      clientId: "lag-collector-test",
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    for (const c of collectors) await c.stop();
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await broker?.close();
  });

  test("topic offsets: high watermark and log start offset per partition", async () => {
    const topic = uniqueName("lag-offsets");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `${i}` })),
    });
    await deleteRecords(broker.port, topic, { 0: 4 });
    const s = await collector().pollOnce();
    const t = topicOf(s, topic);
    assert.ok(t, `topic ${topic} in the snapshot`);
    assert.deepEqual(
      t.partitions.map((p) => [
        p.partition,
        p.highWatermark,
        p.oldestOffset,
        p.leader >= 0,
        p.underReplicated,
      ]),
      [
        [0, 10, 4, true, false],
        [1, 0, 0, true, false],
      ],
    );
    assert.deepEqual(s.stats.errors, []);
    assert.equal(s.brokers.length, 1);
  });

  test("a poll's requests do not grow with the number of groups", { skip: noGroups }, async () => {
    const topic = uniqueName("lag-batch");
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await producer.send({
      topic,
      messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `${i}` })),
    });
    const prefix = uniqueName("lag-batch-group");
    const commit = async (n: number) => {
      for (let i = 0; i < n; i++)
        await commitOffsets(broker.port, `${prefix}-${i}`, topic, { 0: 0, 1: 2, 2: 4 });
    };
    const only = new RegExp(`${prefix}-.*`);
    const steadyRequests = async () => {
      const c = collector({ groupFilter: only, topicFilter: new RegExp(topic) });
      await c.pollOnce(); // connections, ApiVersions, record timestamps
      return c.pollOnce();
    };
    await commit(3);
    const few = await steadyRequests();
    await commit(30);
    const many = await steadyRequests();
    assert.equal(few.groups.length, 3);
    assert.equal(many.groups.length, 30);
    assert.equal(many.stats.requests, few.stats.requests, "same request count for 3 and 30 groups");
    // One broker: Metadata, ListGroups, DescribeGroups, OffsetFetch, ListOffsets × 2.
    assert.ok(many.stats.requests <= 6, `${many.stats.requests} requests`);
    for (const g of many.groups) {
      assert.deepEqual(
        g.partitions.map((p) => [p.partition, p.committed, p.lag]),
        [
          [0, 0, 10],
          [1, 2, 8],
          [2, 4, 6],
        ],
      );
      assert.ok(g.partitions.every((p) => p.lagSecondsSource === "record"));
    }
    assert.equal(many.stats.clamped, 0);
  });

  test(
    "time lag without reading records: interpolated inside the table, a lower bound outside",
    { skip: noGroups },
    async () => {
      const fresh = uniqueName("lag-interp");
      const old = uniqueName("lag-bound");
      await admin.createTopics({
        topics: [
          { topic: fresh, numPartitions: 1 },
          { topic: old, numPartitions: 1 },
        ],
        waitForLeaders: true,
      });
      // `old` has its records before the collector ever looks; `fresh` gets them between polls.
      const oldWritten = Date.now();
      await producer.send({
        topic: old,
        messages: Array.from({ length: 100 }, (_, i) => ({ value: `${i}` })),
      });
      const group = uniqueName("lag-interp-group");
      await commitOffsets(broker.port, group, fresh, { 0: 0 });
      await commitOffsets(broker.port, group, old, { 0: 0 });
      const c = collector({ recordTimestamps: false, groupFilter: new RegExp(group) });
      const first = await c.pollOnce();
      assert.equal(
        groupOf(first, group)?.partitions.find((p) => p.topic === fresh)?.lagSecondsSource,
        "caught_up",
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await producer.send({
        topic: fresh,
        messages: Array.from({ length: 100 }, (_, i) => ({ value: `${i}` })),
      });
      const second = await c.pollOnce();
      const span = (second.takenAt - first.takenAt) / 1000;
      const g = groupOf(second, group)!;
      const pFresh = g.partitions.find((p) => p.topic === fresh)!;
      const pOld = g.partitions.find((p) => p.topic === old)!;
      assert.equal(pFresh.lag, 100);
      assert.equal(pFresh.lagSecondsSource, "interpolated");
      // Written between the two polls: the estimate stays inside that span.
      assert.ok(pFresh.lagSeconds! >= 0 && pFresh.lagSeconds! <= span, `${pFresh.lagSeconds} within ${span}`);
      // Older than the whole table: a lower bound (the table's age), never an extrapolation.
      assert.equal(pOld.lagSecondsSource, "lower_bound");
      assert.ok(Math.abs(pOld.lagSeconds! - span) < 0.01, `${pOld.lagSeconds} ≈ ${span}`);
      assert.ok(pOld.lagSeconds! <= (second.takenAt - oldWritten) / 1000, "below the true age");
    },
  );

  test("KIP-848 groups are described with ConsumerGroupDescribe", async (t) => {
    const raw = await RawClient.connect(broker.port);
    const versions = await raw.request(ApiVersions, 0, { clientSoftwareName: "", clientSoftwareVersion: "" });
    raw.close();
    if (!versions.apiKeys.some((k) => k.apiKey === CONSUMER_GROUP_HEARTBEAT)) {
      t.skip(`${target} does not serve the consumer group protocol (KIP-848)`);
      return;
    }
    if (!driverAvailable("java")) {
      t.skip("the Java client driver is not installed (bash test/setup/install.sh)");
      return;
    }
    const topic = uniqueName("lag-kip848");
    const group = uniqueName("lag-kip848-group");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    // The Java client driver with group.protocol=consumer: a KIP-848 group that consumed
    // and committed 3 records (the driver's scenario), then left.
    const cmd = driverCommand("java", { bootstrap: broker.bootstrap, topic, group, count: 3 });
    const run = spawnSync(cmd.command, [...cmd.args, "group.protocol=consumer"], {
      encoding: "utf8",
      timeout: 90_000,
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const s = await collector({ groupFilter: new RegExp(group) }).pollOnce();
    const g = groupOf(s, group);
    assert.ok(g, `group in ${JSON.stringify(s.groups.map((x) => x.groupId))}`);
    assert.equal(g.protocol, "consumer");
    assert.equal(g.error, null);
    assert.deepEqual(
      g.partitions.map((p) => [p.topic, p.partition, p.committed]),
      [[topic, 0, 3]],
    );
  });

  test("a cluster that cannot be reached: the poll fails, health says so, lag is withheld", async () => {
    const port = await freePort();
    const c = collector({ bootstrap: [`127.0.0.1:${port}`], connectTimeoutMs: 500 });
    await assert.rejects(c.pollOnce(), /metadata/);
    assert.equal(c.health.lastPollOk, false);
    assert.equal(c.health.errors.metadata, 1);
    assert.equal(c.snapshot, null);
    const m = new LagMetrics();
    m.add(c);
    const text = await m.metrics();
    assert.match(text, /capstan_lag_up\{cluster="c",namespace="ns"\} 0/);
    assert.match(text, /capstan_lag_poll_errors_total\{cluster="c",namespace="ns",stage="metadata"\} 1/);
    assert.doesNotMatch(text, /^kafka_/m);
  });

  test("the standalone entry serves /metrics at the chosen granularity", { skip: noGroups }, async () => {
    const topic = uniqueName("lag-main");
    const group = uniqueName("lag-main-group");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `${i}` })),
    });
    await commitOffsets(broker.port, group, topic, { 0: 3, 1: 10 });
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(
      node24(),
      [
        path.join(ROOT, "operator", "lag", "main.ts"),
        "--bootstrap",
        broker.bootstrap,
        "--cluster",
        "solo",
        "--port",
        "0",
        "--interval",
        "500ms",
        "--granularity",
        "topic",
        "--threshold",
        `${group}=120`,
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      let url: string | undefined;
      let text = "";
      while (Date.now() < deadline) {
        url ??= /listening on (http:\/\/\S+)/.exec(out)?.[1];
        if (url) {
          text = await (await fetch(url)).text();
          if (text.includes(`consumergroup="${group}"`)) break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const g = `cluster="solo",namespace="",consumergroup="${group}"`;
      assert.ok(text.includes(`kafka_consumergroup_lag_sum{${g},topic="${topic}"} 7`), text);
      assert.ok(text.includes(`kafka_consumergroup_max_lag{${g}} 7`), text);
      assert.ok(text.includes(`kafka_consumergroup_lag_threshold_seconds{${g}} 120`), text);
      // Topic granularity: no per-partition group series.
      assert.ok(!text.includes(`kafka_consumergroup_lag{${g}`), "no per-partition lag");
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0, out);
  });
});
