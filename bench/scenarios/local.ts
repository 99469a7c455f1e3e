// Scenario 7, local mode (Capstan only): `capstan local` runs a one-broker KafkaCluster from a
// directory of manifests; the figure is the time from writing a new KafkaTopic file into that
// directory until <data-dir>/status.json reports it Ready. It includes local mode's 300 ms
// debounce of file-system events. Apache Kafka has no operator or local mode: n/a.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { node24 } from "../../test/setup/capstan.ts";
import { freePort } from "../../test/setup/kafka.ts";
import type { BenchContext, Scenario } from "../lib/scenario.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const CLUSTER = `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaCluster
metadata:
  name: bench
spec:
  replicas: 1
`;

const topicManifest = (i: number) => `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaTopic
metadata:
  name: bench-topic-${i}
  labels:
    kafka.capstan.dev/cluster: bench
spec:
  topicName: bench-topic-${i}
  partitions: 3
`;

interface Status {
  topics?: { resource: string; ready: boolean }[];
}

function readStatus(file: string): Status | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Status;
  } catch {
    return undefined; // not written yet, or caught mid-write
  }
}

/** A port base whose client (+0), controller (+100) and metrics (+300) ports are free. */
async function portBase(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p > 60_000) continue;
    const probes = await Promise.all(
      [p, p + 100, p + 300].map(
        (q) =>
          new Promise<boolean>((resolve) => {
            import("node:net").then(({ createServer }) => {
              const s = createServer();
              s.once("error", () => resolve(false));
              s.listen(q, "127.0.0.1", () => s.close(() => resolve(true)));
            });
          }),
      ),
    );
    if (probes.every(Boolean)) return p;
  }
}

async function until<T>(what: string, timeoutMs: number, f: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const local: Scenario = {
  name: "local",
  title: "7. local mode: KafkaTopic to Ready",
  metrics: [
    {
      id: "topic-ready-ms",
      label: "7. KafkaTopic file added until Ready",
      unit: "ms",
      client: "capstan local",
      better: "lower",
    },
  ],
  notFor: { kafka: "Apache Kafka has no operator or local mode" },
  async run(_broker, ctx: BenchContext) {
    const out: Record<string, number[]> = { "topic-ready-ms": [] };
    const manifests = path.join(ctx.tmp, "local", "manifests");
    const data = path.join(ctx.tmp, "local", "data");
    await mkdir(manifests, { recursive: true });
    await writeFile(path.join(manifests, "cluster.yaml"), CLUSTER);
    const base = await portBase();
    let output = "";
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(
      node24(),
      [path.join(ROOT, "bin", "capstan.ts"), "local", "-m", manifests, "-d", data, "-p", String(base)],
      { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const statusFile = path.join(data, "status.json");
    try {
      await until("local mode to write status.json", 120_000, () => {
        if (child.exitCode !== null)
          throw new Error(`capstan local exited ${child.exitCode}: ${output.slice(-1500)}`);
        return existsSync(statusFile) ? true : undefined;
      });
      for (let i = 0; i <= ctx.repeat; i++) {
        const started = Date.now();
        await writeFile(path.join(manifests, `topic-${i}.yaml`), topicManifest(i));
        await until(`KafkaTopic bench-topic-${i} Ready`, 60_000, () =>
          readStatus(statusFile)?.topics?.find((t) => t.resource === `bench-topic-${i}` && t.ready)
            ? true
            : undefined,
        );
        const ms = Date.now() - started;
        if (i === 0) continue; // warm-up
        out["topic-ready-ms"].push(ms);
        ctx.log(`run ${i}: Ready after ${ms} ms`);
      }
    } finally {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await new Promise((r) => child.once("close", r));
      clearTimeout(timer);
    }
    return out;
  },
};
