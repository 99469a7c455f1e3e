// The lag exporter end to end, against the target broker (CAPSTAN_TEST_TARGET) and a real
// Prometheus (Debian package) scraping it every second:
//   - a group consumes a known backlog (100 produced, 40 committed): every PromQL query of
//     the Grafana dashboard, run through Prometheus's HTTP API, returns the expected
//     numbers (lag 60 ...), and lag in seconds is the age of the oldest unconsumed record
//     within a poll and a scrape interval;
//   - the paused consumer turns STALL (members, frozen offset, lag), the alert rule
//     loaded into the same Prometheus goes pending, and once the consumer leaves, STOP;
//   - a deleted group is gone from /metrics after the next poll.
// Group-dependent: runs against Kafka always, against Capstan while CAPSTAN_GROUPS_ENABLED.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Admin, Consumer, Producer } from "kafkajs";
import { Kafka, logLevel } from "kafkajs";
import { LagCollector } from "../../operator/lag/collector.ts";
import type { LagMetricsServer } from "../../operator/lag/http.ts";
import { serveLagMetrics } from "../../operator/lag/http.ts";
import { LagMetrics } from "../../operator/lag/metrics.ts";
import type { LagSnapshot } from "../../operator/lag/snapshot.ts";
import { CAPSTAN_GROUPS_ENABLED, uniqueName } from "../interop/helpers.ts";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { RULES, dashboardQueries, substitute } from "./dashboard.ts";
import type { PrometheusServer, Sample } from "./prometheus.ts";
import { prometheusBinary, startPrometheus } from "./prometheus.ts";

const target = testTarget();
const groupsEnabled = target === "kafka" || CAPSTAN_GROUPS_ENABLED || process.env.CAPSTAN_TEST_GROUPS === "1";
const skip = !prometheusBinary()
  ? "prometheus is not installed (apt-get install prometheus; .ci/run does)"
  : !groupsEnabled
    ? "Capstan has no group coordinator yet (CAPSTAN_TEST_GROUPS=1 runs these)"
    : false;

const CLUSTER = "lag-e2e";
const NAMESPACE = "lag-tests";
const POLL_MS = 1000;
const SCRAPE_S = 1;
const WINDOW = 4;

