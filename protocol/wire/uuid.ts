// Kafka UUIDs (topic ids, incarnation ids) travel as 16 raw bytes and are shown
// to people in URL-safe base64 without padding, as Kafka's own tools print them.
import { randomBytes } from "node:crypto";
import { EncodeError } from "./errors.ts";

/** The all-zero UUID Kafka uses for "no id". */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

export function uuidFromBytes(buf: Buffer, pos: number): string {
  return buf.toString("base64url", pos, pos + 16);
}

export function uuidToBytes(id: string): Buffer {
  const b = Buffer.from(id, "base64url");
  if (b.length !== 16 || b.toString("base64url") !== id) {
    throw new EncodeError(`not a Kafka UUID (22 characters of URL-safe base64): ${JSON.stringify(id)}`);
  }
  return b;
}

/** A random (version 4) UUID, never the zero UUID or one starting with '-' (Kafka avoids both). */
export function randomUuid(): string {
  for (;;) {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const id = b.toString("base64url");
    if (id !== ZERO_UUID && !id.startsWith("-")) return id;
  }
}
