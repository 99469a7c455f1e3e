// Broker restart mid-stream against the target broker (CAPSTAN_TEST_TARGET): a
// confluent-kafka producer with retries keeps producing (acks=all) while the broker is
// stopped with SIGTERM and started again on the same port and data dir; the producer carries
// on by itself, and afterwards every acknowledged record is read back at its offset.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { haveCommand, havePython, py, uniqueName } from "./helpers.ts";
import { checkAcked, StreamProducer } from "./stream.ts";

const unavailable = !havePython("confluent_kafka")
  ? "python3-confluent-kafka is not installed"
  : !haveCommand("kcat", ["-V"])
    ? "kcat is not installed"
    : false;

describe(`restart mid-stream against ${testTarget()}`, { skip: unavailable, timeout: 300_000 }, () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTarget();
  });
  after(() => broker?.close());

  test(
    "SIGTERM and restart on the same port/data: the producer continues, nothing acknowledged is lost",
    { timeout: 240_000 },
    async (t) => {
      const topic = uniqueName("restart");
      const created = await py<{ error: unknown }>("confluent-kafka", "create_topic", {
        bootstrap: broker.bootstrap,
        topic,
        partitions: 3,
      });
      assert.equal(created.error, null, JSON.stringify(created));
      const producer = new StreamProducer({ bootstrap: broker.bootstrap, topic, acks: "all", rate: 400 });
      try {
        await producer.waitForAcks(400, 60_000);
        const pidBefore = broker.pid;
        const t0 = Date.now();
        await broker.stop();
        const stoppedMs = Date.now() - t0;
        await broker.restart();
        const downMs = Date.now() - t0;
        assert.notEqual(broker.pid, pidBefore, "a new process");
        const ackedAtRestart = producer.acked;
        await producer.waitForAcks(ackedAtRestart + 400, 90_000);
        const summary = await producer.finish();
        const check = await checkAcked(broker.bootstrap, topic, summary.acks);
        const info = `stop took ${stoppedMs} ms, down ${downMs} ms; produced ${summary.produced}, acked ${summary.acked}, failed ${summary.failed}, unflushed ${summary.left}; consumed ${check.consumed} (${check.unacknowledged} not acknowledged at their offset)`;
        t.diagnostic(info);
        assert.equal(
          summary.failed,
          0,
          `delivery failures: ${summary.errors.slice(0, 5).join("; ")}\n${info}`,
        );
        assert.equal(summary.left, 0, `records never delivered\n${info}`);
        assert.equal(summary.acked, summary.produced, info);
        assert.deepEqual(
          check.problems.slice(0, 10),
          [],
          `${check.problems.length} acknowledged records not found\n${info}`,
        );
        assert.ok(summary.acks.length > ackedAtRestart, `no acks after the restart\n${info}`);
      } finally {
        await producer.kill();
      }
    },
  );
});
