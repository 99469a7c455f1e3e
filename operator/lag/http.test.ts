import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import express from "express";
import { Gauge, Registry } from "prom-client";
import { mountLagMetrics, serveLagMetrics } from "./http.ts";
import { LagMetrics } from "./metrics.ts";

test("mountLagMetrics serves the lag families and other registries on one route", async () => {
  const lag = new LagMetrics();
  const other = new Registry();
  new Gauge({ name: "capstan_leader", help: "leader", registers: [other] }).set(1);
  const app = express();
  mountLagMetrics(app, lag, { path: "/metrics", also: [other] });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /# TYPE kafka_consumergroup_lag gauge/);
    assert.match(text, /^capstan_leader 1$/m);
  } finally {
    server.close();
  }
});

test("serveLagMetrics answers /metrics and /healthz", async () => {
  const s = await serveLagMetrics(new LagMetrics(), { port: 0 });
  try {
    assert.equal((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status, 200);
    const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    assert.match(text, /# HELP capstan_lag_up /);
  } finally {
    await s.close();
  }
});
