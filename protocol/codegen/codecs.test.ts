// The generated codecs against the definitions they come from: one exists for every
// message and version, encode-then-decode is the identity, re-encoding is
// byte-exact, and bad input fails with a typed ProtocolError only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type MessageSpec, SPEC_FOLDERS, loadFolder, specRoot } from "./spec.ts";
import { type CodecModule, SampleGenerator, prng, versionsOf } from "./samples.ts";
import { Reader, Writer, ProtocolError } from "../wire/index.ts";
import { API_BY_KEY } from "../generated/apis.ts";

interface Loaded {
  spec: MessageSpec;
  mod: CodecModule;
  encode: (w: Writer, v: unknown, version: number) => void;
  decode: (r: Reader, version: number) => unknown;
}

async function loadAll(): Promise<Loaded[]> {
  const out: Loaded[] = [];
  for (const folder of SPEC_FOLDERS) {
    for (const spec of loadFolder(specRoot(), folder)) {
      const mod = (await import(`../generated/${folder}/${spec.name}.ts`)) as CodecModule;
      out.push({
        spec,
        mod,
        encode: mod[`encode${spec.name}`] as Loaded["encode"],
        decode: mod[`decode${spec.name}`] as Loaded["decode"],
      });
    }
  }
  return out;
}

const all = await loadAll();

function encode(l: Loaded, v: unknown, version: number): Buffer {
  const w = new Writer();
  l.encode(w, v, version);
  return w.toBuffer();
}

function decode(l: Loaded, b: Buffer, version: number): unknown {
  const r = new Reader(b);
  const v = l.decode(r, version);
  r.expectEnd(l.spec.name);
  return v;
}

test("a codec exists for every definition file (messages, internal, metadata)", () => {
  assert.equal(all.length, 247);
  for (const l of all) {
    assert.equal(typeof l.encode, "function", `encode${l.spec.name}`);
    assert.equal(typeof l.decode, "function", `decode${l.spec.name}`);
  }
});

test("every API key 0-87 has a registry entry whose versions match its request and response", () => {
  const requests = all.filter((l) => l.spec.kind === "request");
  assert.equal(requests.length, 88);
  for (let key = 0; key <= 87; key++) {
    const api = API_BY_KEY.get(key);
    assert.ok(api, `API key ${key}`);
    const req = requests.find((l) => l.spec.apiKey === key)!;
    assert.equal(api.minVersion, req.spec.validVersions.min);
    assert.equal(api.maxVersion, req.spec.validVersions.max);
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      // An empty-but-valid body is not guaranteed, so exercise the codec with defaults.
      const mod = req.mod[`default${req.spec.name}`] as () => unknown;
      const w = new Writer();
      api.encodeRequest(w, mod(), v);
      const back = api.decodeRequest(new Reader(w.toBuffer()), v);
      assert.deepEqual(back, mod());
    }
  }
});

test("round trip: every message at every version, with generated values incl. nulls and tagged fields", () => {
  let cases = 0;
  for (const l of all) {
    for (const version of versionsOf(l.spec)) {
      for (let seed = 1; seed <= 6; seed++) {
        const value = new SampleGenerator(l.spec, l.mod, seed * 7919 + version).message(version);
        const bytes = encode(l, value, version);
        const back = decode(l, bytes, version);
        assert.deepStrictEqual(back, value, `${l.spec.name} v${version} seed ${seed}`);
        assert.ok(encode(l, back, version).equals(bytes), `${l.spec.name} v${version}: re-encoding differs`);
        cases++;
      }
    }
  }
  assert.ok(cases > 4000, `${cases} cases`);
});

test("unknown tagged fields survive a decode/encode round trip", () => {
  const l = all.find((x) => x.spec.name === "ApiVersionsRequest")!;
  const value = new SampleGenerator(l.spec, l.mod, 1).message(3);
  const bytes = encode(l, value, 3);
  // Replace the empty tagged section (last byte 0) with one unknown tag 99 of 3 bytes.
  assert.equal(bytes[bytes.length - 1], 0);
  const withTag = Buffer.concat([bytes.subarray(0, -1), Buffer.from([1, 99, 3, 0xaa, 0xbb, 0xcc])]);
  const back = decode(l, withTag, 3) as { _unknownTaggedFields?: unknown };
  assert.deepEqual(back._unknownTaggedFields, [{ tag: 99, data: Buffer.from([0xaa, 0xbb, 0xcc]) }]);
  assert.ok(encode(l, back, 3).equals(withTag));
});

function expectTyped(l: Loaded, input: Buffer, version: number, what: string): void {
  try {
    decode(l, input, version);
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      assert.fail(`${l.spec.name} v${version} ${what}: untyped ${String(err)}`);
    }
  }
}

test("bad input: truncated, bit-flipped, oversized and random bytes give a ProtocolError, never another exception", () => {
  const rnd = prng(42);
  for (const l of all) {
    for (const version of versionsOf(l.spec)) {
      const value = new SampleGenerator(l.spec, l.mod, version + 1).message(version);
      const bytes = encode(l, value, version);
      // Every truncation of a valid encoding must fail cleanly (or decode, if the cut is at a valid end).
      for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 16))) {
        expectTyped(l, bytes.subarray(0, cut), version, `truncated at ${cut}`);
      }
      for (let i = 0; i < 8; i++) {
        const flipped = Buffer.from(bytes);
        if (flipped.length > 0) flipped[Math.floor(rnd() * flipped.length)] ^= 1 << Math.floor(rnd() * 8);
        expectTyped(l, flipped, version, "bit-flipped");
        const random = Buffer.alloc(Math.floor(rnd() * 64));
        for (let j = 0; j < random.length; j++) random[j] = Math.floor(rnd() * 256);
        expectTyped(l, random, version, "random");
      }
      // Huge lengths in every position: 0x7fffffff as int32 and as a 5-byte uvarint.
      for (let pos = 0; pos < Math.min(bytes.length, 24); pos++) {
        if (bytes.length >= 4) {
          const big = Buffer.from(bytes);
          big.writeInt32BE(0x7ffffff0, Math.min(pos, big.length - 4));
          expectTyped(l, big, version, `int32 length at ${pos}`);
        }
        const varint = Buffer.concat([
          bytes.subarray(0, pos),
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]),
          bytes.subarray(pos),
        ]);
        expectTyped(l, varint, version, `uvarint length at ${pos}`);
      }
    }
  }
});
