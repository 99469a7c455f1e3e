import assert from "node:assert/strict";
import { test } from "node:test";
import type { KafkaCluster } from "../api/types.ts";
import { jsonEqual } from "../runtime/conditions.ts";
import type { ClusterObservation } from "./status.ts";
import { clusterStatus } from "./status.ts";

const kc = (status?: KafkaCluster["status"]): KafkaCluster => ({
  apiVersion: "kafka.capstan.dev/v1alpha1",
  kind: "KafkaCluster",
  metadata: { name: "demo", namespace: "kafka", generation: 3 },
  spec: { replicas: 3 },
  status,
});

const obs = (o: Partial<ClusterObservation> = {}): ClusterObservation => ({
  kc: kc(),
  replicas: 3,
  readyBrokers: 3,
  staleBrokers: 0,
  appliedReplicas: 3,
  selector: "a=b",
  bootstrapServers: "demo-bootstrap.kafka.svc:9092",
  now: new Date("2026-01-01T00:00:00Z"),
  ...o,
});

const cond = (s: ReturnType<typeof clusterStatus>, type: string) =>
  s.conditions!.find((c) => c.type === type)!;

test("all brokers ready: Ready=True with the bootstrap address, Reconciling=False, Stalled=False", () => {
  const s = clusterStatus(obs());
  assert.equal(cond(s, "Ready").status, "True");
  assert.match(cond(s, "Ready").message, /demo-bootstrap\.kafka\.svc:9092/);
  assert.equal(cond(s, "Reconciling").status, "False");
  assert.equal(cond(s, "Stalled").status, "False");
  assert.equal(s.observedGeneration, 3);
  assert.ok(s.conditions!.every((c) => c.observedGeneration === 3));
  assert.equal(s.readyBrokers, 3);
  assert.equal(s.bootstrapServers, "demo-bootstrap.kafka.svc:9092");
});

test("the same observation later yields the same status (the writer then skips the write)", () => {
  const first = clusterStatus(obs());
  const again = clusterStatus(obs({ kc: kc(first), now: new Date("2026-01-02T00:00:00Z") }));
  assert.ok(jsonEqual(first, again));
});

test("brokers starting: Ready=False, Reconciling=True", () => {
  const s = clusterStatus(obs({ readyBrokers: 1 }));
  assert.equal(cond(s, "Ready").reason, "BrokersNotReady");
  assert.equal(cond(s, "Reconciling").status, "True");
});

test("a rolling restart in progress says so", () => {
  const s = clusterStatus(
    obs({ staleBrokers: 2, progress: [{ reason: "RollingRestart", message: "restarting demo-broker-2" }] }),
  );
  assert.equal(cond(s, "Ready").reason, "RollingRestart");
  assert.equal(cond(s, "Reconciling").reason, "RollingRestart");
  assert.match(cond(s, "Reconciling").message, /demo-broker-2/);
});

test("stalled: Stalled=True with the reason, Ready=False, Reconciling=False", () => {
  const s = clusterStatus(obs({ stalled: { reason: "ScaleDownBlocked", message: "move t/0" } }));
  assert.equal(cond(s, "Stalled").status, "True");
  assert.equal(cond(s, "Stalled").message, "move t/0");
  assert.equal(cond(s, "Ready").status, "False");
  assert.equal(cond(s, "Reconciling").status, "False");
});

test("paused: Reconciling=False reason Paused, readiness still observed, the new spec not claimed", () => {
  const s = clusterStatus(obs({ paused: true, kc: { ...kc({ observedGeneration: 2 }) } }));
  assert.equal(s.observedGeneration, 2);
  assert.equal(cond(s, "Reconciling").reason, "Paused");
  assert.match(cond(s, "Reconciling").message, /kafka\.capstan\.dev\/paused/);
  assert.equal(cond(s, "Ready").status, "True");
});

test("the cluster id, once known, is kept", () => {
  const s = clusterStatus(obs({ kc: kc({ clusterId: "abc" }) }));
  assert.equal(s.clusterId, "abc");
});
