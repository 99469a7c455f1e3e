// Crash safety of the target broker (CAPSTAN_TEST_TARGET, meant for Capstan):
//  1. two confluent-kafka producers (acks=1 and acks=all, delivery reports recorded) stream
//     while the broker is killed with SIGKILL and restarted; afterwards every acknowledged
//     record is at exactly its acknowledged offset;
//  2. (Capstan only) garbage appended to the active segment while the broker is down after a
//     clean shutdown: the broker starts, logs the truncation (file and position/offset), serves
//     everything acknowledged and appends after it. Kafka skips recovery after a clean
//     shutdown, so this one is Capstan's own promise;
//  3. a torn partial batch appended after a SIGKILL: same checks (the log line Capstan only).
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { haveCommand, havePython, kcatConsume, kcatProduce, uniqueName } from "../interop/helpers.ts";
import { checkAcked, StreamProducer } from "../interop/stream.ts";
import type { Ack } from "../interop/stream.ts";
import { activeSegment, appendGarbage, appendTornBatch } from "./segments.ts";
import type { Damage } from "./segments.ts";

const target = testTarget();
const unavailable = !havePython("confluent_kafka")
  ? "python3-confluent-kafka is not installed"
  : !haveCommand("kcat", ["-V"])
    ? "kcat is not installed"
    : false;

/** The broker's output since its latest (re)start. */
function logsSinceRestart(broker: TestBroker): string {
  const all = broker.logs();
  const marker = all.lastIndexOf("=== restart");
  return marker >= 0 ? all.slice(marker) : all;
}

/** The log line reporting the truncation of damage.file, if any. */
function truncationLine(logs: string, damage: Damage): string | undefined {
  const base = path.basename(damage.file);
  const partitionDir = path.basename(path.dirname(damage.file));
  const numbers = [String(damage.validBytes)];
  if (damage.nextOffset !== undefined) numbers.push(String(damage.nextOffset));
  return logs
    .split("\n")
    .find(
      (l) =>
        /truncat/i.test(l) &&
        (l.includes(base) || l.includes(partitionDir)) &&
        numbers.some((n) => new RegExp(`(^|\\D)${n}(\\D|$)`).test(l)),
    );
}

describe(`crash safety of ${target}`, { skip: unavailable, timeout: 300_000 }, () => {
  let broker: TestBroker;
  const topics = { acks1: uniqueName("crash-acks1"), acksAll: uniqueName("crash-acksall") };
  const acked: Record<string, Ack[]> = { [topics.acks1]: [], [topics.acksAll]: [] };

  before(async () => {
    broker = await startTarget();
  });
  after(() => broker?.close());

  /** Every acknowledged record so far is where it was acknowledged, in both topics; CRCs checked. */
  async function assertAllAcked(when: string): Promise<void> {
    for (const topic of Object.values(topics)) {
      const check = await checkAcked(broker.bootstrap, topic, acked[topic]);
      assert.deepEqual(
        check.problems.slice(0, 10),
        [],
        `${when}: ${topic}: ${check.problems.length} of ${acked[topic].length} acknowledged records not found (${check.consumed} consumed)`,
      );
    }
  }

  /** After damage + restart: appending to the damaged partition continues right after the valid data. */
  async function assertAppendsAfter(topic: string, damage: Damage): Promise<void> {
    const before = await kcatConsume(broker.bootstrap, topic, {
      partition: 0,
      args: ["-X", "check.crcs=true"],
    });
    const end = before.length ? before[before.length - 1].offset + 1 : 0;
    if (damage.nextOffset !== undefined) {
      assert.equal(BigInt(end), damage.nextOffset, "records after the damage point were served");
    }
    await kcatProduce(broker.bootstrap, topic, ["after-1", "after-2"], ["-p", "0"]);
    const got = await kcatConsume(broker.bootstrap, topic, {
      partition: 0,
      offset: String(end),
      args: ["-X", "check.crcs=true"],
    });
    assert.deepEqual(
      got.map((r) => [r.offset, r.payload]),
      [
        [end, "after-1"],
        [end + 1, "after-2"],
      ],
      "new records follow the last valid one",
    );
  }

  test(
    "SIGKILL mid-stream (acks=1 and acks=all): every acknowledged record survives at its offset",
    { timeout: 180_000 },
    async (t) => {
      const producers = [
        new StreamProducer({
          bootstrap: broker.bootstrap,
          topic: topics.acks1,
          acks: "1",
          partition: 0,
          rate: 500,
        }),
        new StreamProducer({
          bootstrap: broker.bootstrap,
          topic: topics.acksAll,
          acks: "all",
          partition: 0,
          rate: 500,
        }),
      ];
      try {
        await Promise.all(producers.map((p) => p.waitForAcks(500, 60_000)));
        await broker.kill();
        const atKill = producers.map((p) => p.acked);
        await broker.restart();
        await Promise.all(producers.map((p, i) => p.waitForAcks(atKill[i] + 500, 90_000)));
        for (const p of producers) {
          const s = await p.finish();
          acked[p.topic] = s.acks;
          t.diagnostic(
            `${p.topic}: produced ${s.produced}, acked ${s.acked}, failed ${s.failed}, unflushed ${s.left}`,
          );
          assert.equal(
            s.failed + s.left,
            0,
            `${p.topic}: delivery failures: ${s.errors.slice(0, 5).join("; ")}`,
          );
        }
      } finally {
        await Promise.all(producers.map((p) => p.kill()));
      }
      await assertAllAcked("after SIGKILL and restart");
    },
  );

  test(
    "garbage appended to the active segment while down (after a clean stop) is truncated and logged",
    {
      skip: target === "kafka" ? "Kafka does not recover segments after a clean shutdown" : false,
      timeout: 90_000,
    },
    async (t) => {
      await broker.stop();
      const damage = await appendGarbage(activeSegment(broker.dataDir, topics.acksAll, 0));
      t.diagnostic(
        `${damage.kind}: ${damage.appended} bytes after byte ${damage.validBytes} (next offset ${damage.nextOffset}) of ${damage.file}`,
      );
      await broker.restart();
      const logs = logsSinceRestart(broker);
      assert.ok(
        truncationLine(logs, damage),
        `expected a log line about truncating ${damage.file} at byte ${damage.validBytes}` +
          `${damage.nextOffset !== undefined ? ` / offset ${damage.nextOffset}` : ""}; the broker logged:\n${logs}`,
      );
      await assertAllAcked("after a garbage tail");
      await assertAppendsAfter(topics.acksAll, damage);
    },
  );

  test("a torn partial batch after SIGKILL is truncated (and logged)", { timeout: 90_000 }, async (t) => {
    await broker.kill();
    const damage = await appendTornBatch(activeSegment(broker.dataDir, topics.acks1, 0));
    t.diagnostic(
      `${damage.kind}: ${damage.appended} bytes after byte ${damage.validBytes} (next offset ${damage.nextOffset}) of ${damage.file}`,
    );
    await broker.restart();
    if (target === "capstan") {
      const logs = logsSinceRestart(broker);
      assert.ok(
        truncationLine(logs, damage),
        `expected a log line about truncating ${damage.file} at byte ${damage.validBytes}` +
          `${damage.nextOffset !== undefined ? ` / offset ${damage.nextOffset}` : ""}; the broker logged:\n${logs}`,
      );
    }
    await assertAllAcked("after a torn batch");
    await assertAppendsAfter(topics.acks1, damage);
  });
});
