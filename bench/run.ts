// Throughput benchmark: Capstan against Apache Kafka 4.4.0 on the same machine, one after the
// other, with the same librdkafka-based client (kcat, Debian) and the same fixed workload:
// produce N records of S bytes (acks=1) to a fresh single-partition topic, then consume them
// all from the beginning. Prints a table (payload MiB/s and records/s, Capstan/Kafka ratio) and
// writes bench/results/<timestamp>.json.
//
//   npm run bench                       # Capstan, and Kafka when its jars are cached
//   npm run bench -- --with-kafka       # insist on Kafka (fail if the jars are missing)
//   npm run bench -- --no-kafka         # Capstan only
//   npm run bench -- --no-capstan       # Kafka only
//   npm run bench -- --records 50000 --size 1024 --partitions 1
//
// Not part of npm test. Needs kcat (Debian kcat) and, for Kafka, bash test/setup/install.sh.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startCapstan } from "../test/setup/capstan.ts";
import type { TestBroker } from "../test/setup/capstan.ts";
import { DEFAULT_KAFKA_VERSION, isKafkaInstalled, startKafka } from "../test/setup/kafka.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));

interface Options {
  records: number;
  size: number;
  partitions: number;
  warmup: number;
  repeat: number;
  kafka: "auto" | "yes" | "no";
  capstan: boolean;
}

interface Phase {
  seconds: number;
  records: number;
  bytes: number;
  mibPerSec: number;
  recordsPerSec: number;
}

