// kcat (librdkafka's command-line client, Debian kcat) against the target broker
// (CAPSTAN_TEST_TARGET): metadata, produce/consume without a consumer group, keys, headers,
// null keys/values, every compression codec, offsets by timestamp and logical offsets.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTarget, testTarget } from "../setup/capstan.ts";
import type { TestBroker } from "../setup/capstan.ts";
import {
  Background,
  explain,
  haveCommand,
  kcat,
  kcatConsume,
  kcatProduce,
  sleep,
  uniqueName,
} from "./helpers.ts";

const available = haveCommand("kcat", ["-V"]);

describe(
  `kcat against ${testTarget()}`,
  { skip: available ? false : "kcat is not installed (Debian kcat)", timeout: 300_000 },
  () => {
    let broker: TestBroker;
    let b = "";
    before(async () => {
      // Auto-created topics get 3 partitions, so metadata and keyed placement have something to show.
      broker = await startTarget({ overrides: { "num.partitions": "3" } });
      b = broker.bootstrap;
    });
    after(() => broker?.close());

    test(
      "-L lists the broker and an auto-created topic's partitions and leaders",
      { timeout: 60_000 },
      async () => {
        const topic = uniqueName("kcat-meta");
        await kcatProduce(b, topic, ["hello"], ["-p", "0"]);
        const r = await kcat(b, ["-L", "-J", "-t", topic]);
        assert.equal(r.code, 0, explain(r));
        const md = JSON.parse(r.stdout) as {
          controllerid: number;
          brokers: { id: number; name: string }[];
          topics: {
            topic: string;
            error?: string;
            partitions: {
              partition: number;
              leader: number;
              replicas: { id: number }[];
              isrs: { id: number }[];
            }[];
          }[];
        };
        assert.deepEqual(md.brokers, [{ id: 1, name: `127.0.0.1:${broker.port}` }]);
        assert.equal(md.controllerid, 1, "controller id");
        assert.equal(md.topics.length, 1);
        assert.equal(md.topics[0].topic, topic);
        assert.equal(md.topics[0].error, undefined, `topic error ${md.topics[0].error}`);
        assert.deepEqual(
          md.topics[0].partitions.sort((x, y) => x.partition - y.partition),
          [0, 1, 2].map((partition) => ({ partition, leader: 1, replicas: [{ id: 1 }], isrs: [{ id: 1 }] })),
        );
        // All topics: the new one is listed among them.
        const all = await kcat(b, ["-L", "-J"]);
        assert.equal(all.code, 0, explain(all));
        const names = (JSON.parse(all.stdout) as { topics: { topic: string }[] }).topics.map((t) => t.topic);
        assert.ok(names.includes(topic), `${topic} not in ${names.join(", ")}`);
      },
    );

    test(
      "keyed produce (-K) and consume from the beginning (-o beginning -e)",
      { timeout: 60_000 },
      async () => {
        const topic = uniqueName("kcat-keyed");
        const lines = Array.from({ length: 5 }, (_, i) => `key-${i}:value-${i}`);
        await kcatProduce(b, topic, lines, ["-K", ":", "-p", "0"]);
        const got = await kcatConsume(b, topic, { partition: 0 });
        assert.deepEqual(
          got.map((r) => [r.offset, r.key, r.payload]),
          lines.map((l, i) => [i, `key-${i}`, `value-${i}`]),
        );
        assert.ok(
          got.every((r) => r.tstype === "create" && Math.abs(r.ts - Date.now()) < 120_000),
          "CreateTime timestamps",
        );
      },
    );

    test("the same key always goes to the same partition", { timeout: 60_000 }, async () => {
      const topic = uniqueName("kcat-partitioner");
      const lines = Array.from({ length: 36 }, (_, i) => `key-${i % 9}:value-${i}`);
      await kcatProduce(b, topic, lines, ["-K", ":"]);
      const got = await kcatConsume(b, topic);
      assert.equal(got.length, lines.length);
      const partitionOf = new Map<string, number>();
      for (const r of got) {
        const k = r.key ?? "";
        if (!partitionOf.has(k)) partitionOf.set(k, r.partition);
        assert.equal(r.partition, partitionOf.get(k), `${k} seen in two partitions`);
      }
      assert.ok(new Set(partitionOf.values()).size > 1, "9 keys all in one partition");
      // Per partition: consecutive offsets from 0, in production order.
      for (const p of new Set(got.map((r) => r.partition))) {
        const inP = got.filter((r) => r.partition === p);
        assert.deepEqual(
          inP.map((r) => r.offset),
          inP.map((_, i) => i),
        );
        const order = inP.map((r) => Number(r.payload!.split("-")[1]));
        assert.deepEqual(
          order,
          [...order].sort((x, y) => x - y),
          `partition ${p} out of order`,
        );
      }
    });

    test("headers (-H) are stored and returned", { timeout: 60_000 }, async () => {
      const topic = uniqueName("kcat-headers");
      await kcatProduce(
        b,
        topic,
        ["k:v"],
        ["-K", ":", "-p", "0", "-H", "h1=v1", "-H", "h2=", "-H", "h1=dup"],
      );
      const got = await kcatConsume(b, topic, { partition: 0 });
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].headers, ["h1", "v1", "h2", "", "h1", "dup"]);
      const fmt = await kcat(b, ["-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%h\n"]);
      assert.equal(fmt.stdout.trim(), "h1=v1,h2=,h1=dup", explain(fmt));
    });

    test("null keys and values (-Z) are kept null, distinct from empty", { timeout: 60_000 }, async () => {
      const topic = uniqueName("kcat-null");
      // With -Z an empty key or value is sent as NULL.
      await kcatProduce(b, topic, [":null key", "null value:", ":", "k:v"], ["-K", ":", "-Z", "-p", "0"]);
      // Without -Z empty stays empty.
      await kcatProduce(b, topic, [":"], ["-K", ":", "-p", "0"]);
      const r = await kcat(b, [
        "-C",
        "-t",
        topic,
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%o|%K|%S|%k|%s\n",
      ]);
      assert.equal(r.code, 0, explain(r));
      assert.deepEqual(r.stdout.trim().split("\n"), [
        "0|-1|8||null key",
        "1|10|-1|null value|",
        "2|-1|-1||",
        "3|1|1|k|v",
        "4|0|0||",
      ]);
    });

    for (const codec of ["gzip", "snappy", "lz4", "zstd"]) {
      test(`${codec} compression (-z ${codec})`, { timeout: 60_000 }, async () => {
        const topic = uniqueName(`kcat-${codec}`);
        const lines = Array.from(
          { length: 200 },
          (_, i) => `k${i % 5}:${codec}-${i}-${"0123456789".repeat(i % 20)}`,
        );
        await kcatProduce(b, topic, lines, ["-K", ":", "-p", "0", "-z", codec, "-X", "linger.ms=100"]);
        const got = await kcatConsume(b, topic, { partition: 0 });
        assert.deepEqual(
          got.map((r) => `${r.offset} ${r.key}:${r.payload}`),
          lines.map((l, i) => `${i} ${l}`),
        );
      });
    }

    test("-o s@<timestamp> starts at the first record at or after it", { timeout: 60_000 }, async () => {
      const topic = uniqueName("kcat-ts");
      await kcatProduce(b, topic, ["a:0", "a:1", "a:2"], ["-K", ":", "-p", "0"]);
      await sleep(50);
      const t1 = Date.now();
      await sleep(50);
      await kcatProduce(b, topic, ["b:3", "b:4"], ["-K", ":", "-p", "0"]);
      const all = await kcatConsume(b, topic, { partition: 0 });
      assert.ok(all.slice(0, 3).every((r) => r.ts < t1) && all.slice(3).every((r) => r.ts > t1), "clock");
      const got = await kcatConsume(b, topic, { partition: 0, offset: `s@${t1}` });
      assert.deepEqual(
        got.map((r) => [r.offset, r.payload]),
        [
          [3, "3"],
          [4, "4"],
        ],
      );
      const exact = await kcatConsume(b, topic, { partition: 0, offset: `s@${all[1].ts}` });
      assert.equal(
        exact[0]?.offset,
        all.findIndex((r) => r.ts === all[1].ts),
        "a timestamp equal to a record's",
      );
      const future = await kcatConsume(b, topic, { partition: 0, offset: `s@${Date.now() + 3_600_000}` });
      assert.deepEqual(future, [], "a future timestamp reads nothing");
    });

    test("-o end reads only new records; -o -N reads the last N", { timeout: 60_000 }, async () => {
      const topic = uniqueName("kcat-end");
      await kcatProduce(b, topic, ["o:0", "o:1", "o:2", "o:3"], ["-K", ":", "-p", "0"]);
      assert.deepEqual(await kcatConsume(b, topic, { partition: 0, offset: "end" }), [], "-o end -e");
      const last2 = await kcatConsume(b, topic, { partition: 0, offset: "-2" });
      assert.deepEqual(
        last2.map((r) => r.offset),
        [2, 3],
        "-o -2",
      );
      const tail = new Background(
        "kcat",
        ["-b", b, "-C", "-J", "-t", topic, "-p", "0", "-o", "end", "-c", "2"],
        { timeoutMs: 45_000 },
      );
      try {
        await tail.waitFor((_out, err) => /Reached end of topic/.test(err), 20_000, "kcat -o end positioned");
        await kcatProduce(b, topic, ["n:4", "n:5"], ["-K", ":", "-p", "0"]);
        const r = await tail.done;
        assert.equal(r.code, 0, explain(r));
        const got = r.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { offset: number; payload: string });
        assert.deepEqual(
          got.map((x) => [x.offset, x.payload]),
          [
            [4, "4"],
            [5, "5"],
          ],
        );
      } finally {
        await tail.kill();
      }
    });
  },
);
