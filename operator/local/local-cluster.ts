// Local mode: a KafkaCluster and its KafkaTopics from a directory of manifests, run as
// broker processes on loopback with the same broker configuration the operator
// generates, and the same topic planning and policy the operator applies. Edits to the
// directory are reconciled; a removed KafkaTopic deletes its topic (unless it asks to
// keep it). Status that Kubernetes would store goes to <data-dir>/status.json.
import { existsSync, mkdirSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type { Logger } from "../../lib/logger.ts";
import { CLUSTER_LABEL, type KafkaCluster, type KafkaTopic } from "../api/types.ts";
import {
  type BrokerAddressing,
  brokerProperties,
  clusterProperties,
  renderProperties,
  renderTopicPolicy,
} from "../cluster/broker-properties.ts";
import { clusterTopicDefaults } from "../lint.ts";
import { loadManifests, type Located } from "../manifests/load.ts";
import { TopicAdmin } from "../topic/kafka-admin.ts";
import { planTopic, topicNameOf } from "../topic/plan.ts";
import { BrokerProcess } from "./supervisor.ts";
import { LagCollector } from "../lag/collector.ts";
import { LagMetrics } from "../lag/metrics.ts";
import { type LagMetricsServer, serveLagMetrics } from "../lag/http.ts";
import { retainsTopic } from "../topic/finalizer.ts";

export const DEFAULT_DATA_DIR = new URL("../../.capstan/local", import.meta.url).pathname;
export const DEFAULT_MANIFESTS = new URL("../../examples/local", import.meta.url).pathname;
/** Set on a KafkaTopic to keep the Kafka topic when the resource is removed. */
/** Older spelling of spec.deletionPolicy: Retain, still honoured in local mode. */
export const DELETION_POLICY_ANNOTATION = "kafka.capstan.dev/deletion-policy";

export class LocalModeError extends Error {}

export interface LocalOptions {
  manifestsDir: string;
  dataDir: string;
  /** Overrides the KafkaCluster's spec.replicas. */
  brokers?: number;
  portBase: number;
  /** Port of the lag /metrics endpoint (0: any free port; default port-base + 300). */
  metricsPort?: number;
  /** Lag poll interval (default 10 s: shorter than the operator's, for a terminal). */
  lagIntervalMs?: number;
  log: Logger;
}

export interface TopicStatus {
  resource: string;
  file: string;
  topicName: string;
  ready: boolean;
  reason: string;
  message: string;
  topicId?: string;
  partitions?: number;
  replicationFactor?: number;
}

export interface LocalStatus {
  cluster: string;
  bootstrapServers: string;
  brokers: Array<{ id: number; pid?: number; port: number; log: string }>;
  topics: TopicStatus[];
  problems: string[];
  updated: string;
}

interface LocalState {
  cluster: string;
  /** Topics this directory created, by topic name, so a removed manifest deletes its topic. */
  managedTopics: Record<string, { deletionPolicy: "Delete" | "Retain" }>;
}

export function loopbackAddressing(portBase: number): BrokerAddressing {
  return {
    host: () => "127.0.0.1",
    clientPort: (id) => portBase + id,
    controllerPort: (id) => portBase + 100 + id,
  };
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const s = createServer();
    s.once("error", () => resolvePort(false));
    s.listen({ host: "127.0.0.1", port }, () => s.close(() => resolvePort(true)));
  });
}

export class LocalCluster {
  private readonly opts: LocalOptions;
  private readonly brokers: BrokerProcess[] = [];
  private cluster?: Located<KafkaCluster>;
  private admin?: TopicAdmin;
  private watcher?: FSWatcher;
  private reconciling: Promise<void> = Promise.resolve();
  private pending?: ReturnType<typeof setTimeout>;
  private state!: LocalState;
  private lag?: LagCollector;
  private lagServer?: LagMetricsServer;
  status?: LocalStatus;

  constructor(opts: LocalOptions) {
    this.opts = { ...opts, manifestsDir: resolve(opts.manifestsDir), dataDir: resolve(opts.dataDir) };
  }