describe(`lag exporter and Prometheus against ${target}`, { skip, timeout: 240_000 }, () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;
  let collector: LagCollector;
  let server: LagMetricsServer;
  let prometheus: PrometheusServer;
  const topic = uniqueName("lag-e2e");
  const group = uniqueName("lag-e2e-group");
  /** The records' CreateTime: record i was produced at base + 10·i ms, two minutes ago. */
  const base = Date.now() - 120_000;
  const ts40 = base + 400;

  before(async () => {
    broker = await startTarget();
    kafka = new Kafka({ clientId: "lag-e2e", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
    collector = new LagCollector({
      cluster: CLUSTER,
      namespace: NAMESPACE,
      bootstrap: [broker.bootstrap],
      intervalMs: POLL_MS,
      status: { window: WINDOW },
    });
    const metrics = new LagMetrics();
    metrics.add(collector);
    server = await serveLagMetrics(metrics, { port: 0 });
    collector.start();
    prometheus = await startPrometheus({
      targets: [`127.0.0.1:${server.port}`],
      intervalSeconds: SCRAPE_S,
      ruleFiles: [RULES],
    });
  });

  after(async () => {
    await consumer?.disconnect().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await prometheus?.stop();
    await collector?.stop();
    await server?.close();
    await broker?.close();
  });

  const sel = `cluster="${CLUSTER}",namespace="${NAMESPACE}",consumergroup="${group}"`;
  const one = (samples: Sample[]) => samples.length === 1;

  test("the dashboard's queries return the backlog's numbers; lag seconds is the oldest record's age", async () => {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 100 }, (_, i) => ({
        value: `record-${i}`,
        timestamp: String(base + 10 * i),
      })),
    });

    // The group consumes the backlog up to offset 39, commits 40, and pauses (stays a member).
    consumer = kafka.consumer({ groupId: group, heartbeatInterval: 500, sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let highest = -1;
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        highest = Math.max(highest, Number(message.offset));
      },
    });
    const until = Date.now() + 60_000;
    while (highest < 39) {
      assert.ok(Date.now() < until, `the consumer saw offsets up to ${highest} only`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await consumer.commitOffsets([{ topic, partition: 0, offset: "40" }]);
    consumer.pause([{ topic }]);

    await prometheus.waitFor(
      `kafka_consumergroup_lag{${sel}}`,
      (s) => one(s) && s[0].value === 60,
      30_000,
      "lag 60",
    );
    // A paused member with a frozen offset and lag: STALL once the window is full.
    await prometheus.waitFor(
      `kafka_consumergroup_status{${sel},status="STALL"} == 1`,
      one,
      30_000,
      "status STALL",
    );

    const vars = { cluster: CLUSTER, namespace: NAMESPACE, consumergroup: group, topic };
    const age = (at: number) => (at - ts40) / 1000;
    /** A lag-seconds value read at `at` is the age at poll time: ≤ the age now, and at most a poll and a scrape younger. */
    const lagSecondsOk = (v: number, at: number) => {
      const slack = POLL_MS / 1000 + SCRAPE_S + 1;
      return v <= age(at) + 0.05 && age(at) - v <= slack;
    };
    const expectations: Record<string, (s: Sample[], at: number) => string | null> = {
      "Consumer groups/A": (s) => (one(s) && s[0].value === 1 ? null : "one group"),
      "Max lag/A": (s) => (one(s) && s[0].value === 60 ? null : "60"),
      "Max lag (time)/A": (s, at) => (one(s) && lagSecondsOk(s[0].value, at) ? null : `about ${age(at)} s`),
      "Groups not OK/A": (s) => (one(s) && s[0].value === 1 ? null : "1 (STALL)"),
      "Brokers/A": (s) => (one(s) && s[0].value === 1 ? null : "1"),
      "Last lag poll/A": (s) => (one(s) && s[0].value >= 0 && s[0].value < 3 ? null : "under 3 s"),
      "Lag by group and topic/A": (s) =>
        one(s) && s[0].value === 60 && s[0].metric.topic === topic && s[0].metric.consumergroup === group
          ? null
          : `60 for ${group}/${topic}`,
      "Lag in seconds by group/A": (s, at) =>
        one(s) && lagSecondsOk(s[0].value, at) ? null : `about ${age(at)} s`,
      "Lag in seconds by partition/A": (s, at) =>
        one(s) && s[0].metric.partition === "0" && lagSecondsOk(s[0].value, at) ? null : `about ${age(at)} s`,
      "Estimated time to drain/A": (s) => (one(s) && s[0].value === Infinity ? null : "+Inf (nothing moves)"),
      "Group status/A": (s) => (one(s) && s[0].metric.status === "STALL" ? null : "STALL"),
      "Groups by status/A": (s) =>
        one(s) && s[0].metric.status === "STALL" && s[0].value === 1 ? null : "STALL: 1",
      "Members/A": (s) => (one(s) && s[0].value === 1 ? null : "1 member"),
      "State and protocol/A": (s) =>
        one(s) &&
        s[0].metric.state === "Stable" &&
        s[0].metric.protocol === "classic" &&
        s[0].metric.assignor !== ""
          ? null
          : "Stable, classic, an assignor",
      "Messages in per second/A": (s) =>
        one(s) && Number.isFinite(s[0].value) && s[0].value >= 0 ? null : "a rate",
      "Messages consumed per second/A": (s) =>
        one(s) && Number.isFinite(s[0].value) && s[0].value >= 0 ? null : "a rate",
      "Partition offsets/A": (s) =>
        one(s) && s[0].value === 100 && s[0].metric.partition === "0" ? null : "100",
      "Partition offsets/B": (s) => (one(s) && s[0].value === 0 ? null : "0"),
      "Committed offsets and lag/A": (s) => (one(s) && s[0].value === 40 ? null : "40"),
      "Committed offsets and lag/B": (s) => (one(s) && s[0].value === 60 ? null : "60"),
      "Lag poll duration/A": (s) =>
        one(s) && s[0].value > 0 && s[0].value < POLL_MS / 1000 ? null : "under a poll interval",
      "Lag poll errors/A": (s) => (s.length > 0 && s.every((x) => x.value === 0) ? null : "no errors"),
    };
    const queries = dashboardQueries();
    assert.deepEqual(
      queries.map((q) => q.id).sort(),
      Object.keys(expectations).sort(),
      "every dashboard query has an expectation here",
    );
    const failures: string[] = [];
    for (const q of queries) {
      const expr = substitute(q.expr, vars);
      const at = Date.now();
      const samples = await prometheus.query(expr, at);
      const problem = expectations[q.id](samples, at);
      if (problem) failures.push(`${q.id}: expected ${problem}, got ${JSON.stringify(samples)}\n  ${expr}`);
    }
    assert.deepEqual(failures, []);

    // The time lag came from the record itself, and no lag was ever clamped.
    const source = await prometheus.query(`kafka_consumergroup_lag_seconds{${sel}}`);
    assert.equal(source[0]?.metric.source, "record", JSON.stringify(source));
    const clamped = await prometheus.query(`capstan_lag_clamped_partitions_total{cluster="${CLUSTER}"}`);
    assert.equal(clamped[0]?.value, 0);
    // The alert rule, evaluated by the same Prometheus, has seen the stall.
    await prometheus.waitFor(
      `ALERTS{alertname="KafkaConsumerGroupStalled",consumergroup="${group}"}`,
      one,
      10_000,
      "KafkaConsumerGroupStalled pending",
    );
  });

  test("a consumer that leaves turns the group from STALL to STOP", async () => {
    assert.ok(consumer, "the previous test started the consumer");
    await consumer.disconnect();
    consumer = undefined;
    await prometheus.waitFor(`kafka_consumergroup_members{${sel}} == 0`, one, 30_000, "no members");
    const stop = await prometheus.waitFor(
      `kafka_consumergroup_status{${sel},status="STOP"} == 1`,
      one,
      30_000,
      "status STOP",
    );
    assert.equal(stop.length, 1);
    const state = await prometheus.query(`kafka_consumergroup_state{${sel}}`);
    assert.equal(state[0]?.metric.state, "Empty");
    // Still 60 behind: an Empty group keeps its lag series while it has offsets.
    const lag = await prometheus.query(`kafka_consumergroup_lag{${sel}}`);
    assert.equal(lag[0]?.value, 60);
  });

  test("a deleted group is gone from /metrics after the next poll", async () => {
    const before = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.ok(before.includes(`consumergroup="${group}"`));
    await admin.deleteGroups([group]);
    const deletedAt = Date.now();
    // The first poll that started after the deletion.
    await new Promise<LagSnapshot>((resolve) => {
      const off = collector.onSnapshot((s) => {
        if (s.startedAt >= deletedAt) {
          off();
          resolve(s);
        }
      });
    });
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    const left = text.split("\n").filter((l) => l.includes(`consumergroup="${group}"`));
    assert.deepEqual(left, []);
    // Prometheus marks the vanished series stale at its next scrape.
    await prometheus.waitFor(
      `kafka_consumergroup_members{${sel}}`,
      (s) => s.length === 0,
      10_000,
      "no series",
    );
  });
});
