import { test } from "node:test";
import assert from "node:assert/strict";
import { BrokerConfig, ConfigError, parseProperties } from "./config.ts";

test("server.properties syntax: comments, separators, continuations, escapes", () => {
  const p = parseProperties(
    [
      "# comment",
      "! also a comment",
      "node.id=3",
      "log.dirs : /a,\\",
      "   /b",
      "listeners PLAINTEXT://:9092",
      "a\\=b=c",
      "",
    ].join("\n"),
  );
  assert.equal(p.get("node.id"), "3");
  assert.equal(p.get("log.dirs"), "/a,/b");
  assert.equal(p.get("listeners"), "PLAINTEXT://:9092");
  assert.equal(p.get("a=b"), "c");
});

test("Kafka's defaults apply where nothing is set", () => {
  const c = BrokerConfig.from(new Map());
  assert.equal(c.int("num.partitions"), 1);
  assert.equal(c.int("message.max.bytes"), 1048588);
  assert.equal(c.int("log.segment.bytes"), 1073741824);
  assert.equal(c.int("socket.request.max.bytes"), 104857600);
  assert.equal(c.bool("auto.create.topics.enable"), true);
  assert.equal(c.retentionMs(), 168 * 3_600_000);
  assert.deepEqual(c.logDirs(), ["/tmp/kafka-logs"]);
  assert.deepEqual(c.listeners(), [{ name: "PLAINTEXT", host: "", port: 9092 }]);
  assert.deepEqual(c.advertisedListeners(), [{ name: "PLAINTEXT", host: "localhost", port: 9092 }]);
});

test("retention precedence is ms, then minutes, then hours", () => {
  assert.equal(BrokerConfig.from(new Map([["log.retention.minutes", "5"]])).retentionMs(), 300_000);
  assert.equal(
    BrokerConfig.from(
      new Map([
        ["log.retention.minutes", "5"],
        ["log.retention.ms", "1000"],
      ]),
    ).retentionMs(),
    1000,
  );
});

test("overrides apply on top of the file and every problem is reported at once", () => {
  const c = BrokerConfig.load(undefined, ["node.id=7", "log.dirs=/x,/y"]);
  assert.equal(c.nodeId, 7);
  assert.deepEqual(c.logDirs(), ["/x", "/y"]);
  try {
    BrokerConfig.from(
      new Map([
        ["num.partitons", "3"],
        ["num.partitions", "zero"],
        ["log.segment.bytes", "1"],
        ["listeners", "localhost:9092"],
        ["log.message.timestamp.type", "Now"],
      ]),
    );
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const all = err.problems.join("\n");
    assert.match(all, /unknown property num\.partitons \(did you mean num\.partitions\?\)/);
    assert.match(all, /num\.partitions=zero: expected an integer/);
    assert.match(all, /log\.segment\.bytes=1: must be at least 14/);
    assert.match(all, /log\.message\.timestamp\.type=Now: must be one of CreateTime, LogAppendTime/);
  }
  assert.throws(
    () => BrokerConfig.from(new Map([["listeners", "localhost:9092"]])),
    /is not NAME:\/\/host:port/,
  );
  assert.throws(() => BrokerConfig.from(new Map([["listeners", "SSL://:9093"]])), /only PLAINTEXT/);
  assert.throws(() => BrokerConfig.load(undefined, ["novalue"]), /is not key=value/);
});
