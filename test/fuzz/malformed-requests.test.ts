// Malformed requests against the target broker (CAPSTAN_TEST_TARGET): several raw TCP
// connections send random bytes, truncated frames, frames with huge or negative size prefixes,
// bit-flipped copies of the golden request fixtures (test/fixtures/requests/*/*.bin), unknown
// API keys, unsupported versions and broken headers (2,000 frames, 20 s at most), while a
// well-behaved kafkajs producer and Metadata probes on other connections keep working. At the
// end the broker process is alive and still serves Metadata, Produce and Fetch.
//
// Deterministic for a seed: CAPSTAN_FUZZ_SEED=<n> replays a run (the seed is printed);
// CAPSTAN_FUZZ_FRAMES=<n> sends more (or fewer) frames, still within the 20 s limit.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import type { Producer } from "kafkajs";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import { probeMetadata } from "../setup/kafka.ts";
import {
  explain,
  haveCommand,
  kcat,
  kcatConsume,
  kcatProduce,
  ROOT,
  sleep,
  uniqueName,
} from "../interop/helpers.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

const FRAMES = Number(process.env.CAPSTAN_FUZZ_FRAMES ?? 2000);
const TIME_LIMIT_MS = 20_000;
const CONNECTIONS = 8;
const FIXTURES_DIR = path.join(ROOT, "test", "fixtures", "requests");

/** Small fast seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Frame {
  kind: string;
  bytes: Buffer;
  /** Close the connection after sending (the byte stream is no longer framed). */
  endAfter: boolean;
}

function loadFixtures(): { name: string; body: Buffer }[] {
  const out: { name: string; body: Buffer }[] = [];
  for (const client of readdirSync(FIXTURES_DIR, { withFileTypes: true })) {
    if (!client.isDirectory()) continue;
    for (const f of readdirSync(path.join(FIXTURES_DIR, client.name))) {
      if (f.endsWith(".bin"))
        out.push({
          name: `${client.name}/${f}`,
          body: readFileSync(path.join(FIXTURES_DIR, client.name, f)),
        });
    }
  }
  return out;
}

function sized(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function generateFrames(seed: number, count: number): Frame[] {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const fixtures = loadFixtures();
  if (fixtures.length === 0) throw new Error(`no fixtures in ${FIXTURES_DIR}`);
  const fixture = () => Buffer.from(pick(fixtures).body);
  const makers: [number, () => Frame][] = [
    [
      10,
      () => ({ kind: "random body", bytes: sized(bytes(int(rand() < 0.9 ? 300 : 5000))), endAfter: false }),
    ],
    [4, () => ({ kind: "raw random bytes", bytes: bytes(1 + int(64)), endAfter: true })],
    [
      4,
      () => {
        const size = Buffer.alloc(4);
        size.writeUInt32BE(pick([0x7fffffff, 0x40000000, 104857601, 0xffffffff, 0x80000000, 0xfffffff0]));
        return { kind: "huge/negative size", bytes: Buffer.concat([size, bytes(int(100))]), endAfter: true };
      },
    ],
    [
      5,
      () => {
        const full = sized(fixture());
        return { kind: "truncated frame", bytes: full.subarray(0, 1 + int(full.length - 1)), endAfter: true };
      },
    ],
    [10, () => ({ kind: "truncated body", bytes: sized(fixture().subarray(0, int(40))), endAfter: false })],
    [
      10,
      () => {
        const f = fixture();
        return {
          kind: "truncated body",
          bytes: sized(f.subarray(0, 8 + int(Math.max(1, f.length - 8)))),
          endAfter: false,
        };
      },
    ],
    [
      30,
      () => {
        // Bit flips anywhere but the api key (flipping that is "unknown api key", below).
        const f = fixture();
        const flips = 1 + int(4);
        for (let i = 0; i < flips; i++) {
          const at = 2 + int(f.length - 2);
          f[at] ^= 1 << int(8);
        }
        return { kind: "bit-flipped fixture", bytes: sized(f), endAfter: false };
      },
    ],
    [
      8,
      () => {
        const f = fixture();
        f.writeInt16BE(pick([-1, -32768, 1000, 4242, 32767, 200 + int(30000)]), 0);
        return { kind: "unknown api key", bytes: sized(f), endAfter: false };
      },
    ],
    [
      8,
      () => {
        const f = fixture();
        f.writeInt16BE(pick([-1, -32768, 99, 999, 32767, 20 + int(100)]), 2);
        return { kind: "unsupported version", bytes: sized(f), endAfter: false };
      },
    ],
    [
      5,
      () => {
        // client_id length (int16 right after api key, version, correlation id) out of bounds.
        const f = fixture();
        f.writeInt16BE(pick([0x7fff, -2, -32768, f.length]), 8);
        return { kind: "bad client_id length", bytes: sized(f), endAfter: false };
      },
    ],
    [6, () => ({ kind: "valid fixture", bytes: sized(fixture()), endAfter: false })],
  ];
  const total = makers.reduce((s, [w]) => s + w, 0);
  const frames: Frame[] = [];
  for (let i = 0; i < count; i++) {
    let r = int(total);
    const maker = makers.find(([w]) => (r -= w) < 0)![1];
    frames.push(maker());
  }
  return frames;
}

type Outcome = "response" | "closed" | "silent";

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once("connect", () => {
      s.removeListener("error", reject);
      s.on("error", () => {});
      resolve(s);
    });
    s.once("error", reject);
  });
}

