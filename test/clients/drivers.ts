// Registry of the real-client drivers in this directory, for interop tests, fixture capture
// and benchmarks. Every driver runs the same scenario (see README.md here) as a separate
// process: runDriver("java", { bootstrap, topic, group }) resolves with its exit code and output.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_KAFKA_VERSION, kafkaClasspath, kafkaHome } from "../setup/kafka.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
/** Debian's python3 (python3-kafka and python3-confluent-kafka live there, not in pyenv's). */
const PYTHON = "/usr/bin/python3";

export const CLIENT_NAMES = ["kcat", "kafka-python", "confluent-kafka", "java", "kafkajs"] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

export interface DriverArgs {
  bootstrap: string;
  topic: string;
  group: string;
  /** Records to produce and consume; default 3. */
  count?: number;
}

export interface DriverOptions {
  /** Kafka version whose kafka-clients jar (and compiled driver) the java driver uses. */
  kafkaVersion?: string;
  /** Kill the driver after this long; default 90 s (the drivers give up after 60 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface DriverResult {
  client: ClientName;
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The command line that runs a driver. */
export function driverCommand(
  client: ClientName,
  args: DriverArgs,
  opts: DriverOptions = {},
): { command: string; args: string[] } {
  const tail = [args.bootstrap, args.topic, args.group, String(args.count ?? 3)];
  switch (client) {
    case "kcat":
      return { command: "bash", args: [path.join(HERE, "kcat.sh"), ...tail] };
    case "kafka-python":
      return { command: PYTHON, args: [path.join(HERE, "kafka_python_driver.py"), ...tail] };
    case "confluent-kafka":
      return { command: PYTHON, args: [path.join(HERE, "confluent_kafka_driver.py"), ...tail] };
    case "java": {
      const version = opts.kafkaVersion ?? DEFAULT_KAFKA_VERSION;
      const cp = `${kafkaClasspath(version)}${path.delimiter}${path.join(kafkaHome(version), "driver")}`;
      // Kafka 4.x jars log through log4j2, 3.x jars through reload4j (log4j 1).
      const logging = [
        `-Dlog4j2.configurationFile=${path.join(HERE, "log4j2-warn.properties")}`,
        `-Dlog4j.configuration=file:${path.join(HERE, "log4j-warn.properties")}`,
      ];
      return { command: "java", args: ["-Xmx256m", ...logging, "-cp", cp, "KafkaClientDriver", ...tail] };
    }
    case "kafkajs":
      return { command: process.execPath, args: [path.join(HERE, "kafkajs.ts"), ...tail] };
  }
}

/** Whether the client's runtime is installed here (Debian packages, cached jars). */
export function driverAvailable(client: ClientName, opts: DriverOptions = {}): boolean {
  switch (client) {
    case "kcat":
      return spawnSync("kcat", ["-V"]).status === 0;
    case "kafka-python":
      return spawnSync(PYTHON, ["-c", "import kafka"]).status === 0;
    case "confluent-kafka":
      return spawnSync(PYTHON, ["-c", "import confluent_kafka"]).status === 0;
    case "java":
      return existsSync(path.join(kafkaHome(opts.kafkaVersion ?? DEFAULT_KAFKA_VERSION), "driver"));
    case "kafkajs":
      return existsSync(path.join(ROOT, "node_modules", "kafkajs", "package.json"));
  }
}

/** Runs a driver to completion. */
export function runDriver(
  client: ClientName,
  args: DriverArgs,
  opts: DriverOptions = {},
): Promise<DriverResult> {
  const { command, args: argv } = driverCommand(client, args, opts);
  const started = Date.now();
  return new Promise((resolve) => {
    // Without NODE_TEST_CONTEXT: under `node --test` it would stop kafkajs.ts from running.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(command, argv, {
      cwd: ROOT,
      env: { KAFKAJS_NO_PARTITIONER_WARNING: "1", ...env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs ?? 90_000} ms)`;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ client, code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unavailable";
}

function debVersion(pkg: string): string {
  return firstLine("dpkg-query", ["-W", "-f", "${Version}", pkg]);
}

/** Human-readable versions of every client (and what they are built on). */
export function clientVersions(opts: DriverOptions = {}): Record<ClientName, string> {
  const kcat = firstLine("kcat", ["-V"]);
  const kcatVersion = /Version (\S+)/.exec(kcat)?.[1] ?? "?";
  const kcatRdkafka = /librdkafka (\S+)/.exec(kcat)?.[1] ?? "?";
  const ck = firstLine(PYTHON, [
    "-c",
    "import confluent_kafka as c; print(c.version()[0], c.libversion()[0])",
  ]).split(" ");
  const kafkajs = JSON.parse(
    readFileSync(path.join(ROOT, "node_modules", "kafkajs", "package.json"), "utf8"),
  ) as {
    version: string;
  };
  return {
    kcat: `kcat ${kcatVersion} (librdkafka ${kcatRdkafka} built in; Debian kcat ${debVersion("kcat")})`,
    "kafka-python": `kafka-python ${firstLine(PYTHON, ["-c", "import kafka; print(kafka.__version__)"])} (Debian python3-kafka ${debVersion("python3-kafka")})`,
    "confluent-kafka": `confluent-kafka-python ${ck[0]} on librdkafka ${ck[1]} (Debian python3-confluent-kafka ${debVersion("python3-confluent-kafka")}, librdkafka1 ${debVersion("librdkafka1")})`,
    java: `Apache Kafka Java client (org.apache.kafka:kafka-clients) ${opts.kafkaVersion ?? DEFAULT_KAFKA_VERSION}`,
    kafkajs: `kafkajs ${kafkajs.version} (npm) on Node ${process.versions.node}`,
  };
}
