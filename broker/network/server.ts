// Accepts client connections on the configured listeners and hands each one to a
// Connection. Closing the server ends every connection.
import { createServer, type Server } from "node:net";
import type { Logger } from "../../lib/logger.ts";
import type { ListenerAddress } from "../config.ts";
import { Connection, type Dispatch } from "./connection.ts";

export interface SocketServerOptions {
  maxRequestSize: number;
  idleMs: number;
  dispatch: Dispatch;
  log: Logger;
  onConnectionCountChange?: (listener: string, delta: number) => void;
}

export class SocketServer {
  private readonly opts: SocketServerOptions;
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private nextId = 0;
  /** The ports actually bound, by listener name (port 0 in the config picks a free one). */
  readonly boundPorts = new Map<string, number>();

  constructor(opts: SocketServerOptions) {
    this.opts = opts;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(listeners: ListenerAddress[]): Promise<void> {
    for (const l of listeners) {
      const server = createServer((socket) => {
        const id = `${l.name}-${++this.nextId}`;
        const conn = new Connection(
          socket,
          { id, remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`, listener: l.name },
          {
            maxRequestSize: this.opts.maxRequestSize,
            idleMs: this.opts.idleMs,
            dispatch: this.opts.dispatch,
            log: this.opts.log,
            onClose: () => {
              if (this.connections.delete(conn)) this.opts.onConnectionCountChange?.(l.name, -1);
            },
          },
        );
        this.connections.add(conn);
        this.opts.onConnectionCountChange?.(l.name, 1);
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: l.host === "" ? undefined : l.host, port: l.port }, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const addr = server.address();
      if (addr && typeof addr === "object") this.boundPorts.set(l.name, addr.port);
      this.servers.push(server);
    }
  }

  async close(): Promise<void> {
    for (const c of [...this.connections]) c.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.length = 0;
  }
}
