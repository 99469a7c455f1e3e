// Starts the brokers under test as plain processes on loopback: Capstan as `capstan broker`
// processes, Apache Kafka as KRaft nodes in combined mode (broker+controller), one node or
// three with a static controller.quorum.voters. The benchmark's own starter rather than
// test/setup's, because it needs the spawn instant (start-up time), several nodes, node
// flags (--cpu-prof) and Kafka's documented launch settings (kafka-server-start.sh: 1 GiB heap).
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { node24 } from "../../test/setup/capstan.ts";
import {
  DEFAULT_KAFKA_VERSION,
  freePort,
  kafkaClasspath,
  kafkaToolClass,
  probeMetadata,
  requireKafka,
} from "../../test/setup/kafka.ts";
import type { BrokerKind } from "./table.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const HOST = "127.0.0.1";

/** kafka-run-class.sh's JVM performance options and kafka-server-start.sh's heap. */
export const KAFKA_BROKER_JVM = [
  "-Xmx1G",
  "-Xms1G",
  "-server",
  "-XX:+UseG1GC",
  "-XX:MaxGCPauseMillis=20",
  "-XX:InitiatingHeapOccupancyPercent=35",
  "-XX:+ExplicitGCInvokesConcurrent",
  "-Djava.awt.headless=true",
  "-Djava.net.preferIPv4Stack=true",
];

export interface ClusterNode {
  id: number;
  port: number;
  controllerPort: number;
  readonly pid: number;
  alive(): boolean;
  /** kill -9, and wait for the exit. */
  kill(): Promise<void>;
  /** Starts the node again on the same ports and data (after kill() or stop). */
  restart(): Promise<void>;
}

export interface Cluster {
  kind: BrokerKind;
  /** Comma-separated client listeners. */
  bootstrap: string;
  nodes: ClusterNode[];
  /** Date.now() just before the broker processes were spawned (after Kafka's storage format). */
  spawnedAt: number;
  /** Waits until every node answers Metadata (throws with the logs after timeoutMs). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Brokers that node 0's Metadata lists, waiting up to timeoutMs for `want` of them. */
  brokerCount(want: number, timeoutMs: number): Promise<number>;
  /** The tail of every node's output. */
  logs(lines?: number): string;
  /** SIGTERM every node (SIGKILL after 30 s) and removes the data. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes?: number;
  /** Extra node flags for Capstan (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Keep and reuse this directory (one subdirectory per node) instead of a temp dir. */
  dir?: string;
  /** Extra broker properties (both kinds). */
  config?: Record<string, string>;
  /** Wait for every node to serve Metadata before resolving (default true). */
  waitReady?: boolean;
  /** Called with the bootstrap servers just before the processes are spawned. */
  beforeSpawn?: (bootstrap: string) => Promise<void>;
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function launch(cmd: string, args: string[], logFile: string, cwd: string): Proc {
  const log = createWriteStream(logFile, { flags: "a" });
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) =>
    child.once("close", () => {
      log.end();
      resolve();
    }),
  );
  return { child, exited };
}

const running = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function writeKafkaLogConfig(dir: string): Promise<string> {
  const file = path.join(dir, "log4j2.properties");
  await writeFile(
    file,
    [
      "status = warn",
      "appender.out.type = Console",
      "appender.out.name = OUT",
      "appender.out.layout.type = PatternLayout",
      "appender.out.layout.pattern = [%d] %p %m (%c)%n",
      "rootLogger.level = WARN",
      "rootLogger.appenderRef.out.ref = OUT",
      "",
    ].join("\n"),
  );
  return `-Dlog4j2.configurationFile=${file}`;
}

