// Timers by key, as the group coordinator needs them: a member's session deadline, a
// group's join and sync deadlines. Scheduling a key again replaces its deadline, so a
// heartbeat simply reschedules the member's key. The clock is injectable so the state
// machine's timeouts can be tested in virtual time (testing.ts has a manual clock).

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's setTimeout caps delays at 2^31-1 ms; larger ones would fire at once. */
const MAX_DELAY_MS = 2147483647;

/** Real time. Timers are unref'd: a pending session deadline never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

export class KeyedTimer {
  private readonly clock: Clock;
  private readonly handles = new Map<string, unknown>();
  /** A timer that throws is reported here; an exception must not escape into the event loop. */
  private readonly onError: (key: string, err: unknown) => void;

  constructor(clock: Clock, onError: (key: string, err: unknown) => void) {
    this.clock = clock;
    this.onError = onError;
  }

  /** Runs fn after delayMs unless the key is rescheduled or cancelled first. */
  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, Number.isFinite(delayMs) ? delayMs : 0));
    const handle = this.clock.setTimeout(() => {
      if (this.handles.get(key) !== handle) return;
      this.handles.delete(key);
      try {
        fn();
      } catch (err) {
        this.onError(key, err);
      }
    }, delay);
    this.handles.set(key, handle);
  }

  cancel(key: string): void {
    const h = this.handles.get(key);
    if (h === undefined) return;
    this.clock.clearTimeout(h);
    this.handles.delete(key);
  }

  has(key: string): boolean {
    return this.handles.has(key);
  }

  /** Cancels every key starting with prefix (all of a partition's timers on unload). */
  cancelPrefix(prefix: string): void {
    for (const key of [...this.handles.keys()]) if (key.startsWith(prefix)) this.cancel(key);
  }
}
