// The lag metrics over HTTP. mountLagMetrics adds the route to an express app (the
// operator's server, local mode); serveLagMetrics is a server of its own (the standalone
// entry, tests). The handler only renders the latest snapshots: no Kafka I/O per scrape.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type { Registry } from "prom-client";
import type { LagMetrics } from "./metrics.ts";

export interface MountOptions {
  /** Route; default /metrics. */
  path?: string;
  /**
   * Registries served on the same route after the lag families (e.g. the operator's own),
   * so one /metrics carries both. Their metric names must not collide with the lag ones.
   */
  also?: readonly Registry[];
}

export function mountLagMetrics(app: express.Express, metrics: LagMetrics, opts: MountOptions = {}): void {
  const registries = [metrics.registry, ...(opts.also ?? [])];
  app.get(opts.path ?? "/metrics", async (_req, res) => {
    try {
      const parts = await Promise.all(registries.map((r) => r.metrics()));
      res.type(metrics.contentType).send(parts.filter((p) => p.length > 0).join("\n"));
    } catch (err) {
      res
        .status(500)
        .type("text/plain")
        .send(`metrics collection failed: ${err instanceof Error ? err.message : err}\n`);
    }
  });
}

export interface LagMetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics (and /healthz) on host:port; port 0 picks a free one. */
export function serveLagMetrics(
  metrics: LagMetrics,
  opts: { port: number; host?: string; also?: readonly Registry[] },
): Promise<LagMetricsServer> {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });
  mountLagMetrics(app, metrics, { also: opts.also });
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(opts.port, opts.host ?? "127.0.0.1", (err?: Error) => {
      if (err) return reject(err);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
  });
}
