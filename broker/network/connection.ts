// One client connection. Requests are handled one at a time, in arrival order, as
// Kafka does (clients pipeline and rely on in-order responses; a long-polling Fetch
// delays the requests behind it on the same connection). Reading pauses while a
// backlog of frames waits or the socket cannot take more output (backpressure).
import type { Socket } from "node:net";
import { ProtocolError } from "../../protocol/wire/index.ts";
import type { Logger } from "../../lib/logger.ts";
import { FrameReader } from "./frame-reader.ts";
import type { ConnectionInfo } from "../handlers/handler.ts";

/** Frames waiting before reading stops. */
const MAX_QUEUED_FRAMES = 64;

export type Dispatch = (frame: Buffer, conn: ConnectionInfo) => Promise<Buffer[] | null>;

export class Connection {
  readonly info: ConnectionInfo;
  private readonly socket: Socket;
  private readonly frames: FrameReader;
  private readonly queue: Buffer[] = [];
  private readonly dispatch: Dispatch;
  private readonly log: Logger;
  private running = false;
  private closed = false;
  private readonly onClose: () => void;

  constructor(
    socket: Socket,
    info: ConnectionInfo,
    opts: { maxRequestSize: number; idleMs: number; dispatch: Dispatch; log: Logger; onClose: () => void },
  ) {
    this.socket = socket;
    this.info = info;
    this.frames = new FrameReader(opts.maxRequestSize);
    this.dispatch = opts.dispatch;
    this.log = opts.log;
    this.onClose = opts.onClose;
    socket.setNoDelay(true);
    if (opts.idleMs > 0) {
      socket.setTimeout(opts.idleMs, () => {
        this.log.debug("closing idle connection", { connection: info.id, remote: info.remoteAddress });
        this.close();
      });
    }
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (err) => {
      this.log.debug("connection error", { connection: info.id, error: err.message });
      this.close();
    });
    socket.on("close", () => this.close());
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (frames.length === 0) return;
    this.queue.push(...frames);
    if (this.queue.length >= MAX_QUEUED_FRAMES) this.socket.pause();
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const frame = this.queue.shift()!;
        if (this.queue.length < MAX_QUEUED_FRAMES / 2 && this.socket.isPaused()) this.socket.resume();
        const response = await this.dispatch(frame, this.info);
        if (this.closed) return;
        if (response !== null && !this.write(response)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              this.socket.off("drain", done);
              this.socket.off("close", done);
              resolve();
            };
            this.socket.on("drain", done);
            this.socket.on("close", done);
          });
        }
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.running = false;
    }
  }

  /** Writes a response's buffers in one go; false when the socket's buffer is full. */
  private write(chunks: Buffer[]): boolean {
    if (chunks.length === 1) return this.socket.write(chunks[0]);
    this.socket.cork();
    let ok = true;
    for (const c of chunks) ok = this.socket.write(c) && ok;
    this.socket.uncork();
    return ok;
  }

  /** A malformed request or a failed handler closes this connection only. */
  private fail(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.log.warn("closing connection after a malformed request", {
        connection: this.info.id,
        remote: this.info.remoteAddress,
        error: err.message,
      });
    } else {
      this.log.error("closing connection after an internal error", {
        connection: this.info.id,
        remote: this.info.remoteAddress,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.socket.destroy();
    this.onClose();
  }
}
