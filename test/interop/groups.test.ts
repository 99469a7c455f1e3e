// Consumer-group interop against the target broker (CAPSTAN_TEST_TARGET): every client driver
// of test/clients (subscribe, consume, commit), the seed notes' SimpleConsumer (group
// test-group, as written), a console consumer in a group and kafka-consumer-groups; the seed
// notes' rebalancing scenario with confluent-kafka members (3 partitions, members joining one
// by one, one closed and one killed); committed offsets across a broker restart, with
// kafka-consumer-groups listing, describing and resetting them and Kafka's own
// DumpLogSegments decoding __consumer_offsets.
//
// These need the group coordinator (FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
// OffsetCommit/OffsetFetch). Capstan has none yet: against Capstan the suite is skipped unless
// CAPSTAN_GROUPS_ENABLED below is true or CAPSTAN_TEST_GROUPS=1. It always runs against Kafka.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CLIENT_NAMES, driverAvailable, runDriver } from "../clients/drivers.ts";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { isKafkaInstalled } from "../setup/kafka.ts";
import net from "node:net";
import path from "node:path";
import { groupPartition } from "../../broker/group/java-hash.ts";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { freePort, jvmArgs, kafkaClasspath, kafkaToolClass } from "../setup/kafka.ts";
import {
  Background,
  CAPSTAN_GROUPS_ENABLED,
  PYTHON,
  ROOT,
  explain,
  havePython,
  py,
  run,
  uniqueName,
  waitUntil,
} from "./helpers.ts";
import { kafkaCli } from "./kafka-cli.ts";
import { compileSeed, seedUnavailable } from "./seed.ts";
import type { CompiledSeed } from "./seed.ts";

/**
 * A confluent-kafka group member for the rebalancing scenario: subscribes, prints every
 * assignment change, each record consumed and each synchronous commit as JSON lines, and
 * closes cleanly (LeaveGroup) when its stdin closes.
 */
const MEMBER_SCRIPT = `
import json, sys, threading
from confluent_kafka import Consumer
bootstrap, topic, group, name, strategy = sys.argv[1:6]
done = threading.Event()
def watch_stdin():
    sys.stdin.read()
    done.set()
threading.Thread(target=watch_stdin, daemon=True).start()
def say(**kw):
    kw["member"] = name
    print(json.dumps(kw), flush=True)
owned = set()
cooperative = strategy == "cooperative-sticky"
c = Consumer({
    "bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
    "partition.assignment.strategy": strategy, "enable.auto.commit": False,
    "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 100,
})
def on_assign(consumer, parts):
    if not cooperative:
        owned.clear()
    owned.update(p.partition for p in parts)
    say(event="assignment", partitions=sorted(owned))
def on_revoke(consumer, parts):
    if cooperative:
        owned.difference_update(p.partition for p in parts)
    else:
        owned.clear()
    say(event="assignment", partitions=sorted(owned))
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
while not done.is_set():
    m = c.poll(0.2)
    if m is None:
        continue
    if m.error():
        say(event="error", error=m.error().name())
        continue
    say(event="consumed", partition=m.partition(), offset=m.offset())
    try:
        c.commit(message=m, asynchronous=False)
        say(event="committed", partition=m.partition(), offset=m.offset())
    except Exception as e:
        say(event="commit-failed", partition=m.partition(), offset=m.offset(), error=str(e))
c.close()
say(event="closed")
`;

/** The same member with kafka-python (eager range and round-robin assignors only). */
const KAFKA_PYTHON_MEMBER_SCRIPT = `
import json, sys, threading
from kafka import KafkaConsumer, OffsetAndMetadata
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
bootstrap, topic, group, name, strategy = sys.argv[1:6]
done = threading.Event()
def watch_stdin():
    sys.stdin.read()
    done.set()
threading.Thread(target=watch_stdin, daemon=True).start()
def say(**kw):
    kw["member"] = name
    print(json.dumps(kw), flush=True)
class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        say(event="assignment", partitions=[])
    def on_partitions_assigned(self, assigned):
        say(event="assignment", partitions=sorted(p.partition for p in assigned))
assignor = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}[strategy]
c = KafkaConsumer(
    bootstrap_servers=bootstrap, group_id=group, client_id=name, enable_auto_commit=False,
    auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=500,
    fetch_max_wait_ms=100, partition_assignment_strategy=[assignor],
)
c.subscribe([topic], listener=Listener())
while not done.is_set():
    for tp, msgs in c.poll(timeout_ms=200).items():
        for m in msgs:
            say(event="consumed", partition=m.partition, offset=m.offset)
            try:
                c.commit({tp: OffsetAndMetadata(m.offset + 1, "")})
                say(event="committed", partition=m.partition, offset=m.offset)
            except Exception as e:
                say(event="commit-failed", partition=m.partition, offset=m.offset, error=str(e))
c.close()
say(event="closed")
`;