  get bootstrapServers(): string {
    const n = this.brokerCount();
    return Array.from({ length: n }, (_, id) => `127.0.0.1:${this.opts.portBase + id}`).join(",");
  }

  private brokerCount(): number {
    return this.opts.brokers ?? this.cluster?.resource.spec.replicas ?? 1;
  }

  private loadCluster(): {
    cluster: Located<KafkaCluster>;
    topics: Array<Located<KafkaTopic>>;
    problems: string[];
  } {
    if (!existsSync(this.opts.manifestsDir)) {
      throw new LocalModeError(`no manifests at ${this.opts.manifestsDir}: pass --manifests DIR`);
    }
    const m = loadManifests(this.opts.manifestsDir);
    const problems = m.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    if (m.clusters.length === 0) {
      throw new LocalModeError(
        [`no KafkaCluster among the manifests in ${this.opts.manifestsDir}`, ...problems].join("\n  "),
      );
    }
    if (m.clusters.length > 1) {
      throw new LocalModeError(
        `local mode runs one KafkaCluster; ${this.opts.manifestsDir} has ${m.clusters.length}: ${m.clusters.map((c) => `${c.resource.metadata.name} (${c.file}:${c.line})`).join(", ")}`,
      );
    }
    const cluster = m.clusters[0];
    const topics = m.topics.filter(
      (t) => t.resource.metadata.labels?.[CLUSTER_LABEL] === cluster.resource.metadata.name,
    );
    for (const t of m.topics) {
      if (!topics.includes(t)) {
        problems.push(
          `${t.file}:${t.line}: KafkaTopic ${t.resource.metadata.name} names cluster ${t.resource.metadata.labels?.[CLUSTER_LABEL] ?? "(no label)"}, not ${cluster.resource.metadata.name}; set the label ${CLUSTER_LABEL}: ${cluster.resource.metadata.name}`,
        );
      }
    }
    return { cluster, topics, problems };
  }

  private readState(name: string): LocalState {
    const file = join(this.opts.dataDir, "local.json");
    if (!existsSync(file)) return { cluster: name, managedTopics: {} };
    const state = JSON.parse(readFileSync(file, "utf8")) as LocalState;
    if (state.cluster !== name) {
      throw new LocalModeError(
        `the data directory ${this.opts.dataDir} holds KafkaCluster "${state.cluster}", not "${name}": use another --data-dir, or wipe it with: capstan local --reset`,
      );
    }
    return state;
  }

  private writeState(): void {
    writeFileSync(join(this.opts.dataDir, "local.json"), JSON.stringify(this.state, null, 2) + "\n");
  }

