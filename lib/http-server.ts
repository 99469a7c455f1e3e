// Starting and stopping an express app's HTTP server, shared by the operator's health and
// metrics server and the standalone lag exporter.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";

export interface RunningServer {
  /** The bound port (useful when 0 asked for any free one). */
  port: number;
  /** Stops listening and drops open (keep-alive) connections, so close never waits on a scraper. */
  close(): Promise<void>;
}

/** Listens on host:port (port 0: any free port); rejects when the port cannot be bound. */
export function listen(app: Express, port: number, host: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host, (err?: Error) => {
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
