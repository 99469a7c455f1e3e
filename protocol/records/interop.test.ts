// Record batches exchanged with independent implementations: kafka-python (which
// checks the CRC-32C itself), when the system Python has it, and kafkajs (a dev
// dependency). Each side builds batches the other decodes. Only the codecs both
// sides have without extra packages are exercised (none, gzip).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { test } from "node:test";
import { validateBatch } from "./batch.ts";
import { Compression, type CompressionType } from "./compression.ts";
import { buildRecordBatch, iterateRecords, validateRecords, type RecordInput } from "./record.ts";

const T0 = 1_700_000_000_000n;
const INPUTS: RecordInput[] = [
  { key: Buffer.from("k1"), value: Buffer.from("value one ".repeat(20)), timestamp: T0 },
  { key: null, value: Buffer.from("value two ".repeat(20)), timestamp: T0 + 7n },
  {
    key: Buffer.from("k3"),
    value: null,
    timestamp: T0 + 3n,
    headers: [
      { key: "h1", value: Buffer.from("x") },
      { key: "h-null", value: null },
    ],
  },
];
const CODECS: CompressionType[] = [Compression.NONE, Compression.GZIP];

interface PlainRecord {
  offset: string;
  timestamp: string;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
}

function hexOrNull(b: Buffer | null | undefined): string | null {
  return b === null || b === undefined ? null : b.toString("hex");
}

function expected(baseOffset: bigint, inputs = INPUTS): PlainRecord[] {
  return inputs.map((r, i) => ({
    offset: String(baseOffset + BigInt(i)),
    timestamp: String(r.timestamp),
    key: hexOrNull(r.key),
    value: hexOrNull(r.value),
    headers: (r.headers ?? []).map((h): [string, string | null] => [h.key, hexOrNull(h.value)]),
  }));
}

/** kafkajs cannot encode a null header value; the same records without one. */
const KAFKAJS_INPUTS: RecordInput[] = INPUTS.map((r) => ({
  ...r,
  headers: r.headers?.map((h) => ({ key: h.key, value: h.value ?? Buffer.from("y") })),
}));

function decodeOurs(buf: Buffer): PlainRecord[] {
  const header = validateBatch(buf);
  validateRecords(header);
  return [...iterateRecords(header)].map((r) => ({
    offset: String(r.offset),
    timestamp: String(r.timestamp),
    key: hexOrNull(r.key),
    value: hexOrNull(r.value),
    headers: r.headers.map((h): [string, string | null] => [h.key, hexOrNull(h.value)]),
  }));
}

// --- kafka-python -----------------------------------------------------------------

const PYTHON = "/usr/bin/python3";
const PY_SCRIPT = `
import json, sys
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
req = json.load(sys.stdin)
h = lambda s: None if s is None else bytes.fromhex(s)
x = lambda b: None if b is None else bytes(b).hex()
out = {"built": [], "read": []}
for spec in req["build"]:
    b = DefaultRecordBatchBuilder(magic=2, compression_type=spec["compression"], is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for i, r in enumerate(spec["records"]):
        b.append(i, int(r["timestamp"]), h(r["key"]), h(r["value"]), [(k, h(v)) for k, v in r["headers"]])
    out["built"].append(bytes(b.build()).hex())
for data in req["read"]:
    batch = DefaultRecordBatch(bytes.fromhex(data))
    ok = batch.validate_crc()
    recs = [{"offset": str(r.offset), "timestamp": str(r.timestamp), "key": x(r.key), "value": x(r.value),
             "headers": [[k, x(v)] for k, v in r.headers]} for r in batch]
    out["read"].append({"crc_ok": ok, "compression": batch.compression_type, "records": recs})
json.dump(out, sys.stdout)
`;

const hasKafkaPython =
  spawnSync(PYTHON, ["-c", "import kafka.record.default_records"], { stdio: "ignore" }).status === 0;

test(
  "kafka-python reads our batches and we read its",
  { skip: !hasKafkaPython && "kafka-python not installed" },
  () => {
    const ours = CODECS.map((compression) =>
      buildRecordBatch({ records: INPUTS, compression, baseOffset: 0n }),
    );
    const request = {
      build: CODECS.map((compression) => ({ compression, records: expected(0n) })),
      read: ours.map((b) => b.toString("hex")),
    };
    const r = spawnSync(PYTHON, ["-c", PY_SCRIPT], { input: JSON.stringify(request) });
    assert.equal(r.status, 0, String(r.stderr));
    const response = JSON.parse(String(r.stdout)) as {
      built: string[];
      read: Array<{ crc_ok: boolean; compression: number; records: PlainRecord[] }>;
    };
    response.read.forEach((batch, i) => {
      assert.equal(batch.crc_ok, true);
      assert.equal(batch.compression, CODECS[i]);
      assert.deepEqual(batch.records, expected(0n));
    });
    response.built.forEach((hex, i) => {
      const buf = Buffer.from(hex, "hex");
      assert.equal(validateBatch(buf, 0, { produce: true }).compression, CODECS[i]);
      assert.deepEqual(decodeOurs(buf), expected(0n));
    });
  },
);

// --- kafkajs ----------------------------------------------------------------------

interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsDecodedBatch {
  records: Array<{
    offset: string;
    timestamp: string;
    key: Buffer | null;
    value: Buffer | null;
    headers: { [key: string]: Buffer | null };
  }>;
}

const require = createRequire(import.meta.url);
const hasKafkajs = (() => {
  try {
    require.resolve("kafkajs/src/protocol/recordBatch/v0/index.js");
    return true;
  } catch {
    return false;
  }
})();

test(
  "kafkajs reads our batches and we read its",
  { skip: !hasKafkajs && "kafkajs not installed" },
  async () => {
    const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
      RecordBatch: (o: object) => Promise<KafkajsEncoder>;
    };
    const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (
      o: object,
    ) => KafkajsEncoder;
    const decodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder.js") as (
      d: unknown,
    ) => Promise<KafkajsDecodedBatch>;
    const Decoder = require("kafkajs/src/protocol/decoder.js") as new (b: Buffer) => unknown;
    const Long = require("kafkajs/src/utils/long.js") as { fromValue(v: string): unknown };

    for (const compression of CODECS) {
      // kafkajs → us.
      const theirs = await RecordBatch({
        compression,
        firstOffset: Long.fromValue("500"),
        firstTimestamp: Number(T0),
        maxTimestamp: Number(T0 + 7n),
        lastOffsetDelta: KAFKAJS_INPUTS.length - 1,
        producerEpoch: -1,
        firstSequence: -1,
        records: KAFKAJS_INPUTS.map((r, i) =>
          Record({
            offsetDelta: i,
            timestampDelta: Number((r.timestamp ?? T0) - T0),
            key: r.key,
            value: r.value,
            headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, h.value])),
          }),
        ),
      });
      assert.deepEqual(decodeOurs(theirs.buffer), expected(500n, KAFKAJS_INPUTS));

      // us → kafkajs (which does not check the CRC, so that is only checked above).
      const ours = buildRecordBatch({ records: KAFKAJS_INPUTS, compression, baseOffset: 500n });
      const decoded = await decodeBatch(new Decoder(ours));
      assert.deepEqual(
        decoded.records.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          key: hexOrNull(r.key),
          value: hexOrNull(r.value),
          headers: Object.entries(r.headers).map(([k, v]): [string, string | null] => [k, hexOrNull(v)]),
        })),
        expected(500n, KAFKAJS_INPUTS),
      );
    }
  },
);
