// Consumer-group interop against the target broker (CAPSTAN_TEST_TARGET): every client driver
// of test/clients (subscribe, consume, commit), the seed notes' SimpleConsumer (group
// test-group, as written), a console consumer in a group and kafka-consumer-groups.
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
import { Background, CAPSTAN_GROUPS_ENABLED, explain, run, uniqueName } from "./helpers.ts";
import { kafkaCli } from "./kafka-cli.ts";
import { compileSeed, seedUnavailable } from "./seed.ts";
import type { CompiledSeed } from "./seed.ts";

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
      broker = await startTarget();
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
  },
);
