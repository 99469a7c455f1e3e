// Field-level helpers the generated codecs call. Each takes the two facts that
// change a field's encoding between versions, `flexible` (compact forms) and
// `nullable`, so the generated code stays one line per field.
import { isDeepStrictEqual } from "node:util";
import { EncodeError, ProtocolError } from "./errors.ts";
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

function nullNotAllowed(field: string): EncodeError {
  return new EncodeError(`${field} is null, but this version does not allow null`);
}

export function readString(r: Reader, flexible: boolean, nullable: boolean): string | null {
  if (flexible) return nullable ? r.compactNullableString() : r.compactString();
  return nullable ? r.nullableString() : r.string();
}

export function writeString(
  w: Writer,
  v: string | null,
  flexible: boolean,
  nullable: boolean,
  field: string,
): void {
  if (v === null && !nullable) throw nullNotAllowed(field);
  if (flexible) w.compactNullableString(v);
  else w.nullableString(v);
}

export function readBytes(r: Reader, flexible: boolean, nullable: boolean): Buffer | null {
  if (flexible) return nullable ? r.compactNullableBytes() : r.compactBytes();
  return nullable ? r.nullableBytes() : r.bytes();
}

export function writeBytes(
  w: Writer,
  v: Buffer | null,
  flexible: boolean,
  nullable: boolean,
  field: string,
): void {
  if (v === null && !nullable) throw nullNotAllowed(field);
  if (flexible) w.compactNullableBytes(v);
  else w.nullableBytes(v);
}

export function readArray<T>(
  r: Reader,
  flexible: boolean,
  nullable: boolean,
  element: (r: Reader) => T,
): T[] | null {
  const n = flexible ? r.compactArrayLength() : r.arrayLength();
  if (n < 0) {
    if (!nullable)
      throw new ProtocolError("invalid-value", "null array where the schema forbids null", r.pos);
    return null;
  }
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(element(r));
  return out;
}

export function writeArray<T>(
  w: Writer,
  v: readonly T[] | null,
  flexible: boolean,
  nullable: boolean,
  field: string,
  element: (w: Writer, e: T) => void,
): void {
  if (v === null) {
    if (!nullable) throw nullNotAllowed(field);
    if (flexible) w.uvarint(0);
    else w.int32(-1);
    return;
  }
  if (flexible) w.compactArrayLength(v.length);
  else w.arrayLength(v.length);
  for (const e of v) element(w, e);
}

/** A struct that may be null: an int8 marker (-1 null, 1 present) comes first. */
export function readNullableStruct<T>(r: Reader, nullable: boolean, struct: (r: Reader) => T): T | null {
  if (!nullable) return struct(r);
  const marker = r.int8();
  if (marker < 0) return null;
  return struct(r);
}

export function writeNullableStruct<T>(
  w: Writer,
  v: T | null,
  nullable: boolean,
  field: string,
  struct: (w: Writer, v: T) => void,
): void {
  if (!nullable) {
    if (v === null) throw nullNotAllowed(field);
    struct(w, v);
    return;
  }
  if (v === null) {
    w.int8(-1);
    return;
  }
  w.int8(1);
  struct(w, v);
}

/** Whether a value differs from its default (tagged fields are written only then). */
export function differs(v: unknown, dflt: unknown): boolean {
  if (v === dflt) return false;
  if (Buffer.isBuffer(v) && Buffer.isBuffer(dflt)) return !v.equals(dflt);
  if (Array.isArray(v) && Array.isArray(dflt)) return v.length !== 0 || dflt.length !== 0;
  if (typeof v === "object" && v !== null) return !isDeepStrictEqual(v, dflt);
  return true;
}

/** A field the target version lacks must hold its default, unless the schema marks it ignorable. */
export function checkAbsent(v: unknown, dflt: unknown, field: string, version: number): void {
  if (differs(v, dflt)) {
    throw new EncodeError(
      `${field} is set, but version ${version} cannot carry it (and it is not ignorable)`,
    );
  }
}
