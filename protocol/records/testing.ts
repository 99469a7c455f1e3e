// Helpers shared by this folder's tests (named so the test runner does not run it).
import assert from "node:assert/strict";
import { RecordBatchError, type RecordBatchErrorCode } from "./errors.ts";

/** Asserts that `fn` throws a RecordBatchError, with `code` if given; returns the error. */
export function assertBatchError(fn: () => unknown, code?: RecordBatchErrorCode): RecordBatchError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, "expected a RecordBatchError, nothing was thrown");
  assert.ok(caught instanceof RecordBatchError, `expected a RecordBatchError, got ${String(caught)}`);
  if (code !== undefined) assert.equal(caught.code, code, caught.message);
  return caught;
}

/** A small seeded PRNG (mulberry32), so fuzz failures can be replayed from the seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(random: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}
