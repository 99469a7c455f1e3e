import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { compressSync as snappyRawCompress } from "snappy";
import {
  COMPRESSION_NAMES,
  Compression,
  compress,
  compressionFromName,
  decompress,
  type CompressionType,
} from "./compression.ts";
import { assertBatchError, randomBytes, seededRandom } from "./testing.ts";

const CODECS: CompressionType[] = [
  Compression.NONE,
  Compression.GZIP,
  Compression.SNAPPY,
  Compression.LZ4,
  Compression.ZSTD,
];
const COMPRESSED = CODECS.filter((c) => c !== Compression.NONE);

/** Text-like data: compressible, but not trivially. */
function sampleData(n: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  const words = ["kafka", "record", "batch", "offset", "capstan", "broker", "topic", "partition", "{", "}"];
  const parts: string[] = [];
  let size = 0;
  while (size < n) {
    const w =
      words[Math.floor(random() * words.length)] + (random() < 0.2 ? String(Math.floor(random() * 1e6)) : "");
    parts.push(w);
    size += w.length + 1;
  }
  return Buffer.from(parts.join(" ")).subarray(0, n);
}

test("every codec round-trips, from empty to several blocks", () => {
  const random = seededRandom(7);
  const inputs = [
    Buffer.alloc(0),
    Buffer.from("x"),
    sampleData(1000),
    sampleData(100_000),
    sampleData(700_000), // spans several snappy (32 KiB) and lz4 (256 KiB) blocks
    randomBytes(random, 70_000), // incompressible: lz4 stores blocks uncompressed
  ];
  for (const codec of CODECS) {
    for (const input of inputs) {
      const packed = compress(codec, input);
      const unpacked = decompress(codec, packed);
      assert.ok(unpacked.equals(input), `${COMPRESSION_NAMES[codec]} ${input.length} bytes`);
    }
  }
});

test("unknown codecs are UNSUPPORTED_COMPRESSION_TYPE", () => {
  for (const codec of [5, 6, 7, -1, 1.5]) {
    assertBatchError(() => decompress(codec, Buffer.from("abc")), "UNSUPPORTED_COMPRESSION_TYPE");
    assertBatchError(
      () => compress(codec as CompressionType, Buffer.from("abc")),
      "UNSUPPORTED_COMPRESSION_TYPE",
    );
  }
});

test("undecodable data is CORRUPT_MESSAGE", () => {
  const data = sampleData(50_000);
  for (const codec of COMPRESSED) {
    const packed = compress(codec, data);
    assertBatchError(() => decompress(codec, packed.subarray(0, packed.length - 7)), "CORRUPT_MESSAGE");
    assertBatchError(() => decompress(codec, packed.subarray(0, 3)), "CORRUPT_MESSAGE");
    assertBatchError(() => decompress(codec, Buffer.from("definitely not compressed")), "CORRUPT_MESSAGE");
  }
  assertBatchError(() => decompress(Compression.GZIP, Buffer.alloc(0)), "CORRUPT_MESSAGE");
  assertBatchError(() => decompress(Compression.LZ4, Buffer.alloc(0)), "CORRUPT_MESSAGE");
});

test("decompression stops at the limit (no bombs)", () => {
  const zeros = Buffer.alloc(32 * 1024 * 1024);
  for (const codec of COMPRESSED) {
    const bomb = compress(codec, zeros);
    assert.ok(bomb.length < zeros.length / 20, `${COMPRESSION_NAMES[codec]} compresses zeros`);
    assertBatchError(() => decompress(codec, bomb, 1024 * 1024), "MESSAGE_TOO_LARGE");
  }
  // Exactly at the limit is fine, one byte under is not.
  const data = sampleData(300_000);
  for (const codec of CODECS) {
    const packed = compress(codec, data);
    assert.equal(decompress(codec, packed, data.length).length, data.length);
    assertBatchError(() => decompress(codec, packed, data.length - 1), "MESSAGE_TOO_LARGE");
  }
});

test("a raw snappy block claiming a huge size is refused before decompressing", () => {
  // Preamble says 4 GiB; the library would allocate that up front.
  const block = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
  assertBatchError(() => decompress(Compression.SNAPPY, block, 1 << 20), "MESSAGE_TOO_LARGE");
});

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

