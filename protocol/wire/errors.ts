// Typed errors for the wire layer. Every failure to decode bytes from a peer is a
// ProtocolError, so the network layer can close that one connection and carry on;
// an EncodeError is a bug on our side (a value the chosen version cannot carry).

export type ProtocolErrorKind =
  | "truncated" // the input ended before the value did
  | "invalid-length" // a length or count field is negative, too large, or exceeds the input
  | "invalid-value" // a value the schema does not allow (null where not nullable, bad varint, ...)
  | "unsupported-version" // the version is outside the schema's valid versions
  | "trailing-bytes"; // bytes were left over after the message ended

export class ProtocolError extends Error {
  readonly kind: ProtocolErrorKind;
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;

  constructor(kind: ProtocolErrorKind, message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = "ProtocolError";
    this.kind = kind;
    this.offset = offset;
  }
}

export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EncodeError";
  }
}
