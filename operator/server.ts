// The operator's HTTP endpoints for the kubelet and Prometheus: /healthz (the process
// answers), /readyz (every informer has listed its resources: a leader can reconcile and
// a standby can take over at once, so both are ready), /metrics (prom-client).
import express from "express";
import type { Registry } from "prom-client";
import { listen, type RunningServer } from "../lib/http-server.ts";

export interface ServerTarget {
  readonly ready: boolean;
  readonly isLeader: boolean;
}

export function operatorApp(target: ServerTarget, registry: Registry): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });
  app.get("/readyz", (_req, res) => {
    const role = target.isLeader ? "leader" : "standby";
    if (target.ready) res.type("text/plain").send(`ok (${role})\n`);
    else res.status(503).type("text/plain").send(`caches not synced yet (${role})\n`);
  });
  app.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return app;
}

export type OperatorServer = RunningServer;

/** Listens on host:port (port 0: any free port). */
export function startOperatorServer(
  target: ServerTarget,
  registry: Registry,
  opts: { port: number; host?: string },
): Promise<OperatorServer> {
  return listen(operatorApp(target, registry), opts.port, opts.host ?? "0.0.0.0");
}
