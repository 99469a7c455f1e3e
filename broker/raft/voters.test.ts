import { test } from "node:test";
import assert from "node:assert/strict";
import { majority, parseVoters } from "./voters.ts";

test("controller.quorum.voters parses id@host:port entries", () => {
  const v = parseVoters(["0@broker-0.kafka:9093", "1@10.0.0.2:9093", "2@[::1]:19093"]);
  assert.deepEqual(v.get(0), { host: "broker-0.kafka", port: 9093 });
  assert.deepEqual(v.get(2), { host: "::1", port: 19093 });
  assert.throws(() => parseVoters(["0@a:1", "0@b:2"]), /listed twice/);
  assert.throws(() => parseVoters(["a:1"]), /not id@host:port/);
  assert.equal(majority(1), 1);
  assert.equal(majority(3), 2);
  assert.equal(majority(4), 3);
});
