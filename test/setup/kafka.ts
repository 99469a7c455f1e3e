// Runs a real single-node Apache Kafka (KRaft, combined broker+controller) from the jars
// that test/setup/install.sh caches in $CAPSTAN_CACHE/kafka-<version>/libs, for interop
// tests, fixture capture and benchmarks. Loopback only, small heap, no GC logs.
//
//   const kafka = await startKafka({ advertisedListener: "127.0.0.1:19092" });
//   ... kafka.bootstrap is "127.0.0.1:<port>" (the broker's own listener) ...
//   await kafka.stop();
//
// By hand: node test/setup/kafka.ts [--version V] [--port N] [--advertise HOST:PORT]
// starts one and keeps it up until Ctrl-C.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** Pinned Kafka version; keep in sync with DEFAULT_KAFKA_VERSION in test/setup/install.sh. */
export const DEFAULT_KAFKA_VERSION = "4.4.0";

/** Where install.sh caches everything: $CAPSTAN_CACHE or ~/.cache/capstan. */
export function cacheDir(): string {
  return process.env.CAPSTAN_CACHE || path.join(os.homedir(), ".cache", "capstan");
}

/** $CACHE/kafka-<version>: holds libs/ (jars) and driver/ (compiled Java client driver). */
export function kafkaHome(version: string = DEFAULT_KAFKA_VERSION): string {
  return path.join(cacheDir(), `kafka-${version}`);
}

/** Java classpath of the whole Kafka runtime (broker, tools, clients, streams, logging). */
export function kafkaClasspath(version: string = DEFAULT_KAFKA_VERSION): string {
  return path.join(kafkaHome(version), "libs", "*");
}

/** True when install.sh has finished installing this version. */
export function isKafkaInstalled(version: string = DEFAULT_KAFKA_VERSION): boolean {
  return existsSync(path.join(kafkaHome(version), ".stamp"));
}

/** Throws a helpful error when the version is not in the cache. */
export function requireKafka(version: string = DEFAULT_KAFKA_VERSION): void {
  if (!isKafkaInstalled(version)) {
    throw new Error(
      `Kafka ${version} is not installed in ${kafkaHome(version)}: run 'bash test/setup/install.sh ${version}'`,
    );
  }
}

/** Main classes of the CLI tools, which moved between Kafka 3.x and 4.x. */
export function kafkaToolClass(
  tool:
    | "storage"
    | "dump-log-segments"
    | "topics"
    | "consumer-groups"
    | "producer-perf-test"
    | "console-producer"
    | "console-consumer"
    | "configs"
    | "get-offsets"
    | "reassign-partitions"
    | "leader-election",
  version: string = DEFAULT_KAFKA_VERSION,
): string {
  const v3 = version.startsWith("3.");
  switch (tool) {
    case "console-producer":
      return v3 ? "kafka.tools.ConsoleProducer" : "org.apache.kafka.tools.ConsoleProducer";
    case "console-consumer":
      return "org.apache.kafka.tools.consumer.ConsoleConsumer";
    case "configs":
      return v3 ? "kafka.admin.ConfigCommand" : "org.apache.kafka.tools.ConfigCommand";
    case "get-offsets":
      return "org.apache.kafka.tools.GetOffsetShell";
    case "storage":
      return "kafka.tools.StorageTool";
    case "dump-log-segments":
      return v3 ? "kafka.tools.DumpLogSegments" : "org.apache.kafka.tools.DumpLogSegments";
    case "topics":
      return "org.apache.kafka.tools.TopicCommand";
    case "consumer-groups":
      return v3
        ? "kafka.admin.ConsumerGroupCommand"
        : "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    case "producer-perf-test":
      return "org.apache.kafka.tools.ProducerPerformance";
    case "reassign-partitions":
      return v3
        ? "kafka.admin.ReassignPartitionsCommand"
        : "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";
    case "leader-election":
      return v3 ? "kafka.admin.LeaderElectionCommand" : "org.apache.kafka.tools.LeaderElectionCommand";
  }
}