/** The same member with the Java client (run from source: `java -cp <kafka jars> Member.java`). */
const JAVA_MEMBER_SOURCE = `
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.StringDeserializer;

public class Member {
  static String name;
  static synchronized void say(String event, String rest) {
    System.out.println("{\\"event\\":\\"" + event + "\\",\\"member\\":\\"" + name + "\\"" + rest + "}");
    System.out.flush();
  }
  public static void main(String[] a) throws Exception {
    String bootstrap = a[0], topic = a[1], group = a[2], strategy = a[4];
    name = a[3];
    Map<String, String> assignors = Map.of(
        "range", RangeAssignor.class.getName(),
        "roundrobin", RoundRobinAssignor.class.getName(),
        "cooperative-sticky", CooperativeStickyAssignor.class.getName());
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", group);
    p.put("client.id", name);
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("session.timeout.ms", "6000");
    p.put("heartbeat.interval.ms", "500");
    p.put("partition.assignment.strategy", assignors.get(strategy));
    KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
    Set<Integer> owned = new TreeSet<>();
    // Not wakeup(): it would abort a commitSync in flight, whose commit may still land.
    java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
    Thread stdin = new Thread(() -> {
      try { while (System.in.read() >= 0) {} } catch (Exception e) {}
      done.set(true);
    });
    stdin.setDaemon(true);
    stdin.start();
    c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
      public void onPartitionsRevoked(Collection<TopicPartition> parts) {
        for (TopicPartition tp : parts) owned.remove(tp.partition());
        say("assignment", ",\\"partitions\\":" + owned);
      }
      public void onPartitionsAssigned(Collection<TopicPartition> parts) {
        for (TopicPartition tp : parts) owned.add(tp.partition());
        say("assignment", ",\\"partitions\\":" + owned);
      }
    });
    while (!done.get()) {
      for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
        String at = ",\\"partition\\":" + r.partition() + ",\\"offset\\":" + r.offset();
        say("consumed", at);
        try {
          c.commitSync(Map.of(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1)));
          say("committed", at);
        } catch (CommitFailedException | RebalanceInProgressException e) {
          say("commit-failed", at);
        }
      }
    }
    c.close();
    say("closed", "");
  }
}
`;

/** The same member with kafkajs (its one built-in assignor: round-robin). */
const KAFKAJS_MEMBER_SCRIPT = `
import kafkajs from "kafkajs";
const { Kafka, logLevel } = kafkajs;
const [bootstrap, topic, group, name] = process.argv.slice(1);
const say = (o) => process.stdout.write(JSON.stringify({ ...o, member: name }) + "\\n");
const kafka = new Kafka({ brokers: [bootstrap], clientId: name, logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
consumer.on(consumer.events.GROUP_JOIN, (e) =>
  say({ event: "assignment", partitions: [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b) }),
);
await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachMessage: async ({ partition, message }) => {
    const offset = Number(message.offset);
    say({ event: "consumed", partition, offset });
    try {
      await consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }]);
      say({ event: "committed", partition, offset });
    } catch (e) {
      say({ event: "commit-failed", partition, offset, error: String(e) });
    }
  },
});
process.stdin.resume();
process.stdin.on("end", async () => {
  await consumer.disconnect();
  say({ event: "closed" });
  process.exit(0);
});
`;

type MemberClient = "confluent-kafka" | "kafka-python" | "java" | "kafkajs";

let javaSource: string | undefined;
/** Member.java in a temp directory, written once per run. */
function javaMemberSource(): string {
  if (!javaSource) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "capstan-member-"));
    javaSource = path.join(dir, "Member.java");
    writeFileSync(javaSource, JAVA_MEMBER_SOURCE);
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return javaSource;
}

