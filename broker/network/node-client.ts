// An outbound connection from this broker to another node (a controller voter, a
// partition leader): requests are pipelined on one TCP connection and answered in
// order, as every Kafka server does. The connection is opened on first use and again
// after any failure, so callers simply retry; a failed or timed-out request fails
// every request behind it (their answers could no longer be matched reliably).
import { connect, type Socket } from "node:net";
import type { ApiDefinition } from "../../protocol/generated/apis.ts";
import { decodeResponse, encodeRequest } from "../../protocol/frame.ts";
import { FrameReader } from "./frame-reader.ts";

export interface NodeAddress {
  host: string;
  port: number;
}

/** Thrown for a request that got no answer: connection refused or lost, or a timeout. */
export class NodeUnreachableError extends Error {
  override name = "NodeUnreachableError";
}

interface Pending {
  correlationId: number;
  api: ApiDefinition;
  version: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const MAX_RESPONSE_SIZE = 256 * 1024 * 1024;

export class NodeClient {
  readonly address: NodeAddress;
  private readonly clientId: string;
  private readonly connectTimeoutMs: number;
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private readonly pending: Pending[] = [];
  private correlationId = 0;
  private closed = false;

  constructor(address: NodeAddress, opts: { clientId: string; connectTimeoutMs?: number }) {
    this.address = address;
    this.clientId = opts.clientId;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
  }

  /** Sends a request and resolves with the decoded response body; NodeUnreachableError if none comes. */
  async request<Req, Res>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: Req,
    timeoutMs: number,
  ): Promise<Res> {
    if (this.closed) throw new NodeUnreachableError("client closed");
    const socket = await this.open();
    if (this.socket !== socket) throw new NodeUnreachableError("connection lost");
    const correlationId = (this.correlationId = (this.correlationId + 1) & 0x7fffffff);
    const bytes = encodeRequest(api as ApiDefinition, version, correlationId, this.clientId, body);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          socket,
          new NodeUnreachableError(
            `${api.name} to ${this.address.host}:${this.address.port} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.push({
        correlationId,
        api: api as ApiDefinition,
        version,
        resolve: resolve as (b: unknown) => void,
        reject,
        timer,
      });
      socket.write(bytes);
    });
  }

  private open(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.address.host, port: this.address.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new NodeUnreachableError(`connect to ${this.address.host}:${this.address.port} timed out`));
      }, this.connectTimeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        s.setNoDelay(true);
        this.attach(s);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        reject(new NodeUnreachableError(`${this.address.host}:${this.address.port}: ${err.message}`));
      });
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private attach(s: Socket): void {
    this.socket = s;
    const frames = new FrameReader(MAX_RESPONSE_SIZE);
    s.on("data", (chunk) => {
      let out: Buffer[];
      try {
        out = frames.push(chunk);
      } catch (e) {
        this.fail(s, new NodeUnreachableError(`bad response frame: ${(e as Error).message}`));
        return;
      }
      for (const frame of out) this.onFrame(s, frame);
    });
    s.on("error", () => this.fail(s, new NodeUnreachableError("connection error")));
    s.on("close", () => this.fail(s, new NodeUnreachableError("connection closed")));
  }

  private onFrame(s: Socket, frame: Buffer): void {
    const p = this.pending.shift();
    if (!p) return this.fail(s, new NodeUnreachableError("response to no request"));
    clearTimeout(p.timer);
    try {
      const decoded = decodeResponse(p.api, p.version, frame);
      if (decoded.correlationId !== p.correlationId) {
        p.reject(new NodeUnreachableError(`correlation id ${decoded.correlationId}, not ${p.correlationId}`));
        this.fail(s, new NodeUnreachableError("responses out of order"));
        return;
      }
      p.resolve(decoded.body);
    } catch (e) {
      p.reject(e as Error);
      this.fail(s, new NodeUnreachableError(`undecodable ${p.api.name} response`));
    }
  }

  /** Drops the connection and fails everything in flight on it. */
  private fail(s: Socket, err: Error): void {
    if (this.socket !== s) return;
    this.socket = null;
    s.destroy();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /** Closes the connection; requests in flight fail. */
  close(): void {
    this.closed = true;
    if (this.socket) this.fail(this.socket, new NodeUnreachableError("client closed"));
  }
}
