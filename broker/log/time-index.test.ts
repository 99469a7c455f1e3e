import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { TimeIndex } from "./time-index.ts";
import { tempDir } from "./testing.ts";

describe("TimeIndex", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  const file = (name: string): string => path.join(dir, name);

  it("adds an entry only when the largest timestamp grows", async () => {
    const index = await TimeIndex.open(file("grow.timeindex"), 100, 1200);
    index.maybeAppend(1000, 105);
    index.maybeAppend(1000, 110); // same timestamp: skipped
    index.maybeAppend(1500, 120);
    assert.equal(index.entries, 2);
    assert.throws(() => index.maybeAppend(1600, 119), /below the last entry/);
    assert.throws(() => index.maybeAppend(1400, 130), /below the last entry/);
    assert.deepEqual(index.lastEntry, { timestamp: 1500, offset: 120 });
    await index.close();
  });

  it("looks up the largest timestamp at or below a target", async () => {
    const index = await TimeIndex.open(file("lookup.timeindex"), 0, 1200);
    index.maybeAppend(1000, 9);
    index.maybeAppend(2000, 19);
    index.maybeAppend(3000, 29);
    assert.deepEqual(index.lookup(999), { timestamp: -1, offset: 0 });
    assert.deepEqual(index.lookup(1000), { timestamp: 1000, offset: 9 });
    assert.deepEqual(index.lookup(2999), { timestamp: 2000, offset: 19 });
    assert.deepEqual(index.lookup(5000), { timestamp: 3000, offset: 29 });
    await index.close();
  });

  it("keeps the last slot free for the entry written at roll", async () => {
    const index = await TimeIndex.open(file("full.timeindex"), 0, 36); // 3 slots
    index.maybeAppend(1, 1);
    index.maybeAppend(2, 2);
    assert.equal(index.isFull, true);
    assert.throws(() => index.maybeAppend(3, 3), /full/);
    index.maybeAppend(3, 3, true);
    assert.equal(index.entries, 3);
    await index.close();
  });

  it("writes 12-byte entries (int64 timestamp, int32 relative offset) and reloads them", async () => {
    const p = file("layout.timeindex");
    const index = await TimeIndex.open(p, 1000, 120);
    await index.preallocate();
    index.maybeAppend(1_700_000_000_123, 1004);
    index.maybeAppend(1_700_000_000_456, 1020);
    await index.persist();
    await index.closeHandler();
    const raw = await readFile(p);
    assert.equal(raw.length, 120, "preallocated file left as after a crash");
    assert.equal(raw.readBigInt64BE(0), 1_700_000_000_123n);
    assert.equal(raw.readInt32BE(8), 4);
    assert.equal(raw.readInt32BE(20), 20);

    const again = await TimeIndex.open(p, 1000, 120);
    await again.load();
    assert.equal(again.entries, 2, "zero tail ignored");
    await again.truncateTo(1020);
    assert.deepEqual(again.lastEntry, { timestamp: 1_700_000_000_123, offset: 1004 });
    await again.close();
    assert.equal((await readFile(p)).length, 12);
  });

  it("rejects a file whose timestamps go backwards", async () => {
    const p = file("bad.timeindex");
    const buf = Buffer.alloc(24);
    buf.writeBigInt64BE(2000n, 0);
    buf.writeInt32BE(1, 8);
    buf.writeBigInt64BE(1000n, 12);
    buf.writeInt32BE(2, 20);
    await writeFile(p, buf);
    const index = await TimeIndex.open(p, 0, 1200);
    await assert.rejects(index.load(), /does not follow/);
    await index.closeHandler();
  });
});
