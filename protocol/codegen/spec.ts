// Reads Apache Kafka's JSON message definitions (JSON with `//` comments) into a
// small model: version ranges, fields, structs. The code generator and the
// round-trip tests both work from this model, so they agree on what a schema says.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** An inclusive version range; `max` is Infinity for "N+"; `none` is empty. */
export interface VersionRange {
  min: number;
  max: number;
}

export const NO_VERSIONS: VersionRange = { min: 0, max: -1 };

export function parseVersions(text: string | undefined, fallback: VersionRange = NO_VERSIONS): VersionRange {
  if (text === undefined) return fallback;
  const t = text.trim();
  if (t === "none") return NO_VERSIONS;
  let m = /^(\d+)\+$/.exec(t);
  if (m) return { min: Number(m[1]), max: Infinity };
  m = /^(\d+)-(\d+)$/.exec(t);
  if (m) return { min: Number(m[1]), max: Number(m[2]) };
  m = /^(\d+)$/.exec(t);
  if (m) return { min: Number(m[1]), max: Number(m[1]) };
  throw new Error(`bad version range ${JSON.stringify(text)}`);
}

export function isEmpty(r: VersionRange): boolean {
  return r.max < r.min;
}

export function contains(r: VersionRange, v: number): boolean {
  return v >= r.min && v <= r.max;
}

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}

export type PrimitiveType =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "uuid"
  | "string"
  | "bytes"
  | "records";

export const PRIMITIVES: ReadonlySet<string> = new Set([
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "uuid",
  "string",
  "bytes",
  "records",
]);

/** A field's type: a primitive, a struct (by name), or an array of either. */
export type FieldType =
  | { kind: "primitive"; name: PrimitiveType }
  | { kind: "struct"; name: string }
  | { kind: "array"; element: FieldType };

export interface FieldSpec {
  name: string;
  type: FieldType;
  versions: VersionRange;
  nullableVersions: VersionRange;
  /** Set when the field is tagged. */
  tag?: number;
  taggedVersions: VersionRange;
  /** A field-level override of the message's flexible versions (only RequestHeader.ClientId). */
  flexibleVersions?: VersionRange;
  ignorable: boolean;
  /** The schema's default, as written (e.g. "-1", "null", "true"). */
  default?: string;
  about?: string;
}

export interface StructSpec {
  name: string;
  fields: FieldSpec[];
}

export type MessageKind = "request" | "response" | "header" | "data" | "metadata";

export interface MessageSpec {
  name: string;
  kind: MessageKind;
  apiKey?: number;
  validVersions: VersionRange;
  flexibleVersions: VersionRange;
  deprecatedVersions: VersionRange;
  latestVersionUnstable: boolean;
  listeners: string[];
  fields: FieldSpec[];
  /** Every struct the message uses, inline or common, by name (the message itself excluded). */
  structs: Map<string, StructSpec>;
  /** Source file name, relative to the definitions folder. */
  source: string;
}

/** Removes `//` comments that are outside string literals. */
export function stripComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else {
      out += c;
    }
  }
  return out;
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  ignorable?: boolean;
  default?: string | number | boolean;
  about?: string;
  fields?: RawField[];
}

interface RawMessage {
  apiKey?: number;
  type: MessageKind;
  name: string;
  validVersions: string;
  flexibleVersions?: string;
  deprecatedVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: Array<{ name: string; versions?: string; fields: RawField[] }>;
}

function parseType(text: string): FieldType {
  if (text.startsWith("[]")) return { kind: "array", element: parseType(text.slice(2)) };
  if (PRIMITIVES.has(text)) return { kind: "primitive", name: text as PrimitiveType };
  return { kind: "struct", name: text };
}

export function parseMessage(text: string, source: string): MessageSpec {
  const raw = JSON.parse(stripComments(text)) as RawMessage;
  const structs = new Map<string, StructSpec>();
  const validVersions = parseVersions(raw.validVersions);

  const addStruct = (name: string, fields: FieldSpec[]): void => {
    const existing = structs.get(name);
    if (existing && JSON.stringify(existing.fields) !== JSON.stringify(fields)) {
      throw new Error(`${source}: struct ${name} is defined twice with different fields`);
    }
    structs.set(name, { name, fields });
  };

  const parseField = (f: RawField, parentVersions: VersionRange): FieldSpec => {
    // A tagged field without "versions" exists exactly in its tagged versions.
    const versions = parseVersions(
      f.versions,
      f.taggedVersions ? parseVersions(f.taggedVersions) : parentVersions,
    );
    const field: FieldSpec = {
      name: f.name,
      type: parseType(f.type),
      versions,
      nullableVersions: parseVersions(f.nullableVersions),
      taggedVersions: parseVersions(f.taggedVersions),
      ignorable: f.ignorable === true,
      about: f.about,
    };
    if (f.tag !== undefined) field.tag = f.tag;
    if (f.flexibleVersions !== undefined) field.flexibleVersions = parseVersions(f.flexibleVersions);
    if (f.default !== undefined) field.default = String(f.default);
    if (f.fields) {
      let t = field.type;
      while (t.kind === "array") t = t.element;
      if (t.kind !== "struct") throw new Error(`${source}: field ${f.name} has fields but type ${f.type}`);
      addStruct(
        t.name,
        f.fields.map((sub) => parseField(sub, versions)),
      );
    }
    return field;
  };

  for (const cs of raw.commonStructs ?? []) {
    const versions = parseVersions(cs.versions, validVersions);
    addStruct(
      cs.name,
      cs.fields.map((f) => parseField(f, versions)),
    );
  }
  const fields = raw.fields.map((f) => parseField(f, validVersions));

  const check = (fs: FieldSpec[]): void => {
    for (const f of fs) {
      let t = f.type;
      while (t.kind === "array") t = t.element;
      if (t.kind === "struct" && !structs.has(t.name)) {
        throw new Error(`${source}: field ${f.name} refers to unknown struct ${t.name}`);
      }
    }
  };
  check(fields);
  for (const s of structs.values()) check(s.fields);

  return {
    name: raw.name,
    kind: raw.type,
    apiKey: raw.apiKey,
    validVersions,
    flexibleVersions: parseVersions(raw.flexibleVersions),
    deprecatedVersions: parseVersions(raw.deprecatedVersions),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: raw.listeners ?? [],
    fields,
    structs,
    source,
  };
}

/** The folders of definitions, relative to the definitions root. */
export const SPEC_FOLDERS = ["messages", "internal", "metadata"] as const;
export type SpecFolder = (typeof SPEC_FOLDERS)[number];

/** Where the definitions are: `CAPSTAN_KAFKA_PROTOCOL`, or `../shared/kafka-protocol` beside the repository. */
export function specRoot(): string {
  return (
    process.env.CAPSTAN_KAFKA_PROTOCOL ?? new URL("../../../shared/kafka-protocol", import.meta.url).pathname
  );
}

/** Every definition file in one folder, parsed, sorted by file name. */
export function loadFolder(root: string, folder: SpecFolder): MessageSpec[] {
  const dir = join(root, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => parseMessage(readFileSync(join(dir, f), "utf8"), `${folder}/${f}`));
}

/** Whether a field is carried in the tagged section at this version. */
export function isTaggedAt(f: FieldSpec, version: number): boolean {
  return f.tag !== undefined && contains(f.taggedVersions, version);
}

/** Whether a field is on the wire at all at this version (regular or tagged). */
export function isPresentAt(f: FieldSpec, version: number): boolean {
  return contains(f.versions, version);
}