function runToCompletion(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** Starts a Capstan or Kafka cluster of opts.nodes (default 1) nodes. */
export async function startCluster(kind: BrokerKind, opts: ClusterOptions = {}): Promise<Cluster> {
  const n = opts.nodes ?? 1;
  if (kind === "kafka") requireKafka();
  const root = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), `capstan-bench-${kind}-`)));
  const ports: number[] = [];
  const controllerPorts: number[] = [];
  for (let i = 0; i < n; i++) {
    ports.push(await freePort());
    controllerPorts.push(await freePort());
  }
  const voters = controllerPorts.map((p, i) => `${i + 1}@${HOST}:${p}`).join(",");
  const commands: { cmd: string; args: string[]; dir: string; log: string }[] = [];
  // kafka-storage's argument parser takes an id starting with "-" for an option.
  let clusterId = randomBytes(16).toString("base64url");
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");

  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `node-${i + 1}`);
    const data = path.join(dir, "data");
    await mkdir(data, { recursive: true });
    const log = path.join(dir, "out.log");
    if (kind === "capstan") {
      const props: Record<string, string> = {
        "node.id": String(i + 1),
        "log.dirs": data,
        // As in Kafka's shipped config/server.properties, which the Kafka nodes use too.
        "group.initial.rebalance.delay.ms": "0",
        ...(n === 1
          ? { listeners: `PLAINTEXT://${HOST}:${ports[i]}` }
          : {
              "process.roles": "broker,controller",
              "controller.quorum.voters": voters,
              listeners: `PLAINTEXT://${HOST}:${ports[i]},CONTROLLER://${HOST}:${controllerPorts[i]}`,
              "advertised.listeners": `PLAINTEXT://${HOST}:${ports[i]}`,
              "inter.broker.listener.name": "PLAINTEXT",
              "default.replication.factor": "1",
            }),
        ...opts.config,
      };
      const args = [
        ...(opts.nodeFlags ?? []),
        path.join(ROOT, "bin", "capstan.ts"),
        "broker",
        ...Object.entries(props).flatMap(([k, v]) => ["--override", `${k}=${v}`]),
      ];
      commands.push({ cmd: node24(), args, dir, log });
    } else {
      // Kafka's own config/server.properties (KRaft, combined), with replication factors
      // for the internal topics matching the node count.
      const rf = String(Math.min(3, n));
      const props: Record<string, string> = {
        "process.roles": "broker,controller",
        "node.id": String(i + 1),
        "controller.quorum.voters": voters,
        listeners: `PLAINTEXT://${HOST}:${ports[i]},CONTROLLER://${HOST}:${controllerPorts[i]}`,
        "advertised.listeners": `PLAINTEXT://${HOST}:${ports[i]}`,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": data,
        "num.partitions": "1",
        "offsets.topic.replication.factor": rf,
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": "1",
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        ...opts.config,
      };
      const propsFile = path.join(dir, "server.properties");
      await writeFile(
        propsFile,
        Object.entries(props)
          .map(([k, v]) => `${k}=${v}`)
          .join("\n") + "\n",
      );
      const logArg = await writeKafkaLogConfig(dir);
      const cp = ["-cp", kafkaClasspath(DEFAULT_KAFKA_VERSION)];
      if (opts.dir === undefined || !readSafe(path.join(data, "meta.properties"))) {
        const f = await runToCompletion("java", [
          "-Xmx256m",
          logArg,
          ...cp,
          kafkaToolClass("storage"),
          "format",
          "--cluster-id",
          clusterId,
          "--config",
          propsFile,
          "--ignore-formatted",
        ]);
        if (f.code !== 0) {
          if (opts.dir === undefined) await rm(root, { recursive: true, force: true });
          throw new Error(`kafka-storage format failed:\n${f.output}`);
        }
      }
      commands.push({
        cmd: "java",
        args: [...KAFKA_BROKER_JVM, logArg, ...cp, "kafka.Kafka", propsFile],
        dir,
        log,
      });
    }
  }

  await opts.beforeSpawn?.(ports.map((p) => `${HOST}:${p}`).join(","));
  const spawnedAt = Date.now();
  const procs: Proc[] = commands.map((c) => launch(c.cmd, c.args, c.log, c.dir));
  const killAll = () => procs.forEach((p) => running(p) && p.child.kill("SIGKILL"));
  process.on("exit", killAll);

  const logs = (lines = 30) =>
    commands.map((c, i) => `--- ${kind} node ${i + 1} (${c.log}) ---\n${tail(c.log, lines)}`).join("\n");

  const waitNode = async (i: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (!running(procs[i])) throw new Error(`${kind} node ${i + 1} exited during start-up\n${logs()}`);
      try {
        const md = await probeMetadata(HOST, ports[i], 2000);
        if (md.brokers.length > 0) return;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `${kind} node ${i + 1} did not serve Metadata in ${timeoutMs} ms (${String(last)})\n${logs()}`,
    );
  };
  const waitReady = async (timeoutMs = 120_000) => {
    await Promise.all(procs.map((_, i) => waitNode(i, timeoutMs)));
  };

  const stopProc = async (p: Proc) => {
    if (!running(p)) return;
    p.child.kill("SIGTERM");
    const timer = setTimeout(() => p.child.kill("SIGKILL"), 30_000);
    await p.exited;
    clearTimeout(timer);
  };

  let stopped = false;
  const cluster: Cluster = {
    kind,
    bootstrap: ports.map((p) => `${HOST}:${p}`).join(","),
    spawnedAt,
    nodes: ports.map((port, i) => ({
      id: i + 1,
      port,
      controllerPort: controllerPorts[i],
      get pid() {
        return procs[i].child.pid!;
      },
      alive: () => running(procs[i]),
      kill: async () => {
        if (!running(procs[i])) return;
        procs[i].child.kill("SIGKILL");
        await procs[i].exited;
      },
      restart: async () => {
        await stopProc(procs[i]);
        procs[i] = launch(commands[i].cmd, commands[i].args, commands[i].log, commands[i].dir);
        await waitNode(i, 120_000);
      },
    })),
    waitReady,
    brokerCount: async (want, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let count: number;
      while (true) {
        try {
          count = (await probeMetadata(HOST, ports[0], 2000)).brokers.length;
        } catch {
          count = 0;
        }
        if (count >= want || Date.now() > deadline) return count;
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    logs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(procs.map(stopProc));
      process.off("exit", killAll);
      if (opts.dir === undefined && process.env.CAPSTAN_BENCH_KEEP !== "1") {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
  if (opts.waitReady !== false) {
    try {
      await waitReady();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }
  return cluster;
}

function readSafe(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
