// The lag metrics over HTTP. mountLagMetrics adds the route to an express app (the
// operator's server, local mode); serveLagMetrics is a server of its own (the standalone
// entry, tests). The handler only renders the latest snapshots: no Kafka I/O per scrape.
import express from "express";
import type { Registry } from "prom-client";
import { listen, type RunningServer } from "../../lib/http-server.ts";
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

export type LagMetricsServer = RunningServer;

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
  return listen(app, opts.port, opts.host ?? "127.0.0.1");
}