  async start(): Promise<void> {
    const { cluster, problems } = this.loadCluster();
    this.cluster = cluster;
    const name = cluster.resource.metadata.name!;
    mkdirSync(this.opts.dataDir, { recursive: true });
    this.state = this.readState(name);
    this.writeState();
    for (const p of problems) this.opts.log.warn(p);

    const n = this.brokerCount();
    const spec = { ...cluster.resource.spec, replicas: n };
    const addressing = loopbackAddressing(this.opts.portBase);
    for (let id = 0; id < n; id++) {
      for (const [port, what] of [
        [addressing.clientPort(id), "client"],
        [addressing.controllerPort(id), "controller"],
      ] as const) {
        if (!(await portFree(port))) {
          throw new LocalModeError(
            `port ${port} (broker ${id}'s ${what} port) is in use: stop what uses it, or choose other ports with --port-base`,
          );
        }
      }
    }
    const shared = join(this.opts.dataDir, "server.properties");
    // The brokers enforce the same topic policy on clients that create topics directly.
    const policy = renderTopicPolicy(spec);
    if (policy) writeFileSync(join(this.opts.dataDir, "topic-policy.json"), policy);
    writeFileSync(
      shared,
      renderProperties(
        clusterProperties(spec, addressing, join(this.opts.dataDir, "topic-policy.json")),
        `KafkaCluster ${name}, local mode.`,
      ),
    );
    for (let id = 0; id < n; id++) {
      const dir = join(this.opts.dataDir, `broker-${id}`);
      mkdirSync(dir, { recursive: true });
      const own = join(dir, "broker.properties");
      writeFileSync(
        own,
        renderProperties(brokerProperties(spec, id, addressing, "127.0.0.1"), `Broker ${id}, local mode.`),
      );
      const b = new BrokerProcess({
        id,
        dir,
        configFiles: [shared, own],
        overrides: [`log.dirs=${join(dir, "data")}`],
        clientPort: addressing.clientPort(id),
        log: this.opts.log,
      });
      this.brokers.push(b);
      b.start();
    }
    try {
      await Promise.all(this.brokers.map((b) => b.waitReady()));
    } catch (err) {
      await this.stop();
      throw new LocalModeError(String(err instanceof Error ? err.message : err));
    }
    this.admin = new TopicAdmin(this.bootstrapServers.split(","), "capstan-local");
    // Listening is not yet registered: topics are spread over every broker once all are in.
    await this.waitForBrokers(n);
    await this.reconcile();
    // The same lag exporter the operator runs per KafkaCluster.
    this.lag = new LagCollector({
      cluster: name,
      namespace: "",
      bootstrap: this.bootstrapServers.split(","),
      intervalMs: this.opts.lagIntervalMs ?? 10_000,
      log: this.opts.log.child("lag"),
    });
    const metrics = new LagMetrics();
    metrics.add(this.lag);
    this.lagServer = await serveLagMetrics(metrics, {
      port: this.opts.metricsPort ?? this.opts.portBase + 300,
      host: "127.0.0.1",
    });
    this.lag.start();
    this.watcher = watch(this.opts.manifestsDir, { recursive: true }, () => this.scheduleReconcile());
  }

  /** Waits (a while) until the cluster's metadata lists `n` live brokers. */
  private async waitForBrokers(n: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (Date.now() < deadline) {
      seen = await this.admin!.brokerCount().catch(() => 0);
      if (seen >= n) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    this.opts.log.warn(`only ${seen} of ${n} brokers registered; reconciling topics anyway`);
  }

  /** Reconciles shortly after a burst of file changes settles. */
  private scheduleReconcile(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.reconcile(), 300);
  }

  reconcile(): Promise<void> {
    this.reconciling = this.reconciling
      .then(() => this.reconcileNow())
      .catch((err: unknown) => {
        this.opts.log.error("reconcile failed", { error: err instanceof Error ? err.message : String(err) });
      });
    return this.reconciling;
  }

