// Starts the Capstan broker (`capstan broker`, bin/capstan.ts) as a child process for the
// interop, crash and fuzz suites, and `startTarget()`: the same interface over either Capstan
// or a real Apache Kafka (test/setup/kafka.ts), chosen by CAPSTAN_TEST_TARGET=capstan|kafka
// (default capstan), so every suite runs unchanged against both.
//
//   const broker = await startTarget({ overrides: { "num.partitions": "3" } });
//   ... broker.bootstrap is "127.0.0.1:<port>" ...
//   await broker.kill(); await broker.restart();   // crash and come back on the same port/data
//   await broker.close();                          // stop and remove the temp data dir
//
// CAPSTAN_TEST_KEEP=1 keeps the temp directories for a post-mortem; CAPSTAN_TEST_LOG_DIR=<dir>
// (an existing directory) also writes each Capstan broker's output to <dir>/capstan-<port>.log.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, probeMetadata, startKafka, type MetadataProbe } from "./kafka.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export type Target = "capstan" | "kafka";

/** The broker the suites run against: CAPSTAN_TEST_TARGET=capstan|kafka, default capstan. */
export function testTarget(): Target {
  const t = (process.env.CAPSTAN_TEST_TARGET ?? "capstan").toLowerCase();
  if (t !== "capstan" && t !== "kafka") {
    throw new Error(`CAPSTAN_TEST_TARGET must be capstan or kafka, not ${JSON.stringify(t)}`);
  }
  return t;
}

/** Node 24 (type stripping): this process when it is one, else the repository's own. */
export function node24(): string {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= 24 ? process.execPath : path.join(ROOT, "node_modules", ".bin", "node");
}

export interface TestBroker {
  target: Target;
  /** "127.0.0.1:<port>" */
  bootstrap: string;
  host: string;
  port: number;
  /** The log.dirs directory (partition directories live right under it). */
  dataDir: string;
  /** Pid of the current process (changes on restart()). */
  readonly pid: number;
  /** Everything the broker printed so far, across restarts. */
  logs(): string;
  /** Whether the broker process is running. */
  alive(): boolean;
  /** SIGTERM and wait for the exit; throws (with the logs) if it takes over 10 s or exits non-zero. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Starts again on the same port and data dir (stopping it first if running); waits until ready. */
  restart(): Promise<void>;
  /**
   * Stops it (SIGTERM) and removes temp directories; safe to call twice. Throws, with the
   * broker's output, if the broker had crashed meanwhile or does not shut down cleanly.
   */
  close(): Promise<void>;
}

export interface CapstanOptions {
  /** Extra or overriding broker properties (Kafka names), passed as --override key=value. */
  overrides?: Record<string, string>;
  /** log.dirs; default a fresh temp dir (removed by close()). */
  dataDir?: string;
  /** Listener port on 127.0.0.1; default a free port. */
  port?: number;
  /** Extra environment for the broker process. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for the broker to serve Metadata; default 30 s. */
  startTimeoutMs?: number;
  /** Milliseconds stop() waits after SIGTERM; default 10 s. */
  stopTimeoutMs?: number;
  /** When the broker counts as ready; default: its Metadata lists some broker. */
  ready?: (md: MetadataProbe) => boolean;
}

const keep = () => process.env.CAPSTAN_TEST_KEEP === "1";

