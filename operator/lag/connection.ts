// One connection from the lag collector to one broker, speaking the protocol through the
// project's generated codecs (protocol/frame.ts). kafkajs cannot batch OffsetFetch over
// many groups (v8+), describe KIP-848 groups (ConsumerGroupDescribe) or fetch a single
// batch at a chosen offset without a consumer group, so the collector talks to brokers
// itself. Requests are pipelined (Kafka answers in order on a connection) and each has
// its own deadline; any socket error or timeout fails every request in flight and
// retires the connection, so a late answer can never be taken for another request's.
import net from "node:net";
import tls from "node:tls";
import { decodeResponse, encodeRequest } from "../../protocol/frame.ts";
import type { ApiDefinition } from "../../protocol/generated/apis.ts";

/** Larger frames are refused: a lag poll never needs one, a corrupt length would say so. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs: number;
  /** TLS options; plaintext when absent. */
  tls?: tls.ConnectionOptions;
}

interface Pending {
  api: ApiDefinition;
  version: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class BrokerConnection {
  private readonly socket: net.Socket;
  private readonly clientId: string;
  private readonly pending = new Map<number, Pending>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private nextCorrelationId = 1;
  private failure: Error | null = null;

  private constructor(socket: net.Socket, clientId: string) {
    this.socket = socket;
    this.clientId = clientId;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.fail(new Error("connection closed by the broker")));
  }

  static open(opts: ConnectionOptions): Promise<BrokerConnection> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls
        ? tls.connect({
            ...opts.tls,
            host: opts.host,
            port: opts.port,
            servername: opts.tls.servername ?? opts.host,
          })
        : net.connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${opts.host}:${opts.port} timed out after ${opts.connectTimeoutMs} ms`));
      }, opts.connectTimeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(new Error(`connect to ${opts.host}:${opts.port} failed: ${err.message}`));
      };
      socket.once("error", onError);
      socket.once(opts.tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        resolve(new BrokerConnection(socket, opts.clientId));
      });
    });
  }

  /** False once the connection failed or was closed: open a new one. */
  get usable(): boolean {
    return this.failure === null && !this.socket.destroyed;
  }

  request<Req, Res>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: Req,
    timeoutMs: number,
  ): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    const frame = encodeRequest(api as ApiDefinition, version, correlationId, this.clientId, body);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`${api.name} v${version} got no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, {
        api: api as ApiDefinition,
        version,
        resolve: resolve as (body: unknown) => void,
        reject,
        timer,
      });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.fail(new Error("connection closed"));
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.chunks.length === 1 ? this.chunks[0] : this.flatten();
      const size = head.readInt32BE(0);
      if (size < 4 || size > MAX_FRAME_BYTES) {
        this.fail(new Error(`response frame of ${size} bytes is out of range`));
        return;
      }
      if (this.buffered < 4 + size) return;
      const all = this.flatten();
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.dispatch(frame);
      if (this.failure) return;
    }
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  private dispatch(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (!p) {
      this.fail(new Error(`response with unknown correlation id ${correlationId}`));
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    try {
      p.resolve(decodeResponse(p.api, p.version, frame).body);
    } catch (err) {
      p.reject(new Error(`${p.api.name} v${p.version} response did not decode: ${messageOf(err)}`));
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.failure);
    }
    this.pending.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
