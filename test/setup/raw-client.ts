// A minimal Kafka client over one TCP connection, built on the generated codecs, for
// tests that need exact control over versions and bytes (real clients cover the rest).
import { connect, type Socket } from "node:net";
import type { ApiDefinition } from "../../protocol/generated/apis.ts";
import { decodeResponse, encodeRequest } from "../../protocol/frame.ts";

export class RawClient {
  private readonly socket: Socket;
  private buffer = Buffer.alloc(0);
  private readonly waiting: Array<(frame: Buffer) => void> = [];
  private correlationId = 0;
  private closedError: Error | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4) {
        const size = this.buffer.readInt32BE(0);
        if (this.buffer.length < 4 + size) break;
        const frame = this.buffer.subarray(4, 4 + size);
        this.buffer = this.buffer.subarray(4 + size);
        this.waiting.shift()?.(frame);
      }
    });
    socket.on("close", () => {
      this.closedError = new Error("connection closed by the broker");
      for (const w of this.waiting.splice(0)) w(Buffer.alloc(0));
    });
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  /** Sends raw bytes (tests of malformed input). */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for the next response frame (without its size prefix). */
  nextFrame(timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closedError) return reject(this.closedError);
      const timer = setTimeout(() => reject(new Error("no response in time")), timeoutMs);
      this.waiting.push((f) => {
        clearTimeout(timer);
        if (this.closedError && f.length === 0) reject(this.closedError);
        else resolve(f);
      });
    });
  }

  async request<Req, Res>(api: ApiDefinition<Req, Res>, version: number, body: Req): Promise<Res> {
    const id = ++this.correlationId;
    const bytes = encodeRequest(api as ApiDefinition, version, id, "capstan-test", body);
    const response = this.nextFrame();
    this.socket.write(bytes);
    const frame = await response;
    const decoded = decodeResponse(api as ApiDefinition, version, frame);
    if (decoded.correlationId !== id)
      throw new Error(`correlation id ${decoded.correlationId}, expected ${id}`);
    return decoded.body as Res;
  }

  /** Resolves when the broker closes the connection. */
  closed(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed || this.closedError) return resolve();
      const timer = setTimeout(() => reject(new Error("connection still open")), timeoutMs);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
