// `capstan operator`: runs the operator (KafkaCluster and KafkaTopic reconcilers on the controller runtime,
// leader election, the health/metrics server) until SIGTERM, then shuts down gracefully:
// informers stop, running reconciles finish, the lease is released so a standby takes
// over at once. startOperator() is the same thing as a function, for tests.
import { readFileSync } from "node:fs";
import os from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { Logger } from "../lib/logger.ts";
import { createLogger } from "../lib/logger.ts";
import { DEFAULT_IMAGE_REPOSITORY } from "./cluster/desired.ts";
import type { KafkaAdmin } from "./cluster/kafka-admin.ts";
import { KafkaClusterReconciler } from "./cluster/reconciler.ts";
import { LagExporterReconciler } from "./lag/lag-reconciler.ts";
import type { SharedCollectorOptions } from "./lag/lag-reconciler.ts";
import { LagMetrics } from "./lag/metrics.ts";
import type { KafkaCluster } from "./api/types.ts";
import { Manager } from "./runtime/manager.ts";
import type { TopicKafkaFactory } from "./topic/reconciler.ts";
import { KafkaTopicReconciler } from "./topic/reconciler.ts";
import type { OperatorServer } from "./server.ts";
import { startOperatorServer } from "./server.ts";

const PKG_VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
const SA_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export interface OperatorOptions {
  /** Watched namespaces; all when empty. */
  namespaces: string[];
  leaderElect: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  /** Port of /healthz, /readyz and /metrics; 0 for any free port, -1 for none. */
  metricsPort: number;
  metricsHost?: string;
  /** Kubeconfig file; else $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  kubeconfig?: string;
  /** Or a loaded KubeConfig (tests). */
  kubeConfig?: KubeConfig;
  brokerImage?: string;
  brokerVersion?: string;
  /** Name in the lease and in Events: $POD_NAME, else the host name. */
  identity?: string;
  concurrency?: number;
  resyncPeriodMs?: number;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: Logger;
  admin?: KafkaAdmin;
  /** How the KafkaTopic reconciler reaches a cluster's brokers (tests: a local broker). */
  topicKafka?: TopicKafkaFactory;
  /** How often a converged KafkaTopic is compared with Kafka again; 60 s by default. */
  topicResyncMs?: number;
  onLeadershipLost?: () => void;
  /** Export consumer lag for every managed cluster on /metrics; default true. */
  consumerLag?: boolean;
  /** Lag collector settings shared by all clusters (poll interval, ...). */
  lag?: SharedCollectorOptions;
  /** The brokers the lag exporter polls (tests: a local broker); the bootstrap Service by default. */
  lagBootstrap?: (kc: KafkaCluster) => string[];
}

export interface RunningOperator {
  manager: Manager;
  server: OperatorServer | undefined;
  stop(): Promise<void>;
}

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

/** The lease's namespace: the flag, else the pod's own namespace, else the kubeconfig's. */
function defaultLeaseNamespace(kc: KubeConfig, namespaces: string[]): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync(SA_NAMESPACE_FILE, "utf8").trim();
  } catch {
    // not in a pod
  }
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace ?? namespaces[0] ?? "default";
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const log = o.log ?? createLogger("operator");
  const kubeConfig = o.kubeConfig ?? loadKubeConfig(o.kubeconfig);
  const identity = o.identity ?? process.env.POD_NAME ?? os.hostname();
  const leaseNamespace = o.leaseNamespace ?? defaultLeaseNamespace(kubeConfig, o.namespaces);
  const manager = new Manager({
    kubeConfig,
    namespaces: o.namespaces,
    identity,
    leaderElection: o.leaderElect
      ? {
          namespace: leaseNamespace,
          name: o.leaseName ?? "capstan-operator",
          leaseDurationMs: o.leaseDurationMs,
          renewDeadlineMs: o.renewDeadlineMs,
          retryPeriodMs: o.retryPeriodMs,
        }
      : false,
    concurrency: o.concurrency,
    resyncPeriodMs: o.resyncPeriodMs,
    log,
    onLeadershipLost: o.onLeadershipLost,
  });
  manager.register(
    new KafkaClusterReconciler({
      operatorVersion: o.brokerVersion ?? PKG_VERSION,
      imageRepository: o.brokerImage,
      admin: o.admin,
    }),
  );
  const lag =
    o.consumerLag === false
      ? undefined
      : new LagExporterReconciler({
          metrics: new LagMetrics({ registry: manager.metrics.registry }),
          bootstrap: o.lagBootstrap,
          collector: o.lag,
        });
  if (lag) manager.register(lag);
  manager.register(
    new KafkaTopicReconciler({
      kafka: o.topicKafka,
      resyncMs: o.topicResyncMs,
      lag: lag ? (namespace, cluster, topic) => lag.topicLag(namespace, cluster, topic) : undefined,
    }),
  );
  const server =
    o.metricsPort >= 0
      ? await startOperatorServer(manager, manager.metrics.registry, {
          port: o.metricsPort,
          host: o.metricsHost,
        })
      : undefined;
  log.info("starting", {
    version: PKG_VERSION,
    identity,
    namespaces: o.namespaces.length ? o.namespaces.join(",") : "(all)",
    leaderElection: o.leaderElect ? `${leaseNamespace}/${o.leaseName ?? "capstan-operator"}` : "off",
    metricsPort: server?.port,
  });
  await manager.start();
  let stopping: Promise<void> | undefined;
  return {
    manager,
    server,
    stop: () =>
      (stopping ??= (async () => {
        await manager.stop();
        await lag?.stop();
        await server?.close();
      })()),
  };
}

