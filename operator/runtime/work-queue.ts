// The queue between watch events and reconciles, with client-go's workqueue semantics:
// a key is queued at most once however many events name it; one key never has two
// reconciles at once (a key added during its reconcile runs once more afterwards, so the
// last event is never lost); failures retry with per-key exponential backoff (5 ms
// doubling to about 16 minutes, as controller-runtime's default rate limiter); a global
// limit caps concurrent reconciles.

import { withDefaults } from "./defaults.ts";
export interface WorkResult {
  /** Reconcile the key again after this long, e.g. while a rolling restart progresses. */
  requeueAfterMs?: number;
}

export type WorkHandler = (key: string) => Promise<WorkResult | void>;

export interface WorkQueueOptions {
  handler: WorkHandler;
  /** Most reconciles running at once, over all keys. */
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told about every failure with the delay before the retry (for logs and metrics). */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
  /** Told when a handler finished (for metrics). */
  onDone?: (key: string, outcome: "success" | "requeue" | "error", seconds: number) => void;
}

/** controller-runtime's default: 5 ms, doubling per consecutive failure, capped at 1000 s. */
export function backoffDelay(failures: number, baseMs = 5, maxMs = 1_000_000): number {
  // 2 ** 40 overflows nothing in floating point, but cap the exponent to stay exact.
  return Math.min(baseMs * 2 ** Math.min(failures, 40), maxMs);
}

export class WorkQueue {
  private readonly opts: Required<Pick<WorkQueueOptions, "concurrency" | "baseDelayMs" | "maxDelayMs">> &
    WorkQueueOptions;
  /** Keys waiting to run, in arrival order (a Set keeps insertion order and dedups). */
  private readonly queue = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while they were processing: they run again when that finishes. */
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters: Array<() => void> = [];
  private running = false;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.opts = withDefaults({ concurrency: 4, baseDelayMs: 5, maxDelayMs: 1_000_000 }, opts);
  }

  /** Starts running handlers (keys added before start wait for it). */
  start(): void {
    if (this.shuttingDown) return;
    this.running = true;
    this.pump();
  }

  /** Queues a key now. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queue.add(key);
    this.pump();
  }

  /** Queues a key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Queues a key after its backoff delay and counts the failure. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = backoffDelay(n, this.opts.baseDelayMs, this.opts.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets a key's backoff (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Consecutive failures of a key. */
  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting to run now (not the delayed ones, not the running ones). */
  get depth(): number {
    return this.queue.size;
  }

  get active(): number {
    return this.processing.size;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queue.size === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking work: queued and delayed keys are dropped (a new leader, or this process
   * when restarted, relists everything), running reconciles finish. Resolves when they
   * have, or after timeoutMs.
   */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    this.shuttingDown = true;
    this.running = false;
    this.queue.clear();
    this.dirty.clear();
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    if (this.processing.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private pump(): void {
    if (!this.running) return;
    while (this.processing.size < this.opts.concurrency && this.queue.size > 0) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
    this.notifyIdle();
  }

  private async run(key: string): Promise<void> {
    const started = performance.now();
    let outcome: "success" | "requeue" | "error";
    try {
      const result = await this.opts.handler(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) {
        outcome = "requeue";
        this.addAfter(key, result.requeueAfterMs);
      } else {
        outcome = "success";
      }
    } catch (err) {
      outcome = "error";
      const delay = this.shuttingDown ? 0 : this.addRateLimited(key);
      this.opts.onError?.(key, err, delay);
    }
    this.opts.onDone?.(key, outcome, (performance.now() - started) / 1000);
    this.processing.delete(key);
    if (this.dirty.delete(key) && !this.shuttingDown) this.queue.add(key);
    this.pump();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.processing.size > 0 || this.queue.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
