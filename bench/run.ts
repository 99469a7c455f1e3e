// `npm run bench`: Capstan against Apache Kafka 4.4.0 on the same machine, one after the
// other, with the same clients (Kafka's perf tools from the kafka-tools jar, kcat and
// confluent-kafka-python on librdkafka). One module per scenario under bench/scenarios/;
// each figure is the median of --repeat runs with min and max. Prints a table with the
// ratio Capstan/Kafka and writes bench/results/<timestamp>.json. See docs/benchmarks.md.
//
//   npm run bench                                   # every scenario, full sizes
//   npm run bench -- --quick                        # small sizes (minutes, not tens of minutes)
//   npm run bench -- --scenario produce,consume     # a selection
//   npm run bench -- --records 200000 --repeat 5 --brokers capstan
//
// Not part of npm test. Needs java 17+ and maven (for the first run), kcat, and python3 with
// confluent_kafka; the Kafka jars are fetched by test/setup/install.sh into ~/.cache/capstan
// on the first run.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_KAFKA_VERSION, isKafkaInstalled } from "../test/setup/kafka.ts";
import { NotApplicable } from "./lib/scenario.ts";
import type { BenchContext, Scenario } from "./lib/scenario.ts";
import { summarize } from "./lib/summary.ts";
import { renderTable } from "./lib/table.ts";
import type { BrokerKind, Row, Side } from "./lib/table.ts";
import { consume } from "./scenarios/consume.ts";
import { failover } from "./scenarios/failover.ts";
import { lag } from "./scenarios/lag.ts";
import { latency } from "./scenarios/latency.ts";
import { local } from "./scenarios/local.ts";
import { produce } from "./scenarios/produce.ts";
import { replicated } from "./scenarios/replicated.ts";
import { startup } from "./scenarios/startup.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** In the order. */
const SCENARIOS: Scenario[] = [produce, replicated, consume, latency, startup, failover, local, lag];

interface Options {
  scenarios: Scenario[];
  brokers: BrokerKind[];
  records: number;
  recordSize: number;
  repeat: number;
  latencyRecords: number;
  lagPartitions: number;
  quick: boolean;
}

const USAGE = `usage: npm run bench -- [--scenario ${SCENARIOS.map((s) => s.name).join(",")}] [--quick]
       [--records N] [--size BYTES] [--repeat R] [--latency-records N] [--lag-partitions N]
       [--brokers capstan,kafka]`;

function parseArgs(argv: string[]): Options {
  let names: string[] | undefined;
  let brokers: BrokerKind[] = ["capstan", "kafka"];
  const set: Partial<
    Record<"records" | "recordSize" | "repeat" | "latencyRecords" | "lagPartitions", number>
  > = {};
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    const count = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === "--scenario" || a === "--scenarios") names = value().split(",").filter(Boolean);
    else if (a === "--brokers") brokers = value().split(",").filter(Boolean) as BrokerKind[];
    else if (a === "--quick") quick = true;
    else if (a === "--records") set.records = count();
    else if (a === "--size") set.recordSize = count();
    else if (a === "--repeat") set.repeat = count();
    else if (a === "--latency-records") set.latencyRecords = count();
    else if (a === "--lag-partitions") set.lagPartitions = count();
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  for (const b of brokers) if (b !== "capstan" && b !== "kafka") throw new Error(`unknown broker ${b}`);
  const scenarios = (names ?? SCENARIOS.map((s) => s.name)).map((n) => {
    const s = SCENARIOS.find((x) => x.name === n || (n === "rss" && x.name === "produce"));
    if (!s) throw new Error(`unknown scenario ${n}\n${USAGE}`);
    return s;
  });
  return {
    scenarios: SCENARIOS.filter((s) => scenarios.includes(s)),
    brokers,
    quick,
    records: set.records ?? (quick ? 100_000 : 1_000_000),
    recordSize: set.recordSize ?? 1024,
    repeat: set.repeat ?? 3,
    latencyRecords: set.latencyRecords ?? (quick ? 2_000 : 10_000),
    lagPartitions: set.lagPartitions ?? (quick ? 2_000 : 10_000),
  };
}

function version(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "?";
}

