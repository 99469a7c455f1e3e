// Runs one broker as a child process the way a StatefulSet pod would (the same
// `capstan broker` command and layered config files), keeps its output in a log file,
// and restarts it when it dies unexpectedly, saying why.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import type { Logger } from "../../lib/logger.ts";

const CAPSTAN_BIN = new URL("../../bin/capstan.ts", import.meta.url).pathname;
/** Lines of a dead broker's output shown when explaining why it stopped. */
const TAIL_LINES = 8;

export interface BrokerProcessOptions {
  id: number;
  dir: string;
  configFiles: string[];
  overrides: string[];
  clientPort: number;
  log: Logger;
  /** Called after each (re)start once the broker accepts connections. */
  onReady?: (id: number) => void;
}

export class BrokerProcess {
  private readonly opts: BrokerProcessOptions;
  private child?: ChildProcess;
  private out?: WriteStream;
  private stopping = false;
  private restarts = 0;
  private readonly tail: string[] = [];
  private exited?: Promise<void>;

  constructor(opts: BrokerProcessOptions) {
    this.opts = opts;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get logFile(): string {
    return join(this.opts.dir, "broker.log");
  }

  start(): void {
    const o = this.opts;
    this.out ??= createWriteStream(this.logFile, { flags: "a" });
    const args = [CAPSTAN_BIN, "broker", ...o.configFiles.flatMap((f) => ["--config", f])];
    for (const ov of o.overrides) args.push("--override", ov);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    this.child = child;
    const onData = (chunk: Buffer): void => {
      this.out?.write(chunk);
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        resolve();
        if (this.stopping) return;
        const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.restarts++;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(this.restarts - 1, 6));
        o.log.warn(`broker ${o.id} ${why}; restarting in ${delay} ms`, {
          restarts: this.restarts,
          lastOutput: this.tail.slice(-3).join(" | "),
          log: this.logFile,
        });
        setTimeout(() => {
          if (!this.stopping) this.start();
        }, delay).unref();
      });
    });
    void this.waitReady().then(() => {
      if (!this.stopping && this.child === child) o.onReady?.(o.id);
    });
  }

  /** Resolves once the broker accepts TCP connections on its client port. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopping) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = createConnection({ host: "127.0.0.1", port: this.opts.clientPort }, () => {
          s.destroy();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!this.stopping) {
      throw new Error(
        `broker ${this.opts.id} did not start listening on port ${this.opts.clientPort}: ${this.tail.join(" | ")}`,
      );
    }
  }

  /** The broker's last lines of output (for error messages). */
  lastOutput(): string[] {
    return [...this.tail];
  }

  /** SIGTERM, then SIGKILL if it has not exited in time. */
  /** From now on an exit is expected: the broker is not restarted (the cluster is stopping). */
  keepDown(): void {
    this.stopping = true;
  }

  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.out ? this.out.end(resolve) : resolve()));
  }
}
