// acks=all produce requests parked until the high watermark covers what they
// appended (Kafka's DelayedProduce): answered when every in-sync replica has the
// records, with NOT_ENOUGH_REPLICAS_AFTER_APPEND if by then the ISR is smaller than
// min.insync.replicas, REQUEST_TIMED_OUT if that takes longer than the request's
// timeout, and NOT_LEADER_OR_FOLLOWER if this broker stops leading meanwhile.
import { KafkaError } from "../errors.ts";

interface Waiter {
  /** Resolved once the high watermark is at least this (the offset after the last appended record). */
  offset: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class HighWatermarkWaiters {
  private waiters: Waiter[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** Waits until `advance` reports a high watermark >= `offset`, then runs `check` (which may throw). */
  wait(offset: number, timeoutMs: number, check: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        offset,
        resolve: () => {
          try {
            check();
            resolve();
          } catch (e) {
            reject(e as Error);
          }
        },
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(
            new KafkaError(
              "REQUEST_TIMED_OUT",
              `The in-sync replicas did not all acknowledge offset ${offset - 1} within ${timeoutMs} ms.`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  advance(highWatermark: number): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (highWatermark >= w.offset) {
        clearTimeout(w.timer);
        w.resolve();
      } else still.push(w);
    }
    this.waiters = still;
  }

  failAll(err: Error): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}
