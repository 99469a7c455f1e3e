// A real Prometheus (Debian's `prometheus` package) for the lag tests: started on a free
// loopback port with a temporary config and TSDB directory, scraping the given targets
// every second, queried through its HTTP API. Not a test file.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "../setup/kafka.ts";

const CANDIDATES = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"];

/** The prometheus binary, or null when it is not installed (apt-get install prometheus). */
export function prometheusBinary(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** promtool (same Debian package), or null. */
export function promtoolBinary(): string | null {
  const r = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "promtool" : null;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  url: string;
  port: number;
  /** An instant query; `time` in ms since the epoch (default now). Throws on API errors. */
  query(expr: string, time?: number): Promise<Sample[]>;
  /** Polls `expr` until `ok` accepts its result; throws with the last result after timeoutMs. */
  waitFor(
    expr: string,
    ok: (samples: Sample[]) => boolean,
    timeoutMs: number,
    what?: string,
  ): Promise<Sample[]>;
  /** The server's own output so far (for assertion messages). */
  logs(): string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port targets scraped at /metrics. */
  targets: string[];
  /** Scrape and rule evaluation interval in seconds; default 1. */
  intervalSeconds?: number;
  /** Rule files to load (absolute paths). */
  ruleFiles?: string[];
}

/** Prometheus writes +Inf, -Inf and NaN, which Number() does not read. */
function parseValue(v: string): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  return Number(v);
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const binary = prometheusBinary();
  if (!binary) throw new Error("prometheus is not installed (apt-get install prometheus)");
  const dir = await mkdtemp(path.join(os.tmpdir(), "capstan-prometheus-"));
  const port = await freePort();
  const interval = `${opts.intervalSeconds ?? 1}s`;
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(opts.ruleFiles?.length
      ? ["rule_files:", ...opts.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)]
      : []),
    "scrape_configs:",
    "  - job_name: capstan-lag",
    // The exporter's cluster and namespace labels win over target labels, as with a
    // ServiceMonitor's honorLabels: true.
    "    honor_labels: true",
    "    static_configs:",
    `      - targets: [${opts.targets.map((t) => JSON.stringify(t)).join(", ")}]`,
    "",
  ].join("\n");
  const configFile = path.join(dir, "prometheus.yml");
  await writeFile(configFile, config);
  let output = "";
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=1h",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.off("exit", killOnExit);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  while (true) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited during startup (${child.exitCode}):\n${output}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready in 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const query = async (expr: string, time: number = Date.now()): Promise<Sample[]> => {
    const params = new URLSearchParams({ query: expr, time: String(time / 1000) });
    const r = await fetch(`${url}/api/v1/query?${params}`);
    const body = (await r.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== "success" || !body.data)
      throw new Error(`query ${expr} failed: ${body.error ?? r.status}`);
    const { resultType, result } = body.data;
    if (resultType === "scalar") {
      const [, v] = result as [number, string];
      return [{ metric: {}, value: parseValue(v) }];
    }
    if (resultType !== "vector") throw new Error(`query ${expr}: unexpected result type ${resultType}`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
      metric: s.metric,
      value: parseValue(s.value[1]),
    }));
  };

  // Targets are handed to the scrape manager only after service discovery's first update
  // (about 5 s): wait for every target's first scrape, so rate() windows have data.
  const scraped = async () => (await query("up")).length === opts.targets.length;
  while (!(await scraped().catch(() => false))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not scrape ${opts.targets.join(", ")} in 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    port,
    query,
    async waitFor(expr, ok, timeoutMs, what) {
      const end = Date.now() + timeoutMs;
      let last: Sample[] = [];
      let lastError: unknown;
      while (Date.now() < end) {
        try {
          last = await query(expr);
          if (ok(last)) return last;
        } catch (err) {
          lastError = err;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what ?? expr}: last result ${JSON.stringify(last)}` +
          (lastError ? ` (last error: ${String(lastError)})` : ""),
      );
    },
    logs: () => output,
    stop,
  };
}