function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? "?",
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.type()} ${os.release()}`,
    node: process.version,
    java: version("java", ["-version"], /version "([^"]+)"/),
    kcat: version("kcat", ["-V"], /Version (\S+)/),
    librdkafka: version("kcat", ["-V"], /librdkafka (\S+)/),
    kafka: DEFAULT_KAFKA_VERSION,
  };
}

async function runScenario(
  s: Scenario,
  broker: BrokerKind,
  ctx: BenchContext,
): Promise<Record<string, Side>> {
  const all = (side: Side) => Object.fromEntries(s.metrics.map((m) => [m.id, side]));
  const na = s.notFor?.[broker];
  if (na) return all({ values: [], na });
  if (broker === "kafka" && !isKafkaInstalled()) {
    return all({
      values: [],
      error: `Kafka ${DEFAULT_KAFKA_VERSION} is not cached: bash test/setup/install.sh`,
    });
  }
  const started = Date.now();
  try {
    const got = await s.run(broker, { ...ctx, log: (m) => console.log(`   [${s.name}/${broker}] ${m}`) });
    console.log(`   [${s.name}/${broker}] done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return Object.fromEntries(
      s.metrics.map((m) => [m.id, { values: (got[m.id] ?? []).map((v) => Number(v.toFixed(3))) }]),
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof NotApplicable) {
      console.log(`   [${s.name}/${broker}] n/a: ${message}`);
      return all({ values: [], na: message });
    }
    console.log(`   [${s.name}/${broker}] FAILED: ${message.slice(0, 3000)}`);
    return all({ values: [], error: message.split("\n")[0] });
  }
}

/** Formats the results as the repository's prettier would, so a committed result passes `npm run lint`. */
async function formatJson(json: string, file: string): Promise<string> {
  try {
    const prettier = await import("prettier");
    return await prettier.format(json, { ...(await prettier.resolveConfig(file)), filepath: file });
  } catch {
    return json;
  }
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  for (const [cmd, args] of [
    ["kcat", ["-V"]],
    ["java", ["-version"]],
    ["/usr/bin/python3", ["-c", "import confluent_kafka"]],
  ] as const) {
    if (spawnSync(cmd, [...args]).status !== 0)
      throw new Error(`${cmd} ${args.join(" ")} failed: is it installed?`);
  }
  if (opts.brokers.includes("kafka") && !isKafkaInstalled()) {
    // A fresh clone: fetch Kafka from Maven Central into the cache outside the repository.
    console.log(`Kafka ${DEFAULT_KAFKA_VERSION} is not cached yet: running bash test/setup/install.sh`);
    const r = spawnSync("bash", [path.join(HERE, "..", "test", "setup", "install.sh")], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("test/setup/install.sh failed: cannot run the Kafka side");
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), "capstan-bench-"));
  const ctx: BenchContext = {
    records: opts.records,
    recordSize: opts.recordSize,
    repeat: opts.repeat,
    latencyRecords: opts.latencyRecords,
    lagPartitions: opts.lagPartitions,
    quick: opts.quick,
    tmp,
    log: console.log,
  };
  const loadBefore = os.loadavg();
  const startedAt = new Date();
  console.log(
    `scenarios: ${opts.scenarios.map((s) => s.name).join(", ")}; brokers: ${opts.brokers.join(", ")}; ` +
      `${opts.records} records of ${opts.recordSize} B, latency ${opts.latencyRecords} records, ` +
      `lag ${opts.lagPartitions} partitions, median of ${opts.repeat} runs; load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`,
  );
  const rows: Row[] = [];
  try {
    for (const s of opts.scenarios) {
      console.log(`\n== ${s.title}`);
      const sides: Partial<Record<BrokerKind, Record<string, Side>>> = {};
      for (const b of opts.brokers) sides[b] = await runScenario(s, b, ctx);
      for (const m of s.metrics)
        rows.push({
          scenario: s.title,
          metric: m,
          capstan: sides.capstan?.[m.id],
          kafka: sides.kafka?.[m.id],
        });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const table = renderTable(rows);
  const loadAfter = os.loadavg();
  console.log(
    `\n${table}\n\nmedian (min–max) of ${opts.repeat} runs; MiB = 2^20 bytes of record payload; ↑ higher is better, ↓ lower is better`,
  );
  const report = {
    timestamp: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: { ...machine(), loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
    options: { ...opts, scenarios: opts.scenarios.map((s) => s.name) },
    figures: rows.map((r) => ({
      scenario: r.scenario,
      ...r.metric,
      capstan: r.capstan && { ...r.capstan, summary: summarize(r.capstan.values) },
      kafka: r.kafka && { ...r.kafka, summary: summarize(r.kafka.values) },
    })),
    table,
  };
  const dir = path.join(HERE, "results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.timestamp.replace(/[:.]/g, "-")}.json`);
  await writeFile(file, await formatJson(JSON.stringify(report, null, 2) + "\n", file));
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  return rows.some((r) => r.capstan?.error || r.kafka?.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