interface MemberEvent {
  event: string;
  member: string;
  partitions?: number[];
  partition?: number;
  offset?: number;
}

class Member {
  readonly name: string;
  readonly proc: Background;

  constructor(
    bootstrap: string,
    topic: string,
    group: string,
    name: string,
    strategy: string,
    client: MemberClient = "confluent-kafka",
  ) {
    this.name = name;
    const args = [bootstrap, topic, group, name, strategy];
    if (client === "java") {
      this.proc = new Background(
        "java",
        [
          ...jvmArgs("256m"),
          `-Dlog4j2.configurationFile=${path.join(ROOT, "test", "clients", "log4j2-warn.properties")}`,
          "-cp",
          kafkaClasspath(),
          javaMemberSource(),
          ...args,
        ],
        { timeoutMs: 280_000 },
      );
      return;
    }
    if (client === "kafkajs") {
      this.proc = new Background(
        process.execPath,
        ["--input-type=module", "-e", KAFKAJS_MEMBER_SCRIPT, ...args],
        {
          timeoutMs: 280_000,
          // Not NODE_TEST_CONTEXT (undefined drops it): the member is a program, not a test file.
          env: { NODE_TEST_CONTEXT: undefined, KAFKAJS_NO_PARTITIONER_WARNING: "1" },
        },
      );
      return;
    }
    const script = client === "confluent-kafka" ? MEMBER_SCRIPT : KAFKA_PYTHON_MEMBER_SCRIPT;
    this.proc = new Background(PYTHON, ["-c", script, ...args], { timeoutMs: 280_000 });
  }

  events(): MemberEvent[] {
    return this.proc.stdout
      .split("\n")
      .filter((l) => l.startsWith('{"event"') || l.startsWith('{"member"'))
      .map((l) => JSON.parse(l) as MemberEvent)
      .filter((e) => typeof e.event === "string");
  }

  /** The partitions it owns now (none once it exited); null until its first assignment. */
  assignment(): number[] | null {
    if (this.proc.exited) return [];
    const last = this.events()
      .filter((e) => e.event === "assignment")
      .pop();
    return last?.partitions ?? null;
  }
}

/** Waits until the running members own the topic's partitions exactly once, in groups of these sizes. */
async function waitForSplit(
  members: Member[],
  sizes: number[],
  partitions: number,
  what: string,
): Promise<void> {
  const describe = () => members.map((m) => `${m.name}=${JSON.stringify(m.assignment())}`).join(" ");
  try {
    await waitUntil(
      () => {
        const maybe = members.map((m) => m.assignment());
        // Every member must have joined (an idle member's assignment is empty, not missing).
        if (maybe.some((o) => o === null)) return false;
        const owned = maybe as number[][];
        const all = owned.flat().sort((a, b) => a - b);
        const want = Array.from({ length: partitions }, (_, i) => i);
        const got = owned.map((o) => o.length).sort((a, b) => a - b);
        return (
          JSON.stringify(all) === JSON.stringify(want) &&
          JSON.stringify(got) === JSON.stringify([...sizes].sort((a, b) => a - b))
        );
      },
      45_000,
      what,
    );
  } catch (err) {
    throw new Error(
      `${String(err)}\nassignments: ${describe()}\n${members.map((m) => m.proc.describe()).join("\n")}`,
      { cause: err },
    );
  }
}

/** Debian's burrow (Burrow 1.2) and the ZooKeeper it insists on for its own coordination. */
const BURROW = "/usr/bin/Burrow";
const ZK_SERVER = "/usr/share/zookeeper/bin/zkServer.sh";
const burrowMissing = !existsSync(BURROW)
  ? "Burrow is not installed (Debian package burrow)"
  : !existsSync(ZK_SERVER)
    ? "ZooKeeper is not installed (Debian package zookeeper; Burrow needs it)"
    : false;

interface BurrowLag {
  error: boolean;
  status?: {
    group: string;
    totallag: number;
    partitions: Array<{ topic: string; partition: number; current_lag: number; end: { offset: number } }>;
  };
}

