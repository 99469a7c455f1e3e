// A Capstan cluster of several broker processes on loopback for the cluster suites:
// combined broker+controller nodes (the first three are the controller quorum, as the
// operator lays a cluster out), each with its own data dir, client port and controller
// port, all started together (a quorum needs a majority before anyone is ready).
//
//   const cluster = await startCapstanCluster({ brokers: 3 });
//   cluster.bootstrap                 // "127.0.0.1:p0,127.0.0.1:p1,127.0.0.1:p2"
//   await cluster.broker(1).kill();   // SIGKILL; .restart() brings it back on the same ports/data
//   await cluster.close();
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startCapstan, type TestBroker } from "./capstan.ts";
import { freePort, probeMetadata, type MetadataProbe } from "./kafka.ts";

/** Timings that make failover take seconds, not tens of seconds. */
export const FAST_FAILOVER: Record<string, string> = {
  "broker.session.timeout.ms": "3000",
  "broker.heartbeat.interval.ms": "500",
  "controller.quorum.election.timeout.ms": "500",
  "controller.quorum.fetch.timeout.ms": "1000",
  "replica.lag.time.max.ms": "5000",
  "replica.fetch.wait.max.ms": "200",
  "replica.fetch.backoff.ms": "200",
  "leader.imbalance.check.interval.seconds": "5",
};

export interface CapstanCluster {
  readonly brokers: readonly TestBroker[];
  /** Every broker's client address, comma-separated. */
  readonly bootstrap: string;
  broker(id: number): TestBroker;
  /** Broker `id`'s Prometheus endpoint (capstan.metrics.listener). */
  metricsUrl(id: number): string;
  /** A Metadata answer from any broker that is up. */
  metadata(): Promise<MetadataProbe>;
  close(): Promise<void>;
}

export async function startCapstanCluster(
  opts: { brokers?: number; overrides?: Record<string, string>; env?: NodeJS.ProcessEnv } = {},
): Promise<CapstanCluster> {
  const n = opts.brokers ?? 3;
  const controllers = n >= 3 ? 3 : 1;
  const root = await mkdtemp(path.join(os.tmpdir(), "capstan-cluster-"));
  const clientPorts: number[] = [];
  const controllerPorts: number[] = [];
  const metricsPorts: number[] = [];
  for (let i = 0; i < n; i++) {
    clientPorts.push(await freePort());
    controllerPorts.push(await freePort());
    metricsPorts.push(await freePort());
  }
  const voters = Array.from(
    { length: controllers },
    (_, id) => `${id}@127.0.0.1:${controllerPorts[id]}`,
  ).join(",");
  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, id) => {
      const controller = id < controllers;
      const listeners = [`PLAINTEXT://127.0.0.1:${clientPorts[id]}`];
      if (controller) listeners.push(`CONTROLLER://127.0.0.1:${controllerPorts[id]}`);
      return startCapstan({
        port: clientPorts[id],
        dataDir: path.join(root, `broker-${id}`),
        env: opts.env,
        startTimeoutMs: 60_000,
        stopTimeoutMs: 30_000,
        ready: (md) => md.brokers.some((b) => b.nodeId === id),
        overrides: {
          "node.id": String(id),
          "process.roles": controller ? "broker,controller" : "broker",
          listeners: listeners.join(","),
          "advertised.listeners": `PLAINTEXT://127.0.0.1:${clientPorts[id]}`,
          "controller.quorum.voters": voters,
          "controller.listener.names": "CONTROLLER",
          "inter.broker.listener.name": "PLAINTEXT",
          "capstan.metrics.listener": `http://127.0.0.1:${metricsPorts[id]}`,
          "default.replication.factor": String(Math.min(3, n)),
          "offsets.topic.replication.factor": String(Math.min(3, n)),
          "min.insync.replicas": String(Math.max(1, Math.min(3, n) - 1)),
          ...FAST_FAILOVER,
          ...opts.overrides,
        },
      });
    }),
  );
  const failed = started.find((s) => s.status === "rejected");
  const brokers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  if (failed) {
    await Promise.allSettled(brokers.map((b) => b.kill()));
    await rm(root, { recursive: true, force: true });
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    brokers,
    bootstrap: brokers.map((b) => b.bootstrap).join(","),
    broker: (id) => brokers[id],
    metricsUrl: (id) => `http://127.0.0.1:${metricsPorts[id]}/metrics`,
    async metadata() {
      let last: unknown;
      for (const b of brokers) {
        if (!b.alive()) continue;
        try {
          return await probeMetadata(b.host, b.port, 2000);
        } catch (e) {
          last = e;
        }
      }
      throw new Error(`no broker answered Metadata: ${String(last)}`);
    },
    async close() {
      // CAPSTAN_TEST_LOGS=<dir>: every broker's output is kept there, for a look after a failure.
      const keepLogs = process.env.CAPSTAN_TEST_LOGS;
      if (keepLogs) {
        await mkdir(keepLogs, { recursive: true });
        for (const [id, b] of brokers.entries()) {
          await writeFile(path.join(keepLogs, `${path.basename(root)}-broker-${id}.log`), b.logs());
        }
      }
      const results = await Promise.allSettled(brokers.map((b) => b.close()));
      if (process.env.CAPSTAN_TEST_KEEP !== "1") await rm(root, { recursive: true, force: true });
      const bad = results.find((r) => r.status === "rejected");
      if (bad) throw (bad as PromiseRejectedResult).reason;
    },
  };
}
