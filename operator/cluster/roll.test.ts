import assert from "node:assert/strict";
import { test } from "node:test";
import type { BrokerPod, RollInput } from "./roll.ts";
import { nextRestart } from "./roll.ts";

const pod = (ordinal: number, hash: string, extra: Partial<BrokerPod> = {}): BrokerPod => ({
  name: `demo-broker-${ordinal}`,
  ordinal,
  uid: `uid-${ordinal}-${hash}`,
  hash,
  ready: true,
  terminating: false,
  ...extra,
});

const input = (pods: BrokerPod[], extra: Partial<RollInput> = {}): RollInput => ({
  pods,
  replicas: pods.length,
  targetHash: "new",
  controllerId: 1,
  underReplicated: 0,
  ...extra,
});

/** Runs the roll to the end, restarting what nextRestart picks; returns the order. */
function simulate(n: number, controllerId: number): number[] {
  let pods = Array.from({ length: n }, (_, i) => pod(i, "old"));
  const order: number[] = [];
  for (let step = 0; step < 2 * n; step++) {
    const d = nextRestart(input(pods, { controllerId }));
    if (d.action === "none") return order;
    assert.equal(d.action, "restart");
    if (d.action !== "restart") break;
    order.push(d.pod.ordinal);
    // The StatefulSet recreates the pod from the new template; it comes back ready.
    pods = pods.map((p) => (p.ordinal === d.pod.ordinal ? pod(p.ordinal, "new") : p));
  }
  return order;
}

test("nothing to do when every pod runs the target configuration", () => {
  assert.deepEqual(nextRestart(input([pod(0, "new"), pod(1, "new")])), { action: "none" });
});

test("one broker at a time, highest ordinal first, the active controller last", () => {
  assert.deepEqual(simulate(3, 1), [2, 0, 1]);
  assert.deepEqual(simulate(5, 0), [4, 3, 2, 1, 0]);
  assert.deepEqual(simulate(5, 4), [3, 2, 1, 0, 4]);
});

test("waits while a restarted broker is down or coming back", () => {
  const terminating = nextRestart(
    input([pod(0, "old"), pod(1, "old"), pod(2, "old", { terminating: true })]),
  );
  assert.equal(terminating.action, "wait");
  assert.match((terminating as { reason: string }).reason, /demo-broker-2 to shut down/);
  const missing = nextRestart(input([pod(0, "old"), pod(1, "old")], { replicas: 3 }));
  assert.equal(missing.action, "wait");
  assert.match((missing as { reason: string }).reason, /broker 2 to be created/);
  const starting = nextRestart(input([pod(0, "old"), pod(1, "old"), pod(2, "new", { ready: false })]));
  assert.equal(starting.action, "wait");
  assert.match((starting as { reason: string }).reason, /demo-broker-2 to be ready/);
});

test("waits while partitions are under-replicated or the brokers cannot be asked", () => {
  const pods = [pod(0, "old"), pod(1, "old"), pod(2, "new")];
  const urp = nextRestart(input(pods, { underReplicated: 4 }));
  assert.equal(urp.action, "wait");
  assert.match((urp as { reason: string }).reason, /4 under-replicated/);
  const unknown = nextRestart(input(pods, { underReplicated: undefined }));
  assert.equal(unknown.action, "wait");
  assert.match((unknown as { reason: string }).reason, /cannot reach the brokers/);
});

test("a stale broker that is down restarts first: it serves nothing", () => {
  const d = nextRestart(
    input([pod(0, "old"), pod(1, "old", { ready: false }), pod(2, "old")], { underReplicated: undefined }),
  );
  assert.equal(d.action, "restart");
  assert.equal((d as { pod: BrokerPod }).pod.ordinal, 1);
});

test("an unknown controller does not block the roll", () => {
  const d = nextRestart(input([pod(0, "old"), pod(1, "old")], { controllerId: null }));
  assert.equal(d.action, "restart");
  assert.equal((d as { pod: BrokerPod }).pod.ordinal, 1);
});