/** Starts `capstan broker` and resolves once it answers Metadata with itself as a broker. */
export async function startCapstan(opts: CapstanOptions = {}): Promise<TestBroker> {
  const host = "127.0.0.1";
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "capstan-test-")));
  const overrides: Record<string, string> = {
    "node.id": "1",
    listeners: `PLAINTEXT://${host}:${port}`,
    "log.dirs": dataDir,
    ...opts.overrides,
  };
  const args = [
    path.join(ROOT, "bin", "capstan.ts"),
    "broker",
    ...Object.entries(overrides).flatMap(([k, v]) => ["--override", `${k}=${v}`]),
  ];
  const output: string[] = [];
  let child!: ChildProcess;
  let exited!: Promise<void>;
  let launches = 0;
  /** Set when this harness signals the process, so an exit without it is a crash. */
  let signalled = false;
  let unexpectedExit: string | undefined;
  const running = () => child.exitCode === null && child.signalCode === null;
  const killOnExit = () => {
    if (running()) child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);
  const logs = () => output.join("");

  const launch = () => {
    launches++;
    signalled = false;
    if (launches > 1) output.push(`\n=== restart #${launches - 1} at ${new Date().toISOString()} ===\n`);
    // Not NODE_TEST_CONTEXT: the broker is a program of its own, not part of a test run.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    child = spawn(node24(), args, {
      cwd: ROOT,
      env: { ...env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const mirror = process.env.CAPSTAN_TEST_LOG_DIR
      ? createWriteStream(path.join(process.env.CAPSTAN_TEST_LOG_DIR, `capstan-${port}.log`), { flags: "a" })
      : undefined;
    const onOutput = (d: string) => {
      output.push(d);
      mirror?.write(d);
    };
    child.stdout!.setEncoding("utf8").on("data", onOutput);
    child.stderr!.setEncoding("utf8").on("data", onOutput);
    child.once("close", () => mirror?.end());
    const c = child;
    // "close" rather than "exit": the output pipes are drained by then.
    exited = new Promise<void>((resolve) =>
      c.once("close", (code, signal) => {
        if (!signalled && launches > 0 && !unexpectedExit) {
          unexpectedExit = `exited by itself at ${new Date().toISOString()} (exit code ${code}, signal ${signal})`;
        }
        resolve();
      }),
    );
  };

  const describeExit = () => `exit code ${child.exitCode}, signal ${child.signalCode}`;
  const failure = (what: string) =>
    new Error(`Capstan broker on ${host}:${port} ${what}\n--- broker output ---\n${logs()}--- end ---`);

  const waitReady = async () => {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    let lastError: unknown;
    while (true) {
      if (!running()) {
        await exited;
        throw failure(`exited during startup (${describeExit()}); command: node ${args.join(" ")}`);
      }
      if (Date.now() > deadline) {
        signalled = true;
        child.kill("SIGKILL");
        await exited;
        throw failure(
          `did not serve Metadata within ${opts.startTimeoutMs ?? 30_000} ms (${String(lastError)})`,
        );
      }
      try {
        const md = await probeMetadata(host, port, 2000);
        if (opts.ready ? opts.ready(md) : md.brokers.length > 0) return;
        lastError = new Error(`Metadata is not ready yet: ${JSON.stringify(md)}`);
      } catch (err) {
        lastError = err;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const stop = async () => {
    if (!running()) return;
    const limit = opts.stopTimeoutMs ?? 10_000;
    signalled = true;
    child.kill("SIGTERM");
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limit);
    await exited;
    clearTimeout(timer);
    if (timedOut) throw failure(`did not exit within ${limit} ms of SIGTERM (killed)`);
    if (child.exitCode !== 0) throw failure(`did not exit cleanly on SIGTERM (${describeExit()})`);
  };

  const kill = async () => {
    if (!running()) return;
    signalled = true;
    child.kill("SIGKILL");
    await exited;
  };

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // A crash during the suite, or an unclean shutdown now, fails the suite's after() hook
    // with the broker's output, after cleaning up.
    const crashed = unexpectedExit;
    try {
      await stop();
    } finally {
      process.off("exit", killOnExit);
      if (ownDir && !keep()) await rm(dataDir, { recursive: true, force: true });
    }
    if (crashed) throw failure(crashed);
  };

  launch();
  try {
    await waitReady();
  } catch (err) {
    signalled = true;
    process.off("exit", killOnExit);
    if (ownDir && !keep()) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    target: "capstan",
    bootstrap: `${host}:${port}`,
    host,
    port,
    dataDir,
    get pid() {
      return child.pid!;
    },
    logs,
    alive: running,
    stop,
    kill,
    restart: async () => {
      if (closed) throw new Error("restart() after close()");
      if (unexpectedExit) throw failure(`restart(): the broker had ${unexpectedExit}`);
      await stop();
      launch();
      await waitReady();
    },
    close,
  };
}

export interface TargetOptions {
  /** Broker properties (Kafka names): --override for Capstan, server.properties for Kafka. */
  overrides?: Record<string, string>;
  port?: number;
  /** Capstan only: log.dirs (Kafka always uses a fresh temp dir). */
  dataDir?: string;
  /** Capstan only: extra environment. */
  env?: NodeJS.ProcessEnv;
}

/** Starts the broker selected by CAPSTAN_TEST_TARGET with the same interface for both. */
export async function startTarget(opts: TargetOptions = {}): Promise<TestBroker> {
  if (testTarget() === "capstan") return startCapstan(opts);
  const kafka = await startKafka({ port: opts.port, config: opts.overrides, keepDir: keep() });
  const logs = () => {
    try {
      return readFileSync(kafka.logFile, "utf8");
    } catch {
      return "(no log)";
    }
  };
  const failure = (what: string) =>
    new Error(`Kafka on ${kafka.bootstrap} ${what}\n--- broker log ---\n${logs()}`);
  return {
    target: "kafka",
    bootstrap: kafka.bootstrap,
    host: kafka.host,
    port: kafka.port,
    dataDir: kafka.dataDir,
    get pid() {
      return kafka.pid;
    },
    logs,
    alive: () => kafka.alive(),
    stop: async () => {
      // Kafka's controlled shutdown of a combined broker+controller takes a few seconds.
      const r = await kafka.halt({ timeoutMs: 30_000 });
      if (r.timedOut) throw failure("did not exit within 30 s of SIGTERM (killed)");
    },
    kill: async () => {
      await kafka.halt({ signal: "SIGKILL" });
    },
    restart: () => kafka.restart(),
    close: () => kafka.stop(),
  };
}
