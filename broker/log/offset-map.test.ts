import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OFFSET_MAP_SLOT_SIZE, OffsetMap } from "./offset-map.ts";

const key = (s: string): Buffer => Buffer.from(s);

describe("OffsetMap", () => {
  it("keeps the latest offset per key and -1 for keys it never saw", () => {
    const map = new OffsetMap(1000);
    for (let i = 0; i < 500; i++) assert.ok(map.put(key(`k${i % 100}`), i));
    assert.equal(map.size, 100);
    for (let k = 0; k < 100; k++) assert.equal(map.get(key(`k${k}`)), 400 + k);
    assert.equal(map.get(key("unknown")), -1);
    assert.equal(map.get(Buffer.alloc(0)), -1);
    map.put(Buffer.alloc(0), 7);
    assert.equal(map.get(Buffer.alloc(0)), 7, "an empty key is a key like any other");
  });

  it("stays within its slots: new keys are refused once full, known keys still update", () => {
    const map = new OffsetMap(OffsetMap.slotsFor(24 * 50));
    assert.ok(map.slots <= 50);
    const limit = Math.floor(map.slots * 0.9);
    let stored = 0;
    while (map.put(key(`k${stored}`), stored, limit)) stored++;
    assert.equal(stored, limit);
    assert.equal(map.size, limit);
    assert.equal(map.put(key("k0"), 1000, limit), true, "an update needs no new slot");
    assert.equal(map.get(key("k0")), 1000);
    assert.equal(map.get(key(`k${limit}`)), -1);
    assert.ok(map.utilization > 0.85);
  });

  it("can fill every slot but one and still answers", () => {
    const map = new OffsetMap(13);
    let n = 0;
    while (map.put(key(`x${n}`), n)) n++;
    assert.equal(n, map.slots - 1);
    for (let i = 0; i < n; i++) assert.equal(map.get(key(`x${i}`)), i);
    assert.equal(map.get(key("absent")), -1);
  });

  it("tracks the last offset it covers and forgets everything on clear", () => {
    const map = new OffsetMap(10);
    assert.equal(map.latestOffset, -1);
    map.updateLatestOffset(41);
    map.updateLatestOffset(12);
    assert.equal(map.latestOffset, 41);
    map.put(key("a"), 3);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.latestOffset, -1);
    assert.equal(map.get(key("a")), -1);
    assert.equal(
      OffsetMap.slotsFor(128 * 1024 * 1024),
      Math.floor((128 * 1024 * 1024) / OFFSET_MAP_SLOT_SIZE),
    );
  });
});
