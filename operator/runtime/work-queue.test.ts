import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkQueue, backoffDelay } from "./work-queue.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise with its resolver, to hold a handler until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

test("a key queued many times before it runs runs once", async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ handler: async (k) => void runs.push(k) });
  for (let i = 0; i < 5; i++) q.add("a");
  q.add("b");
  assert.equal(q.depth, 2);
  q.start();
  await q.idle();
  assert.deepEqual(runs, ["a", "b"]);
});

test("one key never runs twice at once; added during its run, it runs once more after", async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const first = gate();
  const q = new WorkQueue({
    concurrency: 4,
    handler: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      if (runs === 1) await first.promise;
      active--;
    },
  });
  q.start();
  q.add("a");
  await sleep(5);
  q.add("a"); // during the first run
  q.add("a"); // deduplicated with the previous one
  await sleep(5);
  assert.equal(runs, 1, "the second run waits for the first");
  first.open();
  await q.idle();
  assert.equal(runs, 2);
  assert.equal(maxActive, 1);
});

test("the global concurrency limit holds across keys", async () => {
  let active = 0;
  let maxActive = 0;
  const q = new WorkQueue({
    concurrency: 2,
    handler: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(10);
      active--;
    },
  });
  for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
  q.start();
  await q.idle();
  assert.equal(maxActive, 2);
});

test("failures retry with exponential per-key backoff, a success resets it", async () => {
  const times: number[] = [];
  let failuresLeft = 4;
  const delays: number[] = [];
  const q = new WorkQueue({
    baseDelayMs: 10,
    handler: async () => {
      times.push(performance.now());
      if (failuresLeft-- > 0) throw new Error("boom");
    },
    onError: (_k, _e, delay) => delays.push(delay),
  });
  q.start();
  q.add("a");
  await sleep(10 + 20 + 40 + 80 + 100);
  await q.idle();
  assert.equal(times.length, 5);
  assert.deepEqual(delays, [10, 20, 40, 80]);
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i] - times[i - 1] >= delays[i - 1] - 2, `retry ${i} waited its backoff`);
  }
  assert.equal(q.failureCount("a"), 0, "the success forgot the failures");
});

test("backoff: 5 ms doubling, capped at 1000 s", () => {
  assert.equal(backoffDelay(0), 5);
  assert.equal(backoffDelay(1), 10);
  assert.equal(backoffDelay(10), 5120);
  assert.equal(backoffDelay(30), 1_000_000);
  assert.equal(backoffDelay(10_000), 1_000_000);
});

test("requeueAfterMs runs the key again later without counting a failure", async () => {
  let runs = 0;
  const outcomes: string[] = [];
  const q = new WorkQueue({
    handler: async () => (++runs === 1 ? { requeueAfterMs: 20 } : undefined),
    onDone: (_k, outcome) => outcomes.push(outcome),
  });
  q.start();
  q.add("a");
  await sleep(5);
  assert.equal(runs, 1);
  await sleep(40);
  await q.idle();
  assert.equal(runs, 2);
  assert.deepEqual(outcomes, ["requeue", "success"]);
  assert.equal(q.failureCount("a"), 0);
});

test("addAfter keeps the earliest pending delay of a key", async () => {
  let runs = 0;
  const q = new WorkQueue({ handler: async () => void runs++ });
  q.start();
  q.addAfter("a", 10);
  q.addAfter("a", 1000);
  await sleep(30);
  assert.equal(runs, 1);
  await q.shutdown();
});

test("shutdown drops queued work and waits for running reconciles", async () => {
  const running = gate();
  const done: string[] = [];
  const q = new WorkQueue({
    concurrency: 1,
    handler: async (k) => {
      if (k === "a") await running.promise;
      done.push(k);
    },
  });
  q.start();
  q.add("a");
  q.add("b");
  q.addAfter("c", 10);
  await sleep(5);
  const stopped = q.shutdown();
  let finished = false;
  void stopped.then(() => (finished = true));
  await sleep(5);
  assert.equal(finished, false, "waits for the running reconcile");
  running.open();
  await stopped;
  await sleep(20);
  assert.deepEqual(done, ["a"]);
  q.add("d");
  await sleep(5);
  assert.deepEqual(done, ["a"], "nothing runs after shutdown");
});
