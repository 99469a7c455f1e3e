import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CorruptIndexError } from "./errors.ts";
import { OffsetIndex } from "./offset-index.ts";
import { tempDir } from "./testing.ts";

describe("OffsetIndex", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  const file = (name: string): string => path.join(dir, name);

  it("finds the largest entry at or below an offset", async () => {
    const index = await OffsetIndex.open(file("lookup.index"), 100, 1024);
    index.append(110, 500);
    index.append(120, 1000);
    index.append(135, 1700);
    assert.deepEqual(index.lookup(99), { offset: 100, position: 0 }, "below every entry: the segment start");
    assert.deepEqual(index.lookup(109), { offset: 100, position: 0 });
    assert.deepEqual(index.lookup(110), { offset: 110, position: 500 });
    assert.deepEqual(index.lookup(119), { offset: 110, position: 500 });
    assert.deepEqual(index.lookup(120), { offset: 120, position: 1000 });
    assert.deepEqual(index.lookup(10_000), { offset: 135, position: 1700 });
    assert.equal(index.lastOffset, 135);
    await index.close();
  });

  it("rejects entries that do not increase, offsets that do not fit, and appends to a full index", async () => {
    const index = await OffsetIndex.open(file("strict.index"), 0, 24); // room for 3 entries
    index.append(5, 100);
    assert.throws(() => index.append(5, 200), RangeError);
    assert.throws(() => index.append(6, 100), RangeError);
    assert.throws(() => index.append(0x80000000, 300), RangeError);
    index.append(6, 200);
    index.append(7, 300);
    assert.equal(index.isFull, true);
    assert.throws(() => index.append(8, 400), /full/);
    await index.close();
  });

  it("writes 8-byte big-endian entries, preallocated while active and trimmed on close", async () => {
    const p = file("layout.index");
    const index = await OffsetIndex.open(p, 1000, 4096);
    await index.preallocate();
    index.append(1003, 4200);
    index.append(1010, 9000);
    await index.persist();
    assert.equal((await stat(p)).size, 4096, "preallocated to segment.index.bytes");
    await index.close();
    const bytes = await readFile(p);
    assert.equal(bytes.length, 16, "trimmed to its entries");
    assert.deepEqual(
      [bytes.readInt32BE(0), bytes.readInt32BE(4), bytes.readInt32BE(8), bytes.readInt32BE(12)],
      [3, 4200, 10, 9000],
      "relative offset, then position",
    );
  });

  it("reloads what it wrote, including from a preallocated file left by a crash", async () => {
    const p = file("reload.index");
    const index = await OffsetIndex.open(p, 50, 8 * 100);
    await index.preallocate();
    for (let i = 1; i <= 10; i++) index.append(50 + i * 3, i * 1000);
    await index.persist();
    await index.closeHandler(); // no trim: the zero tail stays, as after kill -9
    assert.equal((await stat(p)).size, 800);
    const again = await OffsetIndex.open(p, 50, 8 * 100);
    await again.load();
    assert.equal(again.entries, 10);
    assert.deepEqual(again.entry(9), { offset: 80, position: 10_000 });
    assert.deepEqual(again.lookup(62), { offset: 62, position: 4000 });
    await again.close();
  });

  it("truncates entries at and above an offset, on disk too", async () => {
    const p = file("truncate.index");
    const index = await OffsetIndex.open(p, 0, 1024);
    await index.preallocate();
    for (let i = 1; i <= 6; i++) index.append(i * 10, i * 100);
    await index.persist();
    await index.truncateTo(30);
    assert.equal(index.entries, 2);
    assert.equal(index.lastOffset, 20);
    await index.truncateTo(25); // between entries: nothing at or above 25 is left anyway
    assert.equal(index.entries, 2);
    index.append(30, 350);
    await index.closeHandler();
    const again = await OffsetIndex.open(p, 0, 1024);
    await again.load();
    assert.deepEqual(
      [again.entry(0), again.entry(1)],
      [
        { offset: 10, position: 100 },
        { offset: 20, position: 200 },
      ],
    );
    assert.equal(again.entries, 2, "the unpersisted entry and the removed ones are gone");
    await again.close();
  });

  it("fails its sanity check on a bad size or entries out of order", async () => {
    const odd = file("odd.index");
    await writeFile(odd, Buffer.alloc(12));
    const a = await OffsetIndex.open(odd, 0, 1024);
    await assert.rejects(a.load(), CorruptIndexError);
    await a.closeHandler();

    const unordered = file("unordered.index");
    const buf = Buffer.alloc(16);
    buf.writeInt32BE(5, 0);
    buf.writeInt32BE(100, 4);
    buf.writeInt32BE(3, 8);
    buf.writeInt32BE(200, 12);
    await writeFile(unordered, buf);
    const b = await OffsetIndex.open(unordered, 0, 1024);
    await assert.rejects(b.load(), /does not follow/);
    await b.closeHandler();

    const garbage = file("garbage.index");
    const g = Buffer.alloc(32);
    g.writeInt32BE(5, 0);
    g.writeInt32BE(100, 4);
    g.writeInt32BE(7, 28); // a non-zero byte after a zero entry
    await writeFile(garbage, g);
    const c = await OffsetIndex.open(garbage, 0, 1024);
    await assert.rejects(c.load(), /non-zero bytes/);
    await c.closeHandler();
  });
});
