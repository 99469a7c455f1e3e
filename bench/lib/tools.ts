// The clients every scenario drives, identical for both brokers: Apache Kafka's perf tools
// from the kafka-tools jar (with kafka-producer-perf-test.sh's 512 MiB heap), kcat
// (librdkafka), and a few lines of confluent-kafka-python (librdkafka) for topic creation,
// start-up and failover probes. Also the VmRSS sampler.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { DEFAULT_KAFKA_VERSION, kafkaClasspath } from "../../test/setup/kafka.ts";
import { parseVmRssKiB } from "./parse.ts";

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  seconds: number;
}

/** Runs a command (stdin from a file, or a string), collecting output and wall time. */
export function run(
  cmd: string,
  args: string[],
  opts: { stdinFile?: string; input?: string; timeoutMs?: number } = {},
): Promise<Exec> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const [c, a] = opts.stdinFile
      ? ["sh", ["-c", 'f="$1"; shift; exec "$@" < "$f"', "sh", opts.stdinFile, cmd, ...args]]
      : [cmd, args];
    const child = spawn(c, a, { stdio: [opts.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs ?? 600_000} ms)`;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 600_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

/** Runs a kafka-tools main class (org.apache.kafka.tools.X); throws on a non-zero exit. */
export async function kafkaTool(mainClass: string, args: string[], timeoutMs = 600_000): Promise<string> {
  const r = await run(
    "java",
    [
      "-Xmx512M",
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      "-Djava.net.preferIPv4Stack=true",
      "-Dlog4j2.rootLogger.level=WARN",
      "-cp",
      kafkaClasspath(DEFAULT_KAFKA_VERSION),
      `org.apache.kafka.tools.${mainClass}`,
      ...args,
    ],
    { timeoutMs },
  );
  if (r.code !== 0) throw new Error(`${mainClass} exited ${r.code}: ${(r.stderr || r.stdout).slice(-1500)}`);
  return r.stdout;
}

const PYTHON = "/usr/bin/python3";

/** Runs a confluent-kafka-python snippet; resolves with its stdout, throws with its stderr. */
export async function python(script: string, args: string[], timeoutMs = 180_000): Promise<string> {
  const r = await run(PYTHON, ["-c", script, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(r.stderr.trim().split("\n").slice(-3).join(" ") || `exit ${r.code}`);
  return r.stdout;
}

const CREATE_TOPIC = `
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
t = NewTopic(sys.argv[2], num_partitions=int(sys.argv[3]), replication_factor=int(sys.argv[4]))
a.create_topics([t], operation_timeout=60)[sys.argv[2]].result(60)
`;

/** CreateTopics through librdkafka's admin client; throws the broker's error. */
export async function createTopic(bootstrap: string, topic: string, partitions = 1, rf = 1): Promise<void> {
  await python(CREATE_TOPIC, [bootstrap, topic, String(partitions), String(rf)]);
}

/** A file of `records` lines of exactly `size` printable bytes (kcat -P: one record per line). */
export async function writeRecordsFile(file: string, records: number, size: number): Promise<void> {
  const out = createWriteStream(file);
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const base = Array.from(
    { length: size + alphabet.length },
    (_, i) => alphabet[(i * 7) % alphabet.length],
  ).join("");
  const chunk: string[] = [];
  for (let i = 0; i < records; i++) {
    const start = i % alphabet.length;
    chunk.push((String(i).padStart(9, "0") + base.slice(start, start + size)).slice(0, size));
    if (chunk.length === 2000 || i === records - 1) {
      const ok = out.write(chunk.join("\n") + "\n");
      chunk.length = 0;
      if (!ok) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

/** kcat -P's producer settings: large batches, as a throughput-minded librdkafka producer. */
export function kcatProducerSettings(acks: "1" | "all", idempotent = false): string[] {
  return [
    `acks=${acks}`,
    "linger.ms=5",
    "batch.num.messages=10000",
    "queue.buffering.max.messages=1000000",
    "queue.buffering.max.kbytes=1048576",
    "compression.codec=none",
    ...(idempotent ? ["enable.idempotence=true"] : []),
  ].flatMap((s) => ["-X", s]);
}

/** Produces every line of `file` with kcat; returns the wall time in seconds. */
export async function kcatProduce(
  bootstrap: string,
  topic: string,
  file: string,
  settings: string[],
): Promise<number> {
  const r = await run("kcat", ["-b", bootstrap, "-P", "-t", topic, ...settings], { stdinFile: file });
  // Not every "failed" on stderr: librdkafka logs retried conditions too (e.g. "Failed to
  // acquire idempotence PID ... retrying" while a coordinator loads).
  if (r.code !== 0 || /Delivery failed|% ERROR/.test(r.stderr)) {
    throw new Error(`kcat produce failed (exit ${r.code}): ${r.stderr.slice(-1500)}`);
  }
  return r.seconds;
}

/** Consumes `records` records from the beginning with kcat (no group); returns the wall time. */
export async function kcatConsume(bootstrap: string, topic: string, records: number): Promise<number> {
  const r = await run("kcat", [
    ...["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", String(records), "-e", "-q"],
    ...["-f", "%o\\n", "-X", "fetch.wait.max.ms=100"],
  ]);
  const got = r.stdout.split("\n").filter((l) => l !== "").length;
  if (r.code !== 0 || got !== records) {
    throw new Error(`kcat consume: ${got} of ${records} records (exit ${r.code}): ${r.stderr.slice(-1500)}`);
  }
  return r.seconds;
}

/** Samples /proc/<pid>/status VmRSS every intervalMs; stop() returns the peak in KiB. */
export function sampleRss(pid: () => number, intervalMs = 100): { stop(): Promise<number> } {
  let peak = 0;
  let done = false;
  const loop = (async () => {
    while (!done) {
      try {
        const kib = parseVmRssKiB(await readFile(`/proc/${pid()}/status`, "utf8"));
        if (kib !== undefined && kib > peak) peak = kib;
      } catch {
        // The process is gone; keep the peak seen so far.
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      done = true;
      await loop;
      return peak;
    },
  };
}
