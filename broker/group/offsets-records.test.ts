// The bytes of __consumer_offsets records, written out field by field from Kafka's
// schemas (internal/OffsetCommitKey.json and friends) rather than produced by the codec
// under test, so a change in what is written shows up here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeOffsetsTopicRecord, encodeOffsetsTopicRecord } from "./offsets-records.ts";

const i16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const i64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
const str = (s: string | null) =>
  s === null ? i16(-1) : Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
const bytes = (b: Buffer) => Buffer.concat([i32(b.length), b]);

test("offset commit: key version 1, value version 3 (Kafka 2.1+), tombstone as null value", () => {
  const { key, value } = encodeOffsetsTopicRecord({
    type: "offset",
    group: "test-group",
    topic: "test",
    partition: 2,
    value: {
      offset: 42n,
      leaderEpoch: 5,
      metadata: "meta",
      commitTimestamp: 1_700_000_000_123n,
      expireTimestamp: -1n,
    },
  });
  assert.deepEqual(key, Buffer.concat([i16(1), str("test-group"), str("test"), i32(2)]));
  assert.deepEqual(value, Buffer.concat([i16(3), i64(42n), i32(5), str("meta"), i64(1_700_000_000_123n)]));
  const tomb = encodeOffsetsTopicRecord({
    type: "offset",
    group: "g",
    topic: "t",
    partition: 0,
    value: null,
  });
  assert.equal(tomb.value, null);
  assert.deepEqual(decodeOffsetsTopicRecord(tomb.key, null), {
    type: "offset",
    group: "g",
    topic: "t",
    partition: 0,
    value: null,
  });
});

test("an offset with its own retention is written as value version 1 (the one with expireTimestamp)", () => {
  const { value } = encodeOffsetsTopicRecord({
    type: "offset",
    group: "g",
    topic: "t",
    partition: 0,
    value: { offset: 7n, leaderEpoch: -1, metadata: "", commitTimestamp: 1000n, expireTimestamp: 61_000n },
  });
  assert.deepEqual(value, Buffer.concat([i16(1), i64(7n), str(""), i64(1000n), i64(61_000n)]));
  const back = decodeOffsetsTopicRecord(Buffer.concat([i16(1), str("g"), str("t"), i32(0)]), value);
  assert.equal(back.type === "offset" && back.value?.expireTimestamp, 61_000n);
});

test("group metadata: key version 2, value version 3 with members, subscriptions and assignments", () => {
  const member = {
    memberId: "consumer-1-abc",
    groupInstanceId: null,
    clientId: "consumer-1",
    clientHost: "/127.0.0.1",
    rebalanceTimeout: 300_000,
    sessionTimeout: 45_000,
    subscription: Buffer.from([0, 1, 2]),
    assignment: Buffer.from([9]),
  };
  const { key, value } = encodeOffsetsTopicRecord({
    type: "group",
    group: "test-group",
    value: {
      protocolType: "consumer",
      generation: 4,
      protocol: "range",
      leader: "consumer-1-abc",
      currentStateTimestamp: 1_700_000_000_000n,
      members: [member],
    },
  });
  assert.deepEqual(key, Buffer.concat([i16(2), str("test-group")]));
  assert.deepEqual(
    value,
    Buffer.concat([
      i16(3),
      str("consumer"),
      i32(4),
      str("range"),
      str("consumer-1-abc"),
      i64(1_700_000_000_000n),
      i32(1),
      str("consumer-1-abc"),
      str(null),
      str("consumer-1"),
      str("/127.0.0.1"),
      i32(300_000),
      i32(45_000),
      bytes(Buffer.from([0, 1, 2])),
      bytes(Buffer.from([9])),
    ]),
  );
  const back = decodeOffsetsTopicRecord(key, value);
  assert.equal(back.type, "group");
  assert.deepEqual(back.type === "group" && back.value?.members, [member]);
});

test("older value versions Kafka wrote still decode; KIP-848 record types are recognised and skipped", () => {
  // OffsetCommitValue v0: offset, metadata, commit timestamp.
  const v0 = decodeOffsetsTopicRecord(
    Buffer.concat([i16(0), str("g"), str("t"), i32(1)]),
    Buffer.concat([i16(0), i64(3n), str("x"), i64(5n)]),
  );
  assert.deepEqual(v0.type === "offset" && v0.value, {
    offset: 3n,
    leaderEpoch: -1,
    metadata: "x",
    commitTimestamp: 5n,
    expireTimestamp: -1n,
  });
  assert.deepEqual(decodeOffsetsTopicRecord(Buffer.concat([i16(3), str("g")]), Buffer.alloc(4)), {
    type: "other",
    keyVersion: 3,
  });
});
