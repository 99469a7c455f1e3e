// A steady producer (test/interop/py/stream_producer.py, confluent-kafka) that keeps producing
// while a test restarts or crashes the broker, and the check that every acknowledged record is
// afterwards found exactly at its acknowledged offset. Not a test file.
import path from "node:path";
import { Background, HERE, kcatConsume, PYTHON } from "./helpers.ts";

export interface Ack {
  seq: number;
  partition: number;
  offset: number;
}

export interface StreamSummary {
  produced: number;
  acked: number;
  failed: number;
  /** Records still queued when the final flush gave up. */
  left: number;
  acks: Ack[];
  errors: string[];
  output: string;
}

export class StreamProducer {
  readonly topic: string;
  private readonly bg: Background;
  private parsed = 0;
  private readonly ackList: Ack[] = [];
  private readonly errorList: string[] = [];

  constructor(opts: {
    bootstrap: string;
    topic: string;
    acks: "all" | "1";
    partition?: number;
    rate?: number;
    config?: Record<string, string | number>;
  }) {
    this.topic = opts.topic;
    this.bg = new Background(PYTHON, [path.join(HERE, "py", "stream_producer.py"), JSON.stringify(opts)], {
      timeoutMs: 240_000,
    });
  }

  private parse(): void {
    const out = this.bg.stdout;
    let nl: number;
    while ((nl = out.indexOf("\n", this.parsed)) >= 0) {
      const line = out.slice(this.parsed, nl);
      this.parsed = nl + 1;
      const [kind, ...rest] = line.split(" ");
      if (kind === "ACK") {
        const [seq, partition, offset] = rest.map(Number);
        this.ackList.push({ seq, partition, offset });
      } else if (kind === "ERR") {
        this.errorList.push(line);
      }
    }
  }

  get acked(): number {
    this.parse();
    return this.ackList.length;
  }

  get errors(): string[] {
    this.parse();
    return this.errorList;
  }

  /** Waits until at least n records have been acknowledged in total. */
  async waitForAcks(n: number, timeoutMs: number): Promise<void> {
    await this.bg.waitFor(
      () => {
        this.parse();
        return this.ackList.length >= n;
      },
      timeoutMs,
      `${this.topic}: ${n} acknowledged records (have ${this.ackList.length})`,
    );
  }

  /** Stops producing, waits for the final flush and returns what happened. */
  async finish(timeoutMs = 150_000): Promise<StreamSummary> {
    this.bg.endInput();
    await this.bg.waitFor((out) => /^DONE /m.test(out), timeoutMs, `${this.topic}: final flush`);
    const r = await this.bg.done;
    this.parse();
    const done = /^DONE (\d+) (\d+) (\d+) (\d+)$/m.exec(r.stdout)!;
    const [produced, acked, failed, left] = done.slice(1).map(Number);
    return {
      produced,
      acked,
      failed,
      left,
      acks: [...this.ackList],
      errors: [...this.errorList],
      output: this.bg.describe(),
    };
  }

  kill(): Promise<unknown> {
    return this.bg.kill();
  }
}

export interface AckCheck {
  /** Acknowledged records missing, or something else at their offset. */
  problems: string[];
  /** Records read back in all. */
  consumed: number;
  /** Records read back that were not acknowledged at that offset (retried duplicates etc.). */
  unacknowledged: number;
}

/** Reads the whole topic back (kcat, no group) and checks each ack against it. */
export async function checkAcked(bootstrap: string, topic: string, acks: Ack[]): Promise<AckCheck> {
  const records = await kcatConsume(bootstrap, topic, { timeoutMs: 60_000 });
  const at = new Map<string, string | null>();
  for (const r of records) at.set(`${r.partition}@${r.offset}`, r.payload);
  const problems: string[] = [];
  const ackedAt = new Set<string>();
  for (const a of acks) {
    const where = `${a.partition}@${a.offset}`;
    ackedAt.add(where);
    const payload = at.get(where);
    const want = `${topic}:${a.seq}:`;
    if (payload === undefined) problems.push(`seq ${a.seq} acknowledged at ${where}: no record there`);
    else if (!payload?.startsWith(want)) {
      problems.push(`seq ${a.seq} acknowledged at ${where}: found ${JSON.stringify(payload?.slice(0, 40))}`);
    }
  }
  return {
    problems,
    consumed: records.length,
    unacknowledged: records.filter((r) => !ackedAt.has(`${r.partition}@${r.offset}`)).length,
  };
}
