// Test support for the group coordinator: a clock that moves only when told, and an
// in-memory __consumer_offsets that keeps appended batches as the real log would, so
// tests can restart a coordinator over the same records. Not used by the broker.
import type { Clock } from "./timer.ts";
import type { OffsetsLog } from "./offsets-log.ts";

interface Pending {
  due: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { due: this.time + ms, seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves time forward, firing due timers in deadline order (timers they set fire too if due). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      let nextId = 0;
      for (const [id, p] of this.pending) {
        if (p.due <= target && (!next || p.due < next.due || (p.due === next.due && p.seq < next.seq))) {
          next = p;
          nextId = id;
        }
      }
      if (!next) break;
      this.pending.delete(nextId);
      this.time = Math.max(this.time, next.due);
      next.fn();
    }
    this.time = target;
  }
}

/** __consumer_offsets partitions as lists of batches; `failAppends` makes appends fail like a lost leadership. */
export class MemoryOffsetsLog implements OffsetsLog {
  readonly partitions = new Map<number, Buffer[]>();
  failAppends: Error | null = null;
  numPartitions: number;

  constructor(numPartitions: number) {
    this.numPartitions = numPartitions;
  }

  async append(partition: number, batch: Buffer): Promise<void> {
    await Promise.resolve();
    if (this.failAppends) throw this.failAppends;
    const list = this.partitions.get(partition) ?? [];
    list.push(batch);
    this.partitions.set(partition, list);
  }

  async *batches(partition: number): AsyncGenerator<Buffer> {
    for (const b of this.partitions.get(partition) ?? []) yield b;
  }
}