/** Writes a frame and waits briefly for whatever the broker does about it. */
function send(sock: net.Socket, frame: Frame, waitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.removeListener("data", onData);
      sock.removeListener("close", onClose);
      resolve(o);
    };
    const onData = () => finish("response");
    const onClose = () => finish("closed");
    const timer = setTimeout(() => finish(sock.destroyed ? "closed" : "silent"), waitMs);
    sock.on("data", onData);
    sock.once("close", onClose);
    if (sock.destroyed) return finish("closed");
    sock.write(frame.bytes, () => {});
    if (frame.endAfter) sock.end();
  });
}

describe(`malformed requests against ${testTarget()}`, { timeout: 180_000 }, () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTarget();
  });
  after(() => broker?.close());

  test(
    `the broker survives ${FRAMES} malformed frames while a well-behaved client keeps working`,
    { timeout: 120_000 },
    async (t) => {
      const seed = Number(process.env.CAPSTAN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
      t.diagnostic(`seed ${seed} (CAPSTAN_FUZZ_SEED=${seed} replays it)`);
      const frames = generateFrames(seed, FRAMES);

      // The well-behaved client: a kafkajs producer and Metadata probes, on their own connections.
      const canary = uniqueName("fuzz-canary");
      const kafka = new Kafka({
        clientId: "fuzz-canary",
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: canary, numPartitions: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      let fuzzing = true;
      const good = { sent: 0, failed: [] as string[], probes: 0, probeFailures: [] as string[] };
      const canaryLoop = (async () => {
        while (fuzzing) {
          try {
            await producer.send({ topic: canary, acks: -1, messages: [{ value: `canary-${good.sent}` }] });
            good.sent++;
          } catch (err) {
            good.failed.push(String(err));
          }
          await sleep(25);
        }
      })();
      const probeLoop = (async () => {
        while (fuzzing) {
          try {
            const md = await probeMetadata(broker.host, broker.port, 5000);
            if (md.brokers.length !== 1) throw new Error(`brokers: ${JSON.stringify(md.brokers)}`);
            good.probes++;
          } catch (err) {
            good.probeFailures.push(String(err));
          }
          await sleep(100);
        }
      })();

      // The fuzzers.
      const outcomes = new Map<string, Record<Outcome | "connect failed", number>>();
      const tally = (kind: string, o: Outcome | "connect failed") => {
        const m = outcomes.get(kind) ?? { response: 0, closed: 0, silent: 0, "connect failed": 0 };
        m[o]++;
        outcomes.set(kind, m);
      };
      const started = Date.now();
      let next = 0;
      let sent = 0;
      const worker = async () => {
        let sock: net.Socket | undefined;
        while (next < frames.length && Date.now() - started < TIME_LIMIT_MS) {
          const frame = frames[next++];
          if (!sock || sock.destroyed) {
            try {
              sock = await connect(broker.host, broker.port);
            } catch {
              tally(frame.kind, "connect failed");
              sock = undefined;
              await sleep(20);
              continue;
            }
          }
          const o = await send(sock, frame, frame.endAfter ? 100 : 25);
          sent++;
          tally(frame.kind, o);
          if (frame.endAfter || o === "closed") {
            sock.destroy();
            sock = undefined;
          }
        }
        sock?.destroy();
      };
      await Promise.all(Array.from({ length: CONNECTIONS }, worker));
      const fuzzMs = Date.now() - started;
      await sleep(500); // let the canary go on a moment after the last malformed frame
      fuzzing = false;
      await Promise.all([canaryLoop, probeLoop]);
      await producer.disconnect();

      for (const [kind, m] of [...outcomes].sort()) {
        t.diagnostic(
          `${kind}: ${Object.entries(m)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")}`,
        );
      }
      t.diagnostic(
        `${sent} frames in ${fuzzMs} ms; canary: ${good.sent} produced, ${good.failed.length} failed; ${good.probes} probes, ${good.probeFailures.length} failed`,
      );

      assert.ok(broker.alive(), `the broker died\n${broker.logs().slice(-5000)}`);
      const connectFailures = [...outcomes.values()].reduce((s, m) => s + m["connect failed"], 0);
      assert.equal(connectFailures, 0, "connections refused during the fuzzing");
      assert.ok(sent >= Math.min(FRAMES, 500), `only ${sent} frames sent in ${fuzzMs} ms`);
      assert.deepEqual(good.failed.slice(0, 5), [], "the kafkajs producer failed while the fuzzing went on");
      assert.deepEqual(
        good.probeFailures.slice(0, 5),
        [],
        "Metadata probes failed while the fuzzing went on",
      );
      assert.ok(
        good.sent > 10 && good.probes > 10,
        `the well-behaved client barely ran: ${good.sent} sends, ${good.probes} probes`,
      );

      // Still serving Metadata, Produce and Fetch, and every canary record is there.
      const md = await probeMetadata(broker.host, broker.port, 5000);
      assert.deepEqual(md.brokers, [{ nodeId: 1, host: "127.0.0.1", port: broker.port }]);
      if (haveCommand("kcat", ["-V"])) {
        const meta = await kcat(broker.bootstrap, ["-L", "-t", canary]);
        assert.equal(meta.code, 0, explain(meta));
        const after = uniqueName("fuzz-after");
        await kcatProduce(broker.bootstrap, after, ["k:still alive"], ["-K", ":", "-p", "0"]);
        const got = await kcatConsume(broker.bootstrap, after, { partition: 0 });
        assert.deepEqual(
          got.map((r) => [r.offset, r.key, r.payload]),
          [[0, "k", "still alive"]],
        );
        const canaries = await kcatConsume(broker.bootstrap, canary, { partition: 0 });
        assert.deepEqual(
          canaries.map((r) => r.payload),
          Array.from({ length: good.sent }, (_, i) => `canary-${i}`),
          "canary records",
        );
      }
      assert.ok(broker.alive(), "the broker died at the end");
    },
  );
});