test("snappy: reads a hand-made xerial frame (Java client) and a raw block (librdkafka)", () => {
  const a = snappyRawCompress(Buffer.from("hello, "));
  const b = snappyRawCompress(Buffer.from("xerial world"));
  const framed = Buffer.concat([XERIAL_HEADER, int32(a.length), a, int32(b.length), b]);
  assert.equal(decompress(Compression.SNAPPY, framed).toString(), "hello, xerial world");
  assert.equal(decompress(Compression.SNAPPY, a).toString(), "hello, ");
  // Block length past the end, negative, or cut short.
  const badLength = Buffer.concat([XERIAL_HEADER, int32(a.length + 100), a]);
  assertBatchError(() => decompress(Compression.SNAPPY, badLength), "CORRUPT_MESSAGE");
  assertBatchError(
    () => decompress(Compression.SNAPPY, Buffer.concat([XERIAL_HEADER, int32(-1)])),
    "CORRUPT_MESSAGE",
  );
  assertBatchError(
    () => decompress(Compression.SNAPPY, Buffer.concat([XERIAL_HEADER, a.subarray(0, 2)])),
    "CORRUPT_MESSAGE",
  );
  // The limit applies across blocks.
  assertBatchError(() => decompress(Compression.SNAPPY, framed, 10), "MESSAGE_TOO_LARGE");
});

test("snappy: writes xerial framing with 32 KiB blocks, as the Java client does", () => {
  const data = sampleData(100_000);
  const packed = compress(Compression.SNAPPY, data);
  assert.deepEqual(packed.subarray(0, 16), XERIAL_HEADER);
  const pieces: Buffer[] = [];
  let pos = 16;
  while (pos < packed.length) {
    const length = packed.readInt32BE(pos);
    const block = decompress(Compression.SNAPPY, packed.subarray(pos + 4, pos + 4 + length));
    assert.ok(block.length <= 32 * 1024);
    pieces.push(block);
    pos += 4 + length;
  }
  assert.equal(pieces.length, 4);
  assert.ok(Buffer.concat(pieces).equals(data));
  // An empty input still gets one block, so librdkafka recognises the framing.
  assert.ok(compress(Compression.SNAPPY, Buffer.alloc(0)).length > 20);
});

test("lz4: frame variants (skippable frames, concatenation, bad descriptors)", () => {
  const data = sampleData(10_000);
  const frame = compress(Compression.LZ4, data);
  const skippable = Buffer.concat([
    Buffer.from([0x5a, 0x2a, 0x4d, 0x18]),
    Buffer.from([3, 0, 0, 0]),
    Buffer.from("abc"),
  ]);
  assert.ok(decompress(Compression.LZ4, Buffer.concat([skippable, frame])).equals(data));
  assert.ok(decompress(Compression.LZ4, Buffer.concat([frame, frame])).equals(Buffer.concat([data, data])));
  const withDictId = Buffer.from(frame);
  withDictId[4] |= 0x01;
  assertBatchError(() => decompress(Compression.LZ4, withDictId), "CORRUPT_MESSAGE");
  const badVersion = Buffer.from(frame);
  badVersion[4] &= 0x3f;
  assertBatchError(() => decompress(Compression.LZ4, badVersion), "CORRUPT_MESSAGE");
  const badBlockSize = Buffer.from(frame);
  badBlockSize[5] = 0x30;
  assertBatchError(() => decompress(Compression.LZ4, badBlockSize), "CORRUPT_MESSAGE");
});

test("compression names map to codecs", () => {
  assert.equal(compressionFromName("zstd"), Compression.ZSTD);
  assert.equal(compressionFromName("GZIP"), Compression.GZIP);
  assert.equal(compressionFromName("none"), Compression.NONE);
  assert.equal(compressionFromName("producer"), undefined);
});

function hasTool(name: string): boolean {
  return spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0;
}

function run(cmd: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

// Interop with the reference command-line tools, where installed.
const data = sampleData(900_000, 3);

test("lz4 interop with the lz4 tool", { skip: !hasTool("lz4") && "lz4 not installed" }, () => {
  // Linked blocks and checksums are what librdkafka and the lz4 tool may write.
  for (const flags of [[], ["-BD"], ["-B4", "-BD"], ["-B7", "-BX"], ["--content-size"], ["--no-frame-crc"]]) {
    const packed = run("lz4", ["-q", "-c", ...flags], data);
    assert.ok(decompress(Compression.LZ4, packed).equals(data), flags.join(" "));
    assertBatchError(() => decompress(Compression.LZ4, packed, 100_000), "MESSAGE_TOO_LARGE");
  }
  assert.ok(run("lz4", ["-d", "-q", "-c"], compress(Compression.LZ4, data)).equals(data));
});

test("zstd interop with the zstd tool", { skip: !hasTool("zstd") && "zstd not installed" }, () => {
  assert.ok(decompress(Compression.ZSTD, run("zstd", ["-q", "-c"], data)).equals(data));
  assert.ok(decompress(Compression.ZSTD, run("zstd", ["-q", "-c", "--no-content-size"], data)).equals(data));
  assert.ok(run("zstd", ["-d", "-q", "-c"], compress(Compression.ZSTD, data)).equals(data));
});

test("gzip interop with the gzip tool", { skip: !hasTool("gzip") && "gzip not installed" }, () => {
  assert.ok(decompress(Compression.GZIP, run("gzip", ["-c"], data)).equals(data));
  assert.ok(run("gzip", ["-d", "-c"], compress(Compression.GZIP, data)).equals(data));
});