interface BrokerResult {
  broker: string;
  startSeconds?: number;
  /** Medians over the runs (by time). */
  produce?: Phase;
  consume?: Phase;
  runs?: { produce: Phase; consume: Phase }[];
  error?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    records: 200_000,
    size: 1024,
    partitions: 1,
    warmup: 50_000,
    repeat: 3,
    kafka: "auto",
    capstan: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === "--records") o.records = num();
    else if (a === "--size") o.size = num();
    else if (a === "--partitions") o.partitions = Math.max(1, num());
    else if (a === "--warmup") o.warmup = num();
    else if (a === "--repeat") o.repeat = Math.max(1, num());
    else if (a === "--with-kafka") o.kafka = "yes";
    else if (a === "--no-kafka") o.kafka = "no";
    else if (a === "--no-capstan") o.capstan = false;
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: node bench/run.ts [--records N] [--size BYTES] [--partitions P] [--warmup N] [--repeat R] [--with-kafka|--no-kafka] [--no-capstan]",
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command with stdin from a file; resolves with its output and wall time. */
function runTimed(
  cmd: string,
  args: string[],
  opts: { stdinFile?: string; timeoutMs?: number } = {},
): Promise<Exec> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const argv = opts.stdinFile
      ? ["-c", 'f="$1"; shift; exec "$@" < "$f"', "sh", opts.stdinFile, cmd, ...args]
      : args;
    const child = spawn(opts.stdinFile ? "sh" : cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

/** A file of `records` lines, each `size` bytes of printable payload (kcat -P sends one record per line). */
async function makeInput(file: string, records: number, size: number): Promise<void> {
  const out = createWriteStream(file);
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const base = Array.from(
    { length: size + alphabet.length },
    (_, i) => alphabet[(i * 7) % alphabet.length],
  ).join("");
  const chunk: string[] = [];
  for (let i = 0; i < records; i++) {
    const id = String(i).padStart(9, "0");
    const start = i % alphabet.length;
    chunk.push((id + base.slice(start, start + size)).slice(0, size));
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

function phase(seconds: number, records: number, size: number): Phase {
  return {
    seconds: Number(seconds.toFixed(3)),
    records,
    bytes: records * size,
    mibPerSec: Number(((records * size) / 2 ** 20 / seconds).toFixed(1)),
    recordsPerSec: Math.round(records / seconds),
  };
}

const PRODUCER_SETTINGS = [
  "-X",
  "acks=1",
  "-X",
  "linger.ms=5",
  "-X",
  "batch.num.messages=10000",
  "-X",
  "queue.buffering.max.messages=1000000",
  "-X",
  "queue.buffering.max.kbytes=1048576",
  "-X",
  "compression.codec=none",
];

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const script = `
import sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({"bootstrap.servers": sys.argv[1]})
a.create_topics([NewTopic(sys.argv[2], num_partitions=int(sys.argv[3]), replication_factor=1)])[sys.argv[2]].result(30)
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script, bootstrap, topic, String(partitions)], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    // Fall back on auto-creation (one partition) by producing nothing at all: kcat -L -t creates it.
    const l = spawnSync("kcat", ["-b", bootstrap, "-L", "-t", topic], { encoding: "utf8" });
    if (l.status !== 0) throw new Error(`cannot create ${topic}: ${r.stderr}\n${l.stderr}`);
  }
}

async function workload(
  bootstrap: string,
  opts: Options,
  input: string,
  warmupInput: string | undefined,
): Promise<Pick<BrokerResult, "produce" | "consume" | "runs">> {
  const stamp = Date.now().toString(36);
  if (warmupInput) {
    const w = `bench-warmup-${stamp}`;
    await createTopic(bootstrap, w, opts.partitions);
    const p = await runTimed("kcat", ["-b", bootstrap, "-P", "-t", w, ...PRODUCER_SETTINGS], {
      stdinFile: warmupInput,
    });
    if (p.code !== 0) throw new Error(`warm-up produce failed (${p.code}): ${p.stderr.slice(-2000)}`);
    await runTimed("kcat", ["-b", bootstrap, "-C", "-t", w, "-o", "beginning", "-e", "-q", "-f", "%o\\n"]);
  }
  const runs: { produce: Phase; consume: Phase }[] = [];
  for (let i = 0; i < opts.repeat; i++) {
    const topic = `bench-${stamp}-${i}`;
    await createTopic(bootstrap, topic, opts.partitions);
    const p = await runTimed("kcat", ["-b", bootstrap, "-P", "-t", topic, ...PRODUCER_SETTINGS], {
      stdinFile: input,
      timeoutMs: 600_000,
    });
    if (p.code !== 0 || /ERROR|failed/i.test(p.stderr)) {
      throw new Error(`produce failed (exit ${p.code}): ${p.stderr.slice(-2000)}`);
    }
    const c = await runTimed(
      "kcat",
      [
        ...["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", String(opts.records), "-q"],
        ...["-f", "%o\\n", "-X", "fetch.wait.max.ms=100"],
      ],
      { timeoutMs: 600_000 },
    );
    const consumed = c.stdout.split("\n").filter((l) => l !== "").length;
    if (c.code !== 0 || consumed !== opts.records) {
      throw new Error(
        `consume failed (exit ${c.code}, ${consumed} of ${opts.records} records): ${c.stderr.slice(-2000)}`,
      );
    }
    runs.push({
      produce: phase(p.seconds, opts.records, opts.size),
      consume: phase(c.seconds, opts.records, opts.size),
    });
    console.log(
      `   run ${i + 1}: produce ${runs[i].produce.seconds} s, consume ${runs[i].consume.seconds} s`,
    );
  }
  const median = (xs: Phase[]) => [...xs].sort((a, b) => a.seconds - b.seconds)[Math.floor(xs.length / 2)];
  return {
    produce: median(runs.map((r) => r.produce)),
    consume: median(runs.map((r) => r.consume)),
    runs,
  };
}

async function benchBroker(
  name: string,
  start: () => Promise<{ bootstrap: string; stop: () => Promise<void> }>,
  opts: Options,
  input: string,
  warmupInput: string | undefined,
): Promise<BrokerResult> {
  console.log(`\n== ${name}: starting`);
  const t0 = Date.now();
  let broker: { bootstrap: string; stop: () => Promise<void> } | undefined;
  try {
    broker = await start();
    const startSeconds = (Date.now() - t0) / 1000;
    console.log(
      `== ${name}: up on ${broker.bootstrap} in ${startSeconds.toFixed(1)} s; running the workload`,
    );
    const r = await workload(broker.bootstrap, opts, input, warmupInput);
    console.log(
      `== ${name}: produce ${r.produce!.mibPerSec} MiB/s (${r.produce!.seconds} s), consume ${r.consume!.mibPerSec} MiB/s (${r.consume!.seconds} s)`,
    );
    return { broker: name, startSeconds, ...r };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    console.log(`== ${name}: FAILED: ${msg.slice(0, 4000)}`);
    return { broker: name, error: msg };
  } finally {
    await broker
      ?.stop()
      .catch((err: unknown) => console.log(`== ${name}: stop failed: ${String(err).slice(0, 2000)}`));
  }
}

function table(results: BrokerResult[]): string {
  const head = ["broker", "produce MiB/s", "produce rec/s", "consume MiB/s", "consume rec/s"];
  const rows: string[][] = results.map((r) =>
    r.error
      ? [r.broker, "failed", "", "", ""]
      : [
          r.broker,
          String(r.produce!.mibPerSec),
          String(r.produce!.recordsPerSec),
          String(r.consume!.mibPerSec),
          String(r.consume!.recordsPerSec),
        ],
  );
  const capstan = results.find((r) => r.broker === "capstan" && !r.error);
  const kafka = results.find((r) => r.broker.startsWith("kafka") && !r.error);
  if (capstan && kafka) {
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    rows.push([
      "capstan/kafka",
      ratio(capstan.produce!.mibPerSec, kafka.produce!.mibPerSec),
      ratio(capstan.produce!.recordsPerSec, kafka.produce!.recordsPerSec),
      ratio(capstan.consume!.mibPerSec, kafka.consume!.mibPerSec),
      ratio(capstan.consume!.recordsPerSec, kafka.consume!.recordsPerSec),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (spawnSync("kcat", ["-V"]).status !== 0) throw new Error("kcat is not installed (Debian kcat)");
  const withKafka = opts.kafka === "yes" || (opts.kafka === "auto" && isKafkaInstalled());
  if (opts.kafka === "yes" && !isKafkaInstalled()) {
    throw new Error(`Kafka ${DEFAULT_KAFKA_VERSION} is not cached: run bash test/setup/install.sh`);
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), "capstan-bench-"));
  const input = path.join(tmp, "records.txt");
  const warmupInput = opts.warmup > 0 ? path.join(tmp, "warmup.txt") : undefined;
  const results: BrokerResult[] = [];
  try {
    console.log(
      `workload: ${opts.records} records x ${opts.size} B, acks=1, ${opts.partitions} partition(s), kcat; ` +
        `warm-up ${opts.warmup} records, median of ${opts.repeat} runs`,
    );
    await makeInput(input, opts.records, opts.size);
    if (warmupInput) await makeInput(warmupInput, opts.warmup, opts.size);
    if (opts.capstan) {
      results.push(
        await benchBroker(
          "capstan",
          async () => {
            const b: TestBroker = await startCapstan();
            return { bootstrap: b.bootstrap, stop: () => b.close() };
          },
          opts,
          input,
          warmupInput,
        ),
      );
    }
    if (withKafka) {
      results.push(
        await benchBroker(
          `kafka-${DEFAULT_KAFKA_VERSION}`,
          async () => {
            const k = await startKafka({ heap: "1g", logLevel: "WARN" });
            return { bootstrap: k.bootstrap, stop: () => k.stop() };
          },
          opts,
          input,
          warmupInput,
        ),
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }

  console.log(`\n${table(results)}\n(payload bytes only; MiB = 2^20 bytes)`);
  const kcatVersion = spawnSync("kcat", ["-V"], { encoding: "utf8" }).stdout;
  const report = {
    timestamp: new Date().toISOString(),
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.type()} ${os.release()}`,
    },
    client: `kcat ${/Version (\S+)/.exec(kcatVersion)?.[1] ?? "?"} (librdkafka ${/librdkafka (\S+)/.exec(kcatVersion)?.[1] ?? "?"})`,
    workload: {
      records: opts.records,
      recordBytes: opts.size,
      acks: 1,
      partitions: opts.partitions,
      warmupRecords: opts.warmup,
      repeat: opts.repeat,
    },
    results,
  };
  const dir = path.join(HERE, "results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.timestamp.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, JSON.stringify(report, null, 2) + "\n");
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
