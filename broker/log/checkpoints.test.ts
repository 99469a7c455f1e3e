import assert from "node:assert/strict";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  MalformedCheckpointError,
  formatProperties,
  parseProperties,
  readMetaProperties,
  readOffsetCheckpoint,
  writeMetaProperties,
  writeOffsetCheckpoint,
} from "./checkpoints.ts";
import { LeaderEpochFileCache } from "./leader-epoch-cache.ts";
import { readPartitionMetadata, writePartitionMetadata } from "./partition-metadata.ts";
import { tempDir } from "./testing.ts";

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

describe("offset checkpoint files", () => {
  it("write Kafka's format atomically and read it back", async () => {
    const file = path.join(dir, "recovery-point-offset-checkpoint");
    const entries = [
      { topic: "orders", partition: 0, offset: 1042 },
      { topic: "orders.eu-west", partition: 11, offset: 0 },
    ];
    await writeOffsetCheckpoint(file, entries);
    assert.equal(await readFile(file, "utf8"), "0\n2\norders 0 1042\norders.eu-west 11 0\n");
    assert.deepEqual(await readOffsetCheckpoint(file), entries);
    assert.ok(!(await readdir(dir)).some((n) => n.endsWith(".tmp")), "no temporary file left");
    assert.deepEqual(await readOffsetCheckpoint(path.join(dir, "missing")), []);
  });

  it("reject malformed files", async () => {
    const cases = ["1\n0\n", "0\n2\na 0 1\n", "0\n1\na zero 1\n", "0\n1\na 0\n", "", "0\nx\n"];
    for (const [i, text] of cases.entries()) {
      const file = path.join(dir, `bad-${i}`);
      await writeFile(file, text);
      await assert.rejects(readOffsetCheckpoint(file), MalformedCheckpointError, JSON.stringify(text));
    }
  });
});

describe("meta.properties", () => {
  it("round-trips Kafka's KRaft fields, keeping unknown ones", async () => {
    await writeMetaProperties(dir, {
      version: 1,
      clusterId: "J8qXoCuCQ0mVWvLj8B2rOw",
      nodeId: 3,
      directoryId: "lp5Ym3q1QwOd0L1JXmsrwQ",
      other: { "some.future.key": "a=b:c" },
    });
    const text = await readFile(path.join(dir, "meta.properties"), "utf8");
    assert.match(text, /^#\n#.*\n/);
    assert.match(text, /\nversion=1\n/);
    assert.match(text, /\ncluster\.id=J8qXoCuCQ0mVWvLj8B2rOw\n/);
    assert.match(text, /\nnode\.id=3\n/);
    assert.deepEqual(await readMetaProperties(dir), {
      version: 1,
      clusterId: "J8qXoCuCQ0mVWvLj8B2rOw",
      nodeId: 3,
      directoryId: "lp5Ym3q1QwOd0L1JXmsrwQ",
      other: { "some.future.key": "a=b:c" },
    });
    assert.equal(await readMetaProperties(path.join(dir, "nowhere")), null);
  });

  it("parses what Java's Properties.store writes", () => {
    const text =
      "#\n#Thu Jan 01 00:00:00 UTC 2025\nnode.id=1\n! bang comment\ndirectory.id = abc\\:def\ncluster.id:xyz\nkey\\ with\\ space=v\\\n  continued\n";
    assert.deepEqual(parseProperties(text), {
      "node.id": "1",
      "directory.id": "abc:def",
      "cluster.id": "xyz",
      "key with space": "vcontinued",
    });
    const props = { "a b": "x=y", c: "#hash" };
    assert.deepEqual(parseProperties(formatProperties(props)), props);
  });
});

describe("LeaderEpochFileCache", () => {
  it("keeps epochs increasing, dropping entries a new one contradicts", () => {
    const cache = LeaderEpochFileCache.empty(dir);
    assert.equal(cache.assign(0, 0), true);
    assert.equal(cache.assign(0, 5), false, "same epoch, later offset: nothing new");
    assert.equal(cache.assign(2, 10), true);
    assert.equal(cache.assign(4, 20), true);
    assert.equal(cache.assign(3, 15), true, "an older epoch at an earlier offset replaces what follows it");
    assert.deepEqual(cache.epochEntries, [
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
      { epoch: 3, startOffset: 15 },
    ]);
    assert.equal(cache.epochForOffset(9), 0);
    assert.equal(cache.epochForOffset(10), 2);
    assert.equal(cache.epochForOffset(99), 3);
  });

  it("answers end offsets for epochs as Kafka's OffsetForLeaderEpoch does", () => {
    const cache = LeaderEpochFileCache.empty(dir);
    cache.assign(2, 10);
    cache.assign(4, 20);
    cache.assign(7, 35);
    assert.deepEqual(cache.endOffsetFor(7, 50), { epoch: 7, endOffset: 50 });
    assert.deepEqual(cache.endOffsetFor(4, 50), { epoch: 4, endOffset: 35 });
    assert.deepEqual(cache.endOffsetFor(5, 50), { epoch: 4, endOffset: 35 });
    assert.deepEqual(cache.endOffsetFor(1, 50), { epoch: 1, endOffset: 10 }, "before the first known epoch");
    assert.deepEqual(cache.endOffsetFor(8, 50), { epoch: -1, endOffset: -1 });
    assert.deepEqual(cache.endOffsetFor(-1, 50), { epoch: -1, endOffset: -1 });
  });

  it("truncates from either end and persists as leader-epoch-checkpoint", async () => {
    const sub = path.join(dir, "epochs");
    await mkdir(sub);
    const cache = LeaderEpochFileCache.empty(sub);
    cache.assign(1, 0);
    cache.assign(2, 100);
    cache.assign(3, 200);
    assert.equal(cache.truncateFromStart(150), true);
    assert.deepEqual(cache.epochEntries, [
      { epoch: 2, startOffset: 150 },
      { epoch: 3, startOffset: 200 },
    ]);
    assert.equal(cache.truncateFromStart(150), false);
    assert.equal(cache.truncateFromEnd(200), true);
    assert.deepEqual(cache.epochEntries, [{ epoch: 2, startOffset: 150 }]);
    await cache.flush();
    assert.equal(await readFile(path.join(sub, "leader-epoch-checkpoint"), "utf8"), "0\n1\n2 150\n");
    assert.deepEqual((await LeaderEpochFileCache.load(sub)).epochEntries, [{ epoch: 2, startOffset: 150 }]);
  });
});

describe("partition.metadata", () => {
  it("records the topic id in Kafka's format", async () => {
    const sub = path.join(dir, "orders-0");
    await mkdir(sub);
    assert.equal(await readPartitionMetadata(sub), null);
    await writePartitionMetadata(sub, "MZ4kzeCxS9-bBDrq8vOhNA");
    assert.equal(
      await readFile(path.join(sub, "partition.metadata"), "utf8"),
      "version: 0\ntopic_id: MZ4kzeCxS9-bBDrq8vOhNA\n",
    );
    assert.equal(await readPartitionMetadata(sub), "MZ4kzeCxS9-bBDrq8vOhNA");
    await writeFile(path.join(sub, "partition.metadata"), "version: 1\ntopic_id: MZ4kzeCxS9-bBDrq8vOhNA\n");
    await assert.rejects(readPartitionMetadata(sub), MalformedCheckpointError);
  });
});
