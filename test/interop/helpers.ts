// Shared helpers of the interop, crash and fuzz suites: running real clients as child
// processes with time limits, kcat and Python (kafka-python, confluent-kafka) wrappers,
// unique names. Not a test file.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "..", "..");
/** Debian's python3: python3-kafka and python3-confluent-kafka live there. */
export const PYTHON = "/usr/bin/python3";

/**
 * Whether Capstan serves consumer groups yet (the group coordinator). Cases that need one
 * run against Kafka always, and against Capstan once this is true.
 */
export const CAPSTAN_GROUPS_ENABLED = true;

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs a command to completion (SIGKILL after timeoutMs, default 60 s); never rejects. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const command = [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin.on("error", () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      stderr += `\n(spawn failed: ${err.message})`;
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ command, code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** A readable account of a finished command, for assertion messages. */
export function explain(r: RunResult): string {
  const how = r.timedOut
    ? `timed out after ${r.ms} ms`
    : `exited with ${r.code ?? r.signal} after ${r.ms} ms`;
  return `$ ${r.command}\n(${how})\n--- stdout ---\n${clip(r.stdout)}\n--- stderr ---\n${clip(r.stderr)}`;
}

function clip(s: string, max = 6000): string {
  return s.length <= max
    ? s
    : `${s.slice(0, max / 2)}\n... (${s.length - max} chars) ...\n${s.slice(-max / 2)}`;
}

/** Like run(), but throws (with the command's output) unless it exits 0. */
export async function mustRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`command failed\n${explain(r)}`);
  return r;
}

/** A long-running child whose output lines can be awaited. */
export class Background {
  readonly child: ReturnType<typeof spawn>;
  readonly command: string;
  stdout = "";
  stderr = "";
  readonly done: Promise<RunResult>;
  private waiters: (() => void)[] = [];
  private readonly started = Date.now();

  constructor(
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
  ) {
    this.command = [cmd, ...args].join(" ");
    this.child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdin!.on("error", () => {});
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      this.stdout += d;
      this.wake();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d;
      this.wake();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.child.kill("SIGKILL");
    }, opts.timeoutMs ?? 120_000);
    const killOnExit = () => this.child.kill("SIGKILL");
    process.on("exit", killOnExit);
    this.done = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        clearTimeout(timer);
        process.off("exit", killOnExit);
        this.wake();
        resolve({
          command: this.command,
          code,
          signal,
          stdout: this.stdout,
          stderr: this.stderr,
          ms: Date.now() - this.started,
          timedOut,
        });
      });
    });
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Resolves once pred(stdout, stderr) holds; rejects on exit or after timeoutMs. */
  async waitFor(
    pred: (stdout: string, stderr: string) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.stdout, this.stderr)) {
      if (this.exited) throw new Error(`${what}: the process exited first\n${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${timeoutMs} ms\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  describe(): string {
    return `$ ${this.command}\n--- stdout ---\n${clip(this.stdout)}\n--- stderr ---\n${clip(this.stderr)}`;
  }

  /** Closes stdin (the stream scripts take that as "finish up"). */
  endInput(): void {
    this.child.stdin!.end();
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<RunResult> {
    if (!this.exited) this.child.kill(signal);
    return this.done;
  }
}

/** A topic/group name no other case uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls fn until it returns a truthy value; throws with the last error after timeoutMs. */
export async function waitUntil<T>(fn: () => Promise<T> | T, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ""}`);
}

export function haveCommand(cmd: string, args: string[] = ["--version"]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return r.error === undefined;
}

export function havePython(module: string): boolean {
  return spawnSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;
}

// ---------------------------------------------------------------------------------- kcat

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers?: string[];
  key: string | null;
  payload: string | null;
}

/** kcat -b BOOTSTRAP ...args, with a time limit. */
export function kcat(bootstrap: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run("kcat", ["-b", bootstrap, ...args], { timeoutMs: 30_000, ...opts });
}

/** Produces lines with kcat -P (extra flags in args, e.g. -K : -p 0 -z gzip). */
export async function kcatProduce(
  bootstrap: string,
  topic: string,
  lines: string[],
  args: string[] = [],
): Promise<RunResult> {
  const r = await kcat(bootstrap, ["-P", "-t", topic, "-X", "acks=all", ...args], {
    input: lines.map((l) => l + "\n").join(""),
  });
  if (r.code !== 0 || /ERROR|failed/i.test(r.stderr)) throw new Error(`kcat -P failed\n${explain(r)}`);
  return r;
}

/**
 * Consumes with kcat -C -J until the end of every partition (-e) unless count is given,
 * without a consumer group. offset: beginning, end, stored, a number, -N, s@ts.
 */
export async function kcatConsume(
  bootstrap: string,
  topic: string,
  opts: { partition?: number; offset?: string; count?: number; args?: string[]; timeoutMs?: number } = {},
): Promise<KcatRecord[]> {
  const args = ["-C", "-J", "-t", topic, "-o", opts.offset ?? "beginning"];
  if (opts.partition !== undefined) args.push("-p", String(opts.partition));
  if (opts.count !== undefined) args.push("-c", String(opts.count));
  else args.push("-e");
  args.push(...(opts.args ?? []));
  const r = await kcat(bootstrap, args, { timeoutMs: opts.timeoutMs ?? 30_000 });
  if (r.code !== 0 || /% ERROR/.test(r.stderr)) throw new Error(`kcat -C failed\n${explain(r)}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as KcatRecord);
}

// -------------------------------------------------------------------------------- python

export type PyClient = "kafka-python" | "confluent-kafka";

const PY_SCRIPTS: Record<PyClient, string> = {
  "kafka-python": path.join(HERE, "py", "kafka_python_ops.py"),
  "confluent-kafka": path.join(HERE, "py", "confluent_kafka_ops.py"),
};

/**
 * Runs one operation of test/interop/py/<client>_ops.py: `python3 script OP JSON` prints one
 * JSON document (the result) as its last stdout line. Throws with the output on failure.
 */
export async function py<T = unknown>(
  client: PyClient,
  op: string,
  args: Record<string, unknown>,
  timeoutMs = 60_000,
): Promise<T> {
  const r = await run(PYTHON, [PY_SCRIPTS[client], op, JSON.stringify(args)], { timeoutMs });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0 || !last.startsWith("{")) throw new Error(`${client} ${op} failed\n${explain(r)}`);
  return (JSON.parse(last) as { result: T }).result;
}
