import { test } from "node:test";
import assert from "node:assert/strict";
import { clientHostOf } from "./client-host.ts";

test("member hosts print as Java's InetAddress does: /ip, IPv4-mapped addresses as IPv4", () => {
  assert.equal(clientHostOf("127.0.0.1:53412"), "/127.0.0.1");
  assert.equal(clientHostOf("::ffff:10.1.2.3:9000"), "/10.1.2.3");
  assert.equal(clientHostOf("::1:40000"), "/::1");
  assert.equal(clientHostOf("fe80::1:7"), "/fe80::1");
});