function parseBool(v: string): boolean {
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new InvalidArgumentError("expected true or false");
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number");
  return n;
}

function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number");
  return n;
}

export function registerOperatorCommand(program: Command): void {
  program
    .command("operator")
    .description("run the Kubernetes operator for KafkaCluster and KafkaTopic resources")
    .option(
      "-n, --namespace <ns>",
      "watch this namespace (repeatable; all namespaces when unset)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--leader-elect [enabled]", "elect a leader among replicas through a Lease", parseBool, true)
    .option("--lease-namespace <ns>", "namespace of the leader-election Lease (default: the pod's namespace)")
    .option("--lease-name <name>", "name of the leader-election Lease", "capstan-operator")
    .option(
      "--leader-elect-lease-duration <seconds>",
      "how long a lease lasts without renewal",
      parsePositive,
      15,
    )
    .option(
      "--leader-elect-renew-deadline <seconds>",
      "how long the leader tries to renew",
      parsePositive,
      10,
    )
    .option("--leader-elect-retry-period <seconds>", "time between lease attempts", parsePositive, 2)
    .option("--metrics-port <port>", "port of /healthz, /readyz and /metrics", parsePort, 8080)
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config or in-cluster)")
    .option(
      "--broker-image <repository>",
      "broker image repository when spec.image is unset",
      DEFAULT_IMAGE_REPOSITORY,
    )
    .option("--broker-version <tag>", "broker image tag when spec.version is unset", PKG_VERSION)
    .option("--concurrency <n>", "most reconciles at once", parsePositive, 4)
    .option("--resync-minutes <n>", "reconcile every resource again this often", parsePositive, 10)
    .option(
      "--consumer-lag [enabled]",
      "export consumer lag of every managed cluster on /metrics",
      parseBool,
      true,
    )
    .option("--lag-poll-interval <seconds>", "time between two lag polls of a cluster", parsePositive, 30)
    .option(
      "--topic-resync-seconds <n>",
      "compare every ready KafkaTopic with its Kafka topic this often (reverts config drift)",
      parsePositive,
      60,
    )
    .action(
      async (opts: {
        namespace: string[];
        leaderElect: boolean;
        leaseNamespace?: string;
        leaseName: string;
        leaderElectLeaseDuration: number;
        leaderElectRenewDeadline: number;
        leaderElectRetryPeriod: number;
        metricsPort: number;
        kubeconfig?: string;
        brokerImage: string;
        brokerVersion: string;
        concurrency: number;
        resyncMinutes: number;
        consumerLag: boolean;
        lagPollInterval: number;
        topicResyncSeconds: number;
      }) => {
        const log = createLogger("operator");
        let leadershipLost: () => void = () => {};
        const lost = new Promise<"lost">((resolve) => (leadershipLost = () => resolve("lost")));
        const signal = new Promise<string>((resolve) => {
          process.once("SIGTERM", () => resolve("SIGTERM"));
          process.once("SIGINT", () => resolve("SIGINT"));
        });
        const op = await startOperator({
          namespaces: opts.namespace,
          leaderElect: opts.leaderElect,
          leaseNamespace: opts.leaseNamespace,
          leaseName: opts.leaseName,
          leaseDurationMs: opts.leaderElectLeaseDuration * 1000,
          renewDeadlineMs: opts.leaderElectRenewDeadline * 1000,
          retryPeriodMs: opts.leaderElectRetryPeriod * 1000,
          metricsPort: opts.metricsPort,
          kubeconfig: opts.kubeconfig,
          brokerImage: opts.brokerImage,
          brokerVersion: opts.brokerVersion,
          concurrency: opts.concurrency,
          resyncPeriodMs: opts.resyncMinutes * 60_000,
          consumerLag: opts.consumerLag,
          lag: { intervalMs: opts.lagPollInterval * 1000 },
          topicResyncMs: opts.topicResyncSeconds * 1000,
          log,
          onLeadershipLost: () => leadershipLost(),
        });
        const why = await Promise.race([signal, lost]);
        if (why !== "lost") log.info(`received ${why}, shutting down`);
        await op.stop();
        // Another replica may be reconciling already: exit non-zero so that Kubernetes
        // restarts this one as a candidate (main() turns the error into exit code 1).
        if (why === "lost") throw new Error("lost the leadership; exiting to start over as a candidate");
      },
    );
}