/** JVM flags shared by the broker and the tools: small heap, no GC logging, IPv4. */
export function jvmArgs(heap = "512m"): string[] {
  return [
    `-Xmx${heap}`,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Xlog:disable",
    "-Xlog:all=warning:stderr",
    "-Djava.awt.headless=true",
    "-Djava.net.preferIPv4Stack=true",
  ];
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Kafka main class (e.g. kafkaToolClass("dump-log-segments")) with the cached
 * classpath and collects its output. Logs at WARN to stderr unless log4jDir is given.
 */
export async function runKafkaTool(
  mainClass: string,
  args: string[],
  opts: { version?: string; heap?: string; timeoutMs?: number; log4jDir?: string } = {},
): Promise<ToolResult> {
  const version = opts.version ?? DEFAULT_KAFKA_VERSION;
  requireKafka(version);
  const logDir = opts.log4jDir ?? (await mkdtemp(path.join(os.tmpdir(), "capstan-kafka-tool-")));
  const logArgs = await writeLogConfig(logDir, "WARN");
  try {
    const child = spawn(
      "java",
      [...jvmArgs(opts.heap ?? "256m"), ...logArgs, "-cp", kafkaClasspath(version), mainClass, ...args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    return await collect(child, opts.timeoutMs ?? 120_000);
  } finally {
    if (!opts.log4jDir) await rm(logDir, { recursive: true, force: true });
  }
}

export interface KafkaOptions {
  /** Kafka version from the cache; default DEFAULT_KAFKA_VERSION. */
  version?: string;
  /** Client (PLAINTEXT) listener port on 127.0.0.1; default a free port. */
  port?: number;
  /** Controller listener port on 127.0.0.1; default a free port. */
  controllerPort?: number;
  /**
   * "host:port" the broker advertises to clients in Metadata/FindCoordinator responses;
   * default its own listener. Point it at a proxy so clients reconnect through the proxy.
   */
  advertisedListener?: string;
  /** Extra or overriding server.properties entries. */
  config?: Record<string, string | number | boolean>;
  /** Max heap (-Xmx); default "512m". */
  heap?: string;
  /** Root log level of the broker's own log (server.log); default "INFO". */
  logLevel?: string;
  /** Milliseconds to wait for the broker to serve Metadata; default 90 s. */
  startTimeoutMs?: number;
  /** Keep the temp dir (data + server.log) after stop(); default false. */
  keepDir?: boolean;
}

export interface KafkaBroker {
  version: string;
  /** "127.0.0.1:<port>": the broker's own client listener. */
  bootstrap: string;
  host: string;
  port: number;
  controllerPort: number;
  /** What the broker advertises to clients ("host:port"). */
  advertisedListener: string;
  clusterId: string;
  /** Temp dir holding server.properties, data/ and server.log. */
  dir: string;
  dataDir: string;
  logFile: string;
  /** Pid of the current broker process (changes on restart()). */
  readonly pid: number;
  /** Whether the broker process is running. */
  alive(): boolean;
  /** Graceful shutdown (SIGTERM, SIGKILL after timeoutMs), then removes dir unless keepDir. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /**
   * Stops the process but keeps dir, so restart() can start it again on the same ports and
   * data: SIGTERM (SIGKILL after timeoutMs) or, with signal "SIGKILL", a crash. Resolves
   * with how the process exited.
   */
  halt(opts?: { signal?: "SIGTERM" | "SIGKILL"; timeoutMs?: number }): Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    timedOut: boolean;
  }>;
  /** Starts the broker again on the same ports and data (halting it first if running). */
  restart(): Promise<void>;
}

/** Starts a fresh single-node KRaft Kafka and resolves once it answers Metadata with itself. */
export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaBroker> {
  const version = opts.version ?? DEFAULT_KAFKA_VERSION;
  requireKafka(version);
  const host = "127.0.0.1";
  const port = opts.port ?? (await freePort());
  const controllerPort = opts.controllerPort ?? (await freePort());
  const advertisedListener = opts.advertisedListener ?? `${host}:${port}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `capstan-kafka-${version}-`));
  const dataDir = path.join(dir, "data");
  const logFile = path.join(dir, "server.log");
  await mkdir(dataDir);

  const config: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://${advertisedListener}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "log.dirs": dataDir,
    "num.partitions": 1,
    "auto.create.topics.enable": true,
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 1,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "transaction.state.log.num.partitions": 1,
    "group.initial.rebalance.delay.ms": 0,
    ...(version.startsWith("3.")
      ? {}
      : {
          "share.coordinator.state.topic.replication.factor": 1,
          "share.coordinator.state.topic.min.isr": 1,
        }),
    ...opts.config,
  };
  const propsFile = path.join(dir, "server.properties");
  await writeFile(
    propsFile,
    Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n",
  );

  const clusterId = randomBytes(16).toString("base64url");
  const format = await runKafkaTool(
    kafkaToolClass("storage", version),
    ["format", "--cluster-id", clusterId, "--config", propsFile, "--ignore-formatted"],
    { version, log4jDir: dir },
  );
  if (format.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`kafka-storage format failed (${format.code}):\n${format.stdout}\n${format.stderr}`);
  }

  const logArgs = await writeLogConfig(dir, opts.logLevel ?? "INFO");
  const log = createWriteStream(logFile, { flags: "a" });
  let child!: ChildProcess;
  let exited!: Promise<void>;
  const running = () => child.exitCode === null && child.signalCode === null;
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);

  const launch = () => {
    child = spawn(
      "java",
      [...jvmArgs(opts.heap ?? "512m"), ...logArgs, "-cp", kafkaClasspath(version), "kafka.Kafka", propsFile],
      { stdio: ["ignore", "pipe", "pipe"], cwd: dir },
    );
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const c = child;
    exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
  };

  const halt = async (haltOpts: { signal?: "SIGTERM" | "SIGKILL"; timeoutMs?: number } = {}) => {
    let timedOut = false;
    if (running()) {
      child.kill(haltOpts.signal ?? "SIGTERM");
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, haltOpts.timeoutMs ?? 20_000);
      await exited;
      clearTimeout(timer);
    }
    return { code: child.exitCode, signal: child.signalCode, timedOut };
  };

  let stopped = false;
  const stop = async (stopOpts: { timeoutMs?: number } = {}) => {
    if (stopped) return;
    stopped = true;
    await halt({ timeoutMs: stopOpts.timeoutMs });
    process.off("exit", killOnExit);
    await new Promise<void>((resolve) => log.end(resolve));
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  };

  const waitReady = async () => {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
    let lastError: unknown = undefined;
    while (true) {
      if (!running()) {
        const tail = tailOf(logFile);
        await stop();
        throw new Error(
          `Kafka ${version} exited during startup (${child.exitCode ?? child.signalCode}):\n${tail}`,
        );
      }
      if (Date.now() > deadline) {
        const tail = tailOf(logFile);
        await stop({ timeoutMs: 1000 });
        throw new Error(`Kafka ${version} did not start in time (${String(lastError)}):\n${tail}`);
      }
      try {
        const md = await probeMetadata(host, port, 2000);
        if (md.brokers.length > 0) return;
        lastError = new Error("no broker registered yet");
      } catch (err) {
        lastError = err;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  launch();
  await waitReady();

  return {
    version,
    bootstrap: `${host}:${port}`,
    host,
    port,
    controllerPort,
    advertisedListener,
    clusterId,
    dir,
    dataDir,
    logFile,
    get pid() {
      return child.pid!;
    },
    alive: running,
    stop,
    halt,
    restart: async () => {
      if (stopped) throw new Error("restart() after stop(): the broker's directory is gone");
      await halt();
      log.write(`\n=== restart at ${new Date().toISOString()} ===\n`);
      launch();
      await waitReady();
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface MetadataProbe {
  brokers: { nodeId: number; host: string; port: number }[];
  clusterId: string | null;
  controllerId: number;
}

/**
 * One Metadata v4 round-trip (all topics, no auto-creation) on a fresh connection,
 * encoded by hand so it depends on nothing but node:net. Kafka 3.x and 4.x both serve v4.
 */
export function probeMetadata(host: string, port: number, timeoutMs = 2000): Promise<MetadataProbe> {
  const clientId = Buffer.from("capstan-probe");
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o); // api key: Metadata
  o = body.writeInt16BE(4, o); // api version
  o = body.writeInt32BE(1, o); // correlation id
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  o = body.writeInt32BE(-1, o); // topics: null = all
  body.writeInt8(0, o); // allow_auto_topic_creation
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0]), body]);
  frame.writeInt32BE(body.length, 0);

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("metadata probe timed out"));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once("error", fail);
    socket.once("close", () => fail(new Error("connection closed before a response")));
    socket.on("connect", () => socket.write(frame));
    socket.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.removeAllListeners("close");
      socket.destroy();
      try {
        resolve(parseMetadataV4(buf.subarray(4, 4 + buf.readInt32BE(0))));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

function parseMetadataV4(b: Buffer): MetadataProbe {
  let o = 4 + 4; // correlation id, throttle_time_ms
  const str = (): string | null => {
    const n = b.readInt16BE(o);
    o += 2;
    if (n < 0) return null;
    const s = b.toString("utf8", o, o + n);
    o += n;
    return s;
  };
  const n = b.readInt32BE(o);
  o += 4;
  const brokers: MetadataProbe["brokers"] = [];
  for (let i = 0; i < n; i++) {
    const nodeId = b.readInt32BE(o);
    o += 4;
    const host = str() ?? "";
    const port = b.readInt32BE(o);
    o += 4;
    str(); // rack
    brokers.push({ nodeId, host, port });
  }
  const clusterId = str();
  const controllerId = b.readInt32BE(o);
  return { brokers, clusterId, controllerId };
}

/** Writes log4j2 (Kafka 4.x) and log4j 1 (Kafka 3.x) configs logging to stdout; returns JVM flags. */
async function writeLogConfig(dir: string, level: string): Promise<string[]> {
  const log4j2 = path.join(dir, "log4j2.properties");
  const log4j1 = path.join(dir, "log4j.properties");
  await writeFile(
    log4j2,
    [
      "status = warn",
      "appender.out.type = Console",
      "appender.out.name = OUT",
      "appender.out.layout.type = PatternLayout",
      "appender.out.layout.pattern = [%d] %p %m (%c)%n",
      `rootLogger.level = ${level}`,
      "rootLogger.appenderRef.out.ref = OUT",
      "logger.state.name = state.change.logger",
      "logger.state.level = WARN",
      "",
    ].join("\n"),
  );
  await writeFile(
    log4j1,
    [
      `log4j.rootLogger=${level}, out`,
      "log4j.appender.out=org.apache.log4j.ConsoleAppender",
      "log4j.appender.out.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n",
      "log4j.logger.state.change.logger=WARN",
      "",
    ].join("\n"),
  );
  return [`-Dlog4j2.configurationFile=${log4j2}`, `-Dlog4j.configuration=file:${log4j1}`];
}

function collect(child: ChildProcess, timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function tailOf(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function main(argv: string[]): Promise<void> {
  const opts: KafkaOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--version") opts.version = argv[++i];
    else if (a === "--port") opts.port = Number(argv[++i]);
    else if (a === "--advertise") opts.advertisedListener = argv[++i];
    else if (a === "--keep") opts.keepDir = true;
    else throw new Error(`unknown argument ${a}`);
  }
  const kafka = await startKafka(opts);
  console.log(
    `Kafka ${kafka.version} up: bootstrap ${kafka.bootstrap}, advertised ${kafka.advertisedListener}`,
  );
  console.log(`log: ${kafka.logFile}  (Ctrl-C stops it)`);
  const shutdown = () => void kafka.stop().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

// `node --test` runs every .ts under test/ as a test file: only act when started by hand.
if (import.meta.main && !process.env.NODE_TEST_CONTEXT) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
