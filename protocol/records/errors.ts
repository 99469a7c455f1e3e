// Typed errors for record batches. Unlike a wire-level ProtocolError (which closes
// the connection), a bad batch fails only its own partition in a Produce response,
// so each error carries the Kafka error name the broker should answer with.

/**
 * The Kafka error a bad batch maps to:
 * - CORRUPT_MESSAGE: the batch framing is broken (length, magic, CRC) or the
 *   compressed payload cannot be decoded; the bytes are not what the producer sent.
 * - INVALID_RECORD: the bytes are intact (the CRC matched) but say something the
 *   format forbids: a count that disagrees with the offsets, a malformed record.
 * - UNSUPPORTED_COMPRESSION_TYPE: the codec bits name no codec we know.
 * - MESSAGE_TOO_LARGE: a size limit was hit (a batch over the allowed size, or a
 *   payload that decompresses to more than the caller allowed).
 */
export type RecordBatchErrorCode =
  "CORRUPT_MESSAGE" | "INVALID_RECORD" | "UNSUPPORTED_COMPRESSION_TYPE" | "MESSAGE_TOO_LARGE";

/** Kafka's numeric error codes for the names above, as they go on the wire. */
export const RECORD_BATCH_ERROR_CODES: { readonly [K in RecordBatchErrorCode]: number } = {
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
};

export class RecordBatchError extends Error {
  readonly code: RecordBatchErrorCode;

  constructor(code: RecordBatchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RecordBatchError";
    this.code = code;
  }

  /** The numeric Kafka error code for `code`. */
  get errorCode(): number {
    return RECORD_BATCH_ERROR_CODES[this.code];
  }
}

/** The error for a payload that decompresses to more than the caller allowed. */
export function decompressedTooLarge(maxBytes: number): RecordBatchError {
  return new RecordBatchError("MESSAGE_TOO_LARGE", `records decompress to more than ${maxBytes} bytes`);
}

/** The message of anything thrown, for wrapping third-party errors. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