/** A ZooKeeper and a Burrow on loopback ports, Burrow reading the broker's __consumer_offsets. */
async function startBurrow(
  bootstrap: string,
): Promise<{ lag(group: string): Promise<BurrowLag>; describe(): string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "capstan-burrow-"));
  const zkPort = await freePort();
  const httpPort = await freePort();
  await writeFile(
    path.join(dir, "zoo.cfg"),
    `tickTime=2000\ndataDir=${dir}/zk\nclientPort=${zkPort}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n`,
  );
  await writeFile(
    path.join(dir, "burrow.toml"),
    [
      "[general]",
      `pidfile="${dir}/burrow.pid"`,
      "[logging]",
      `filename="${dir}/burrow.log"`,
      'level="info"',
      "[zookeeper]",
      `servers=["127.0.0.1:${zkPort}"]`,
      'root-path="/burrow"',
      "[client-profile.capstan]",
      'client-id="burrow"',
      'kafka-version="2.0.0"',
      "[cluster.capstan]",
      'class-name="kafka"',
      `servers=["${bootstrap}"]`,
      'client-profile="capstan"',
      "topic-refresh=5",
      "offset-refresh=2",
      "[consumer.capstan]",
      'class-name="kafka"',
      'cluster="capstan"',
      `servers=["${bootstrap}"]`,
      'client-profile="capstan"',
      'offsets-topic="__consumer_offsets"',
      "start-latest=false",
      "[httpserver.default]",
      `address="127.0.0.1:${httpPort}"`,
      "[storage.default]",
      'class-name="inmemory"',
      "intervals=10",
      "min-distance=1",
      "",
    ].join("\n"),
  );
  const zk = new Background(ZK_SERVER, ["start-foreground", path.join(dir, "zoo.cfg")], {
    env: { ZOOCFGDIR: dir, ZOO_LOG_DIR: dir },
    timeoutMs: 170_000,
  });
  // Ready once it answers the "srvr" four-letter command (an open port is not enough).
  await waitUntil(
    () =>
      new Promise<boolean>((resolve) => {
        let answer = "";
        const s = net.connect(zkPort, "127.0.0.1", () => s.end("srvr"));
        s.setEncoding("utf8");
        s.on("data", (d: string) => (answer += d));
        s.on("close", () => resolve(/Mode: standalone/.test(answer)));
        s.on("error", () => resolve(false));
      }),
    30_000,
    "ZooKeeper serving",
  );
  const burrow = new Background(BURROW, ["--config-dir", dir], { cwd: dir, timeoutMs: 160_000 });
  return {
    async lag(group) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/v3/kafka/capstan/consumer/${group}/lag`);
      return (await res.json()) as BurrowLag;
    },
    describe() {
      const log = existsSync(path.join(dir, "burrow.log"))
        ? readFileSync(path.join(dir, "burrow.log"), "utf8")
        : "";
      return `${burrow.describe()}\n--- burrow.log ---\n${log.slice(-4000)}\n${zk.describe()}`;
    },
    async stop() {
      await burrow.kill();
      await zk.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A kafka-python consumer in a group with a given auto.offset.reset ("none" too, which Kafka's
 * clients turn into an error when the group has no committed offset): prints the offsets it
 * read (up to `max`, committing them) and the error, if any, as one JSON line.
 */
const RESET_SCRIPT = `
import json, sys, time
from kafka import KafkaConsumer
from kafka.consumer.fetcher import NoOffsetForPartitionError
b, topic, group, reset, want = sys.argv[1:6]
c = KafkaConsumer(bootstrap_servers=b, group_id=group, auto_offset_reset=reset, enable_auto_commit=False)
c.subscribe([topic])
out = {"offsets": [], "error": None}
deadline = time.time() + 8
try:
    while time.time() < deadline and len(out["offsets"]) < int(want):
        for tp, msgs in c.poll(timeout_ms=300).items():
            out["offsets"] += [m.offset for m in msgs]
    if out["offsets"]:
        c.commit()
except NoOffsetForPartitionError:
    out["error"] = "NoOffsetForPartitionError"
c.close()
print(json.dumps(out))
`;

const target = testTarget();
const enabled = target === "kafka" || CAPSTAN_GROUPS_ENABLED || process.env.CAPSTAN_TEST_GROUPS === "1";

describe(
  `consumer groups against ${target}`,
  {
    skip: enabled ? false : "Capstan has no group coordinator yet (CAPSTAN_TEST_GROUPS=1 runs these)",
    timeout: 300_000,
  },
  () => {
    let broker: TestBroker;
    before(async () => {
      // As the Kafka harness does: no 3 s wait for more members before the first rebalance.
      broker = await startTarget({ overrides: { "group.initial.rebalance.delay.ms": "0" } });
    });
    after(() => broker?.close());

    for (const client of CLIENT_NAMES) {
      test(
        `${client} driver: produce, subscribe, consume, commit`,
        { skip: driverAvailable(client) ? false : `${client} is not installed`, timeout: 100_000 },
        async () => {
          const r = await runDriver(client, {
            bootstrap: broker.bootstrap,
            topic: uniqueName(`groups-${client}`),
            group: uniqueName(`groups-${client}-group`),
            count: 5,
          });
          assert.equal(r.code, 0, `${client} driver failed after ${r.ms} ms\n${r.stdout}\n${r.stderr}`);
          assert.match(r.stdout, /^ok$/m);
          assert.equal((r.stdout.match(/^consumed /gm) ?? []).length, 5, r.stdout);
        },
      );
    }

    describe(
      "seed notes: SimpleConsumer (group test-group) sees what SimpleProducer sends",
      { skip: seedUnavailable() },
      () => {
        let seed: CompiledSeed;
        before(async () => {
          seed = await compileSeed();
        });
        after(() => seed?.cleanup());

        test("as written, it prints the produced record", { timeout: 120_000 }, async () => {
          // The consumer starts at the latest offset (no committed offset, auto.offset.reset
          // default): wait until it is positioned, then produce.
          const consumer = new Background("java", seed.javaArgs("SimpleConsumer", broker.bootstrap), {
            timeoutMs: 110_000,
          });
          try {
            await consumer.waitFor(
              (out) => /Resetting offset for partition test-0|Setting offset for partition test-0/.test(out),
              60_000,
              "SimpleConsumer assigned test-0 and positioned",
            );
            const p = await run("java", seed.javaArgs("SimpleProducer", broker.bootstrap), {
              timeoutMs: 60_000,
            });
            assert.equal(p.code, 0, explain(p));
            await consumer.waitFor(
              (out) =>
                /record : ConsumerRecord\(topic = test, partition = 0, .*key = key1, value = testMessage/.test(
                  out,
                ),
              30_000,
              "SimpleConsumer printed the record",
            );
          } finally {
            await consumer.kill(); // it polls forever
          }
        });
      },
    );

    test(
      "console consumer in a group, then kafka-consumer-groups describes its committed offsets",
      { skip: isKafkaInstalled() ? false : "Kafka jars are not cached", timeout: 120_000 },
      async () => {
        const topic = uniqueName("groups-console");
        const group = uniqueName("groups-console-group");
        const created = await kafkaCli("topics", [
          "--bootstrap-server",
          broker.bootstrap,
          "--create",
          "--topic",
          topic,
        ]);
        assert.equal(created.code, 0, explain(created));
        const produced = await kafkaCli(
          "console-producer",
          ["--bootstrap-server", broker.bootstrap, "--topic", topic],
          {
            input: "a\nb\nc\n",
          },
        );
        assert.equal(produced.code, 0, explain(produced));
        const consumed = await kafkaCli("console-consumer", [
          "--bootstrap-server",
          broker.bootstrap,
          "--topic",
          topic,
          "--group",
          group,
          "--from-beginning",
          "--max-messages",
          "3",
          "--timeout-ms",
          "30000",
        ]);
        assert.equal(consumed.code, 0, explain(consumed));
        assert.deepEqual(consumed.stdout.trim().split("\n"), ["a", "b", "c"]);
        const described = await kafkaCli("consumer-groups", [
          "--bootstrap-server",
          broker.bootstrap,
          "--describe",
          "--group",
          group,
        ]);
        assert.equal(described.code, 0, explain(described));
        assert.match(
          described.stdout,
          new RegExp(`${group}\\s+${topic}\\s+0\\s+3\\s+3\\s+0\\b`),
          explain(described),
        );
      },
    );

    const scenarios: Array<[MemberClient, string]> = [
      ["confluent-kafka", "range"],
      ["confluent-kafka", "roundrobin"],
      ["confluent-kafka", "cooperative-sticky"],
      ["kafka-python", "range"],
      ["kafka-python", "roundrobin"],
      ["java", "range"],
      ["java", "roundrobin"],
      ["java", "cooperative-sticky"],
      ["kafkajs", "roundrobin"],
    ];
    for (const [client, strategy] of scenarios) {
      test(
        `seed scenario with ${client} (${strategy}): 3, 2+1, 1+1+1 and an idle 4th; a closed and a killed member's partitions move`,
        {
          skip: !havePython("confluent_kafka")
            ? "python3-confluent-kafka is not installed (it creates the topic and produces)"
            : client === "java"
              ? isKafkaInstalled()
                ? false
                : "Kafka jars are not cached"
              : client === "kafkajs"
                ? false
                : havePython(client === "kafka-python" ? "kafka" : "confluent_kafka")
                  ? false
                  : `${client} is not installed`,
          timeout: 240_000,
        },
        async () => {
          const b = broker.bootstrap;
          const topic = uniqueName(`groups-seed-${client}-${strategy}`);
          const group = uniqueName(`groups-seed-${client}-${strategy}-group`);
          const created = await py<{ error: unknown }>("confluent-kafka", "create_topic", {
            bootstrap: b,
            topic,
            partitions: 3,
          });
          assert.equal(created.error, null, JSON.stringify(created));
          let produced = 0;
          const produce = async (n: number) => {
            const records = Array.from({ length: n }, (_, i) => ({
              value: `r${produced + i}`,
              partition: i % 3,
            }));
            const acks = await py<Array<{ error: unknown }>>("confluent-kafka", "produce", {
              bootstrap: b,
              topic,
              records,
            });
            assert.ok(
              acks.every((a) => a.error === null),
              JSON.stringify(acks),
            );
            produced += n;
          };
          await produce(30);
          const members: Member[] = [];
          const join = (name: string) => {
            const m = new Member(b, topic, group, name, strategy, client);
            members.push(m);
            return m;
          };
          try {
            join("m1");
            await waitForSplit(members, [3], 3, "one member owns 0,1,2");
            join("m2");
            await waitForSplit(members, [1, 2], 3, "a second member: 2+1");
            join("m3");
            await waitForSplit(members, [1, 1, 1], 3, "a third member: 1 each");
            join("m4");
            await waitForSplit(members, [0, 1, 1, 1], 3, "a fourth member sits idle");
            await produce(30);

            // Closed: it leaves the group, and the idle member takes over its partition.
            const closing = members.find((m) => (m.assignment() ?? []).length > 0)!;
            closing.proc.endInput();
            const closed = await closing.proc.done;
            assert.equal(closed.code, 0, closing.proc.describe());
            const rest = members.filter((m) => m !== closing);
            await waitForSplit(rest, [1, 1, 1], 3, `${closing.name} closed: its partition moves`);

            // Killed: no LeaveGroup; its partition moves once the session times out (6 s).
            const victim = rest.find((m) => (m.assignment() ?? []).length > 0)!;
            const killedAt = Date.now();
            await victim.proc.kill("SIGKILL");
            const survivors = rest.filter((m) => m !== victim);
            await waitForSplit(survivors, [1, 2], 3, `${victim.name} killed: its partition moves`);
            assert.ok(
              Date.now() - killedAt < 30_000,
              `partitions moved ${Date.now() - killedAt} ms after kill -9`,
            );
            await produce(30);

            // Everything produced is consumed (nothing skipped); nothing committed is consumed
            // again. (A member killed right after a commit may not have printed it: the
            // commit can be durable all the same, so the check counts consumed records.)
            const all = () => members.flatMap((m) => m.events());
            await waitUntil(
              () =>
                new Set(
                  all()
                    .filter((e) => e.event === "consumed")
                    .map((e) => `${e.partition}@${e.offset}`),
                ).size === produced,
              45_000,
              `all ${produced} records consumed`,
            ).catch((err: unknown) => {
              throw new Error(`${String(err)}\n${members.map((m) => m.proc.describe()).join("\n")}`, {
                cause: err,
              });
            });
            const commits = new Map<string, number>();
            for (const e of all()) {
              if (e.event === "committed")
                commits.set(
                  `${e.partition}@${e.offset}`,
                  (commits.get(`${e.partition}@${e.offset}`) ?? 0) + 1,
                );
            }
            const twice = [...commits].filter(([, n]) => n > 1).map(([k]) => k);
            assert.deepEqual(twice, [], "records committed by one member and consumed again by another");
          } finally {
            for (const m of members) await m.proc.kill();
          }
        },
      );
    }

    test(
      "committed offsets survive a broker restart; kafka-consumer-groups lists, describes and resets them",
      {
        skip: !havePython("confluent_kafka")
          ? "python3-confluent-kafka is not installed"
          : isKafkaInstalled()
            ? false
            : "Kafka jars are not cached",
        timeout: 180_000,
      },
      async () => {
        const b = broker.bootstrap;
        const topic = uniqueName("groups-restart");
        const group = uniqueName("groups-restart-group");
        const produce = async (from: number, n: number) => {
          const records = Array.from({ length: n }, (_, i) => ({ value: `v${from + i}`, partition: 0 }));
          const acks = await py<Array<{ error: unknown }>>("confluent-kafka", "produce", {
            bootstrap: b,
            topic,
            records,
          });
          assert.ok(
            acks.every((a) => a.error === null),
            JSON.stringify(acks),
          );
        };
        /** One member consumes until it has committed through `until`, then leaves; returns offsets consumed. */
        const consumeUntil = async (until: number): Promise<number[]> => {
          const m = new Member(b, topic, group, "restart-member", "range");
          try {
            await waitUntil(
              () => m.events().some((e) => e.event === "committed" && e.offset === until),
              45_000,
              `committed offset ${until}`,
            ).catch((err: unknown) => {
              throw new Error(`${String(err)}\n${m.proc.describe()}`, { cause: err });
            });
            m.proc.endInput();
            await m.proc.done;
            return m
              .events()
              .filter((e) => e.event === "consumed")
              .map((e) => e.offset!);
          } finally {
            await m.proc.kill();
          }
        };
        const cli = (args: string[]) => kafkaCli("consumer-groups", ["--bootstrap-server", b, ...args]);
        const describeLine = async () => {
          const r = await cli(["--describe", "--group", group]);
          assert.equal(r.code, 0, explain(r));
          return r.stdout;
        };

        await produce(0, 5);
        assert.deepEqual(await consumeUntil(4), [0, 1, 2, 3, 4]);
        await broker.restart();
        const listed = await cli(["--list"]);
        assert.equal(listed.code, 0, explain(listed));
        assert.ok(listed.stdout.split("\n").includes(group), explain(listed));
        assert.match(await describeLine(), new RegExp(`${group}\\s+${topic}\\s+0\\s+5\\s+5\\s+0\\b`));
        await produce(5, 2);
        assert.deepEqual(await consumeUntil(6), [5, 6], "the group resumes after its committed offset");

        const reset = await cli([
          "--reset-offsets",
          "--group",
          group,
          "--topic",
          topic,
          "--to-offset",
          "2",
          "--execute",
        ]);
        assert.equal(reset.code, 0, explain(reset));
        assert.match(await describeLine(), new RegExp(`${group}\\s+${topic}\\s+0\\s+2\\s+7\\s+5\\b`));
        assert.deepEqual(await consumeUntil(6), [2, 3, 4, 5, 6], "the group restarts from the reset offset");

        // Kafka's own tool decodes what the coordinator wrote to the group's partition.
        const partitions = readdirSync(broker.dataDir).filter((d) =>
          d.startsWith("__consumer_offsets-"),
        ).length;
        const dir = path.join(broker.dataDir, `__consumer_offsets-${groupPartition(group, partitions)}`);
        const dumped = await run("java", [
          ...jvmArgs("256m"),
          `-Dlog4j2.configurationFile=${path.join(ROOT, "test", "clients", "log4j2-warn.properties")}`,
          "-cp",
          kafkaClasspath(),
          kafkaToolClass("dump-log-segments"),
          "--offsets-decoder",
          "--files",
          path.join(dir, "00000000000000000000.log"),
        ]);
        assert.equal(dumped.code, 0, explain(dumped));
        assert.match(
          dumped.stdout,
          new RegExp(
            `key: \\{"type":"1","data":\\{"group":"${group}","topic":"${topic}","partition":0\\}\\} payload: \\{"version":"[34]","data":\\{"offset":7,`,
          ),
          explain(dumped),
        );
        assert.match(
          dumped.stdout,
          new RegExp(
            `key: \\{"type":"2","data":\\{"group":"${group}"\\}\\} payload: \\{"version":"3","data":\\{"protocolType":"consumer"`,
          ),
        );
      },
    );

    test(
      "Burrow reads __consumer_offsets and reports the group's lag",
      {
        skip:
          // Kafka 4.x writes OffsetCommitValue v4 (flexible, with a topic id); Burrow 1.2 cannot
          // decode it and never learns of the group. Capstan writes v3, as Kafka 2.1-3.x did.
          (target === "kafka" && "Burrow 1.2 cannot decode the offset records Kafka 4.x writes") ||
          burrowMissing ||
          (havePython("confluent_kafka") ? false : "python3-confluent-kafka is not installed"),
        timeout: 180_000,
      },
      async () => {
        const b = broker.bootstrap;
        const topic = uniqueName("groups-burrow");
        const group = uniqueName("groups-burrow-group");
        const produce = async (n: number) => {
          const records = Array.from({ length: n }, (_, i) => ({ value: `b${i}`, partition: 0 }));
          const acks = await py<Array<{ error: unknown }>>("confluent-kafka", "produce", {
            bootstrap: b,
            topic,
            records,
          });
          assert.ok(
            acks.every((a) => a.error === null),
            JSON.stringify(acks),
          );
        };
        await produce(4);
        const m = new Member(b, topic, group, "burrow-member", "range");
        try {
          await waitUntil(
            () => m.events().some((e) => e.event === "committed" && e.offset === 3),
            45_000,
            "committed",
          );
          m.proc.endInput();
          await m.proc.done;
        } finally {
          await m.proc.kill();
        }
        await produce(3); // committed 4, log end 7: a lag of 3
        const burrow = await startBurrow(b);
        try {
          let last: BurrowLag | undefined;
          await waitUntil(
            async () => {
              last = await burrow.lag(group).catch(() => undefined);
              return last?.status?.totallag === 3;
            },
            60_000,
            "Burrow reports a lag of 3",
          ).catch((err: unknown) => {
            throw new Error(`${String(err)}; last answer: ${JSON.stringify(last)}\n${burrow.describe()}`, {
              cause: err,
            });
          });
          const p = last!.status!.partitions.find((x) => x.topic === topic);
          assert.deepEqual([p?.partition, p?.current_lag, p?.end.offset], [0, 3, 4]);
        } finally {
          await burrow.stop();
        }
      },
    );

    test(
      "auto.offset.reset in a group: earliest without a committed offset, none fails until one is committed, latest skips what exists",
      { skip: havePython("kafka") ? false : "python3-kafka is not installed", timeout: 90_000 },
      async () => {
        const b = broker.bootstrap;
        const topic = uniqueName("groups-reset");
        const group = uniqueName("groups-reset-group");
        const consume = async (g: string, reset: string, want: number) => {
          const r = await run(PYTHON, ["-c", RESET_SCRIPT, b, topic, g, reset, String(want)], {
            timeoutMs: 60_000,
          });
          assert.equal(r.code, 0, explain(r));
          return JSON.parse(r.stdout.trim().split("\n").pop()!) as {
            offsets: number[];
            error: string | null;
          };
        };
        const produce = async (n: number) => {
          const records = Array.from({ length: n }, (_, i) => ({ value: `x${i}`, partition: 0 }));
          const acks = await py<Array<{ error: unknown }>>("kafka-python", "produce", {
            bootstrap: b,
            topic,
            records,
          });
          assert.ok(
            acks.every((a) => a.error === null),
            JSON.stringify(acks),
          );
        };
        await produce(3);
        assert.deepEqual(await consume(group, "none", 1), {
          offsets: [],
          error: "NoOffsetForPartitionError",
        });
        assert.deepEqual(await consume(group, "earliest", 3), { offsets: [0, 1, 2], error: null });
        await produce(2);
        // Committed offsets now exist, so "none" resumes from them.
        assert.deepEqual(await consume(group, "none", 2), { offsets: [3, 4], error: null });
        assert.deepEqual(await consume(uniqueName("groups-reset-latest"), "latest", 1), {
          offsets: [],
          error: null,
        });
      },
    );
  },
);
