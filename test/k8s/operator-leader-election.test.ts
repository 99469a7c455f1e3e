// Leader election on a real coordination.k8s.io Lease (the operator's ServiceAccount and
// its generated lease Role): one leader among candidates, immediate takeover after a
// release, takeover after the lease duration judged on the candidate's own clock (not
// the holder's renewTime), and stepping down when the lease is lost. Skipped when
// test/setup/k8s.sh has not built the binaries, except on CI, where that is a failure.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { KubeClient } from "../../operator/runtime/kube-client.ts";
import { LeaderElector } from "../../operator/runtime/leader-election.ts";
import { microTime } from "../../operator/runtime/time.ts";
import { k8sUnavailable, startControlPlane, waitFor } from "./harness.ts";
import type { ControlPlane } from "./harness.ts";
import {
  OPERATOR_NAMESPACE,
  getJson,
  installOperator,
  kubectlOk,
  loadKubeConfig,
} from "./operator-fixtures.ts";

const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 250 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("leader election on a Lease", { skip: unavailable ?? false, timeout: 300_000 }, () => {
  let cp: ControlPlane;
  let client: KubeClient;
  const electors: LeaderElector[] = [];

  before(async () => {
    cp = await startControlPlane();
    client = new KubeClient(loadKubeConfig(await installOperator(cp)), { timeoutMs: 1000 });
  });
  after(async () => {
    await Promise.all(electors.map((e) => e.stop()));
    await cp?.stop();
  });

  const candidate = (lease: string, identity: string, events: string[] = []) => {
    const e = new LeaderElector({
      client,
      namespace: OPERATOR_NAMESPACE,
      name: lease,
      identity,
      ...TIMING,
      log: createLogger("test", { identity }),
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
    });
    electors.push(e);
    return e;
  };
  const holder = async (lease: string) =>
    (await getJson(cp, ["lease", lease, "-n", OPERATOR_NAMESPACE]))?.spec?.holderIdentity as
      string | undefined;

  test("of candidates started together exactly one leads; a released lease passes at once", async () => {
    const a = candidate("le-one", "a");
    const b = candidate("le-one", "b");
    const c = candidate("le-one", "c");
    a.start();
    b.start();
    c.start();
    const all = [a, b, c];
    const leader = await waitFor("a leader", () => all.find((e) => e.isLeader));
    await sleep(TIMING.leaseDurationMs + 500); // longer than a lease: renewals keep it
    assert.deepEqual(
      all.filter((e) => e.isLeader),
      [leader],
    );
    const id = ["a", "b", "c"][all.indexOf(leader)];
    assert.equal(await holder("le-one"), id);

    const released = Date.now();
    await leader.stop();
    const next = await waitFor("a new leader", () => all.find((e) => e !== leader && e.isLeader), {
      intervalMs: 50,
    });
    assert.ok(
      Date.now() - released < TIMING.leaseDurationMs,
      "no wait for the lease to expire after a release",
    );
    assert.notEqual(next, leader);
    assert.equal(all.filter((e) => e.isLeader).length, 1);
  });

  test("a holder that stopped renewing is replaced after the lease duration on the candidate's clock", async () => {
    // A record whose renewTime is an hour old by the wall clock: a candidate comparing
    // clocks would take it at once; it must first see the record unchanged for a lease.
    const past = microTime(new Date(Date.now() - 3600_000));
    await kubectlOk(
      cp,
      ["create", "-f", "-"],
      JSON.stringify({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "le-crashed", namespace: OPERATOR_NAMESPACE },
        spec: { holderIdentity: "crashed", leaseDurationSeconds: 3, acquireTime: past, renewTime: past },
      }),
    );
    const d = candidate("le-crashed", "d");
    const started = Date.now();
    d.start();
    await sleep(TIMING.leaseDurationMs - 1000);
    assert.equal(d.isLeader, false, "took an unexpired lease");
    await waitFor("d to take over", () => d.isLeader, { timeoutMs: 10_000, intervalMs: 50 });
    assert.ok(Date.now() - started >= TIMING.leaseDurationMs);
    const lease = await getJson(cp, ["lease", "le-crashed", "-n", OPERATOR_NAMESPACE]);
    assert.equal(lease.spec.holderIdentity, "d");
    assert.equal(lease.spec.leaseTransitions, 1);
  });

  test("a leader that cannot renew steps down within the renew deadline", async () => {
    const events: string[] = [];
    const e = candidate("le-lost", "e", events);
    e.start();
    await waitFor("e to lead", () => e.isLeader);
    // Someone takes the lease over behind e's back (as after a long pause of e) and keeps it.
    let stopIntruder = false;
    const intruder = (async () => {
      while (!stopIntruder) {
        const lease = await getJson(cp, ["lease", "le-lost", "-n", OPERATOR_NAMESPACE]);
        lease.spec.holderIdentity = "intruder";
        lease.spec.renewTime = microTime();
        lease.spec.leaseDurationSeconds = 30;
        await cp.kubectl(["replace", "-f", "-"], { input: JSON.stringify(lease) });
        await sleep(200);
      }
    })();
    try {
      const lostAt = Date.now();
      await waitFor("e to step down", () => events.includes("e stopped"), {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      assert.equal(e.isLeader, false);
      assert.ok(
        Date.now() - lostAt <= TIMING.renewDeadlineMs + 1500,
        "stepped down within the renew deadline",
      );
    } finally {
      stopIntruder = true;
      await intruder;
    }
  });
});
