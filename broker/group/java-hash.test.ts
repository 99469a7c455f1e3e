import { test } from "node:test";
import assert from "node:assert/strict";
import { groupPartition, javaStringHashCode, kafkaAbs } from "./java-hash.ts";

// Values printed by Java 17's String.hashCode (and Kafka's Utils.abs(h) % 50) for these strings.
const JAVA: Array<[string, number, number]> = [
  ["test-group", 627841412, 12],
  ["", 0, 0],
  ["a", 97, 47],
  ["polygenelubricants", -2147483648, 0],
  ["console-consumer-12345", 158455506, 6],
  ["소비자-그룹", 439620502, 2],
  ["emoji-😀", 1164511306, 6],
  ["GydZG_", -2147483648, 0],
];

test("javaStringHashCode matches Java over UTF-16 code units, with int overflow", () => {
  for (const [s, hash] of JAVA) assert.equal(javaStringHashCode(s), hash, s);
});

test("groups land on Kafka's partition: Utils.abs(hash) % 50, abs(MIN_VALUE) = 0", () => {
  for (const [s, , partition] of JAVA) assert.equal(groupPartition(s, 50), partition, s);
  assert.equal(kafkaAbs(-2147483648), 0);
  assert.equal(kafkaAbs(-5), 5);
  assert.equal(groupPartition("test-group", 1), 0);
});