  private async reconcileNow(): Promise<void> {
    const admin = this.admin!;
    let loaded: ReturnType<LocalCluster["loadCluster"]>;
    try {
      loaded = this.loadCluster();
    } catch (err) {
      this.opts.log.error(String(err instanceof Error ? err.message : err));
      return;
    }
    const kc = loaded.cluster.resource;
    const facts = {
      brokerCount: this.brokerCount(),
      policy: kc.spec.topicPolicy,
      defaultConfig: clusterTopicDefaults({ ...kc, spec: { ...kc.spec, replicas: this.brokerCount() } }),
    };
    const topics: TopicStatus[] = [];
    const wanted = new Set<string>();
    for (const t of loaded.topics) {
      const topicName = topicNameOf(t.resource);
      wanted.add(topicName);
      const st: TopicStatus = {
        resource: t.resource.metadata.name!,
        file: `${t.file}:${t.line}`,
        topicName,
        ready: false,
        reason: "Reconciling",
        message: "",
      };
      try {
        const actual = await admin.describe(topicName);
        const plan = planTopic(t.resource, actual, facts);
        const blocking = plan.problems.find((p) => p.blocking);
        if (!blocking) {
          for (const a of plan.actions) {
            await admin.apply(a);
            if (a.kind === "create")
              this.opts.log.info(`created topic ${a.name}`, {
                partitions: a.partitions,
                replicationFactor: a.replicationFactor,
              });
            if (a.kind === "create-partitions")
              this.opts.log.info(`topic ${a.name} grown to ${a.count} partitions`);
            if (a.kind === "set-configs" && a.reverted.length > 0) {
              this.opts.log.warn(
                `topic ${a.name}: reverted configs changed outside the manifests: ${a.reverted.join(", ")}`,
              );
            }
          }
          this.state.managedTopics[topicName] = {
            // spec.deletionPolicy as the operator reads it, or the older annotation.
            deletionPolicy:
              retainsTopic(t.resource) ||
              t.resource.metadata.annotations?.[DELETION_POLICY_ANNOTATION] === "Retain"
                ? "Retain"
                : "Delete",
          };
        }
        const now = await admin.describe(topicName);
        const problem = plan.problems[0];
        Object.assign(st, {
          ready: !problem && now !== null,
          reason: problem ? problem.reason : plan.warnings.length > 0 ? "ReadyWithPolicyWarnings" : "Ready",
          message:
            problem?.message ?? (plan.warnings.join("; ") || `topic ${topicName} matches the manifest`),
          topicId: now?.topicId,
          partitions: now?.partitions,
          replicationFactor: now?.replicationFactor,
        });
      } catch (err) {
        Object.assign(st, {
          ready: false,
          reason: "KafkaError",
          message: err instanceof Error ? err.message : String(err),
        });
      }
      topics.push(st);
    }
    for (const [topicName, m] of Object.entries(this.state.managedTopics)) {
      if (wanted.has(topicName)) continue;
      if (m.deletionPolicy === "Delete") {
        await admin.delete(topicName);
        this.opts.log.info(`deleted topic ${topicName} (its KafkaTopic was removed)`);
      } else {
        this.opts.log.info(`kept topic ${topicName}: its KafkaTopic was removed with deletionPolicy: Retain`);
      }
      delete this.state.managedTopics[topicName];
    }
    this.writeState();
    this.publish(loaded.cluster.resource.metadata.name!, topics, loaded.problems);
  }

  private publish(cluster: string, topics: TopicStatus[], problems: string[]): void {
    const prev = new Map((this.status?.topics ?? []).map((t) => [t.resource, t]));
    this.status = {
      cluster,
      bootstrapServers: this.bootstrapServers,
      brokers: this.brokers.map((b, id) => ({
        id,
        pid: b.pid,
        port: this.opts.portBase + id,
        log: b.logFile,
      })),
      topics,
      problems,
      updated: new Date().toISOString(),
    };
    writeFileSync(join(this.opts.dataDir, "status.json"), JSON.stringify(this.status, null, 2) + "\n");
    for (const t of topics) {
      const p = prev.get(t.resource);
      if (p && p.ready === t.ready && p.reason === t.reason && p.message === t.message) continue;
      const line = `KafkaTopic ${t.resource} (${t.topicName}): Ready=${t.ready ? "True" : "False"} ${t.reason}${t.ready ? "" : `: ${t.message}`}`;
      if (t.ready) this.opts.log.info(line);
      else this.opts.log.warn(line, { file: t.file });
    }
    for (const p of problems) this.opts.log.warn(p);
  }

  /** The consumer-lag metrics URL. */
  get metricsUrl(): string | undefined {
    return this.lagServer ? `http://127.0.0.1:${this.lagServer.port}/metrics` : undefined;
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    await this.lag?.stop();
    await this.lagServer?.close();
    if (this.pending) clearTimeout(this.pending);
    await this.reconciling;
    await this.admin?.close().catch(() => undefined);
    // One at a time: each broker's controlled shutdown hands its leaderships to brokers
    // still running, and the controller quorum keeps its majority until the last ones.
    // A Ctrl-C reaches every broker at once: none of them is restarted meanwhile.
    for (const b of this.brokers) b.keepDown();
    for (const b of this.brokers) await b.stop();
  }

  /** The process of broker `id` (tests kill it to see it restarted). */
  broker(id: number): BrokerProcess {
    return this.brokers[id];
  }
}

/** Reads the status local mode last wrote. */
export function readStatus(dataDir: string): LocalStatus | undefined {
  const file = join(resolve(dataDir), "status.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as LocalStatus) : undefined;
}

/** Deletes local mode's data directory. */
export function resetDataDir(dataDir: string): void {
  rmSync(resolve(dataDir), { recursive: true, force: true });
}
