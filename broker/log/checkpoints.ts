// Kafka's small text files in each log dir, in Kafka's formats so Kafka's tools and
// an operator's eyes read them the same:
//
//   recovery-point-offset-checkpoint, log-start-offset-checkpoint (and, per
//   partition, leader-epoch-checkpoint) share one layout:
//     0                  <- format version
//     2                  <- number of entries
//     orders 0 1042      <- one entry per line, space-separated
//     orders 1 977
//
//   meta.properties is a Java properties file identifying the directory:
//     version=1, cluster.id=..., node.id=..., directory.id=...
//
// Every write replaces the file atomically (temporary file, fsync, rename).
import path from "node:path";
import { readFileIfExists, writeFileAtomically } from "./atomic-file.ts";
import { META_PROPERTIES_FILE } from "./file-names.ts";

export const CHECKPOINT_VERSION = 0;

export class MalformedCheckpointError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "MalformedCheckpointError";
  }
}

/** The text of a checkpoint file holding `lines`. */
export function formatCheckpoint(lines: readonly string[], version = CHECKPOINT_VERSION): string {
  return [String(version), String(lines.length), ...lines].map((l) => l + "\n").join("");
}

/** The entry lines of a checkpoint file, split into fields; throws MalformedCheckpointError. */
export function parseCheckpoint(text: string, file: string, version = CHECKPOINT_VERSION): string[][] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length < 2) throw new MalformedCheckpointError(file, "missing the version and count lines");
  if (lines[0].trim() !== String(version)) {
    throw new MalformedCheckpointError(
      file,
      `unrecognized version ${JSON.stringify(lines[0])}, expected ${version}`,
    );
  }
  const count = Number(lines[1].trim());
  if (!/^\d+$/.test(lines[1].trim()))
    throw new MalformedCheckpointError(file, `bad entry count ${JSON.stringify(lines[1])}`);
  const entries = lines.slice(2);
  if (entries.length !== count) {
    throw new MalformedCheckpointError(file, `expected ${count} entries, found ${entries.length}`);
  }
  return entries.map((l) => l.trim().split(/\s+/));
}

/** Reads a checkpoint file's entries with `parseEntry`, or null if the file does not exist. */
export async function readCheckpointFile<T>(
  file: string,
  parseEntry: (fields: string[]) => T | null,
): Promise<T[] | null> {
  const text = await readFileIfExists(file);
  if (text === null) return null;
  return parseCheckpoint(text, file).map((fields, i) => {
    const entry = parseEntry(fields);
    if (entry === null)
      throw new MalformedCheckpointError(
        file,
        `malformed entry ${i + 1}: ${JSON.stringify(fields.join(" "))}`,
      );
    return entry;
  });
}

export async function writeCheckpointFile(file: string, lines: readonly string[]): Promise<void> {
  await writeFileAtomically(file, formatCheckpoint(lines));
}

export interface OffsetCheckpointEntry {
  topic: string;
  partition: number;
  offset: number;
}

function parseInteger(text: string): number | null {
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** A per-partition offset checkpoint (recovery points, log start offsets); [] if the file is missing. */
export async function readOffsetCheckpoint(file: string): Promise<OffsetCheckpointEntry[]> {
  const entries = await readCheckpointFile(file, (fields) => {
    if (fields.length !== 3) return null;
    const partition = parseInteger(fields[1]);
    const offset = parseInteger(fields[2]);
    if (partition === null || partition < 0 || offset === null) return null;
    return { topic: fields[0], partition, offset };
  });
  return entries ?? [];
}

export async function writeOffsetCheckpoint(
  file: string,
  entries: readonly OffsetCheckpointEntry[],
): Promise<void> {
  await writeCheckpointFile(
    file,
    entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`),
  );
}

// ---- meta.properties ----

export interface MetaProperties {
  /** 1 for KRaft (cluster.id + node.id), 0 for the ZooKeeper era (broker.id). */
  version: number;
  clusterId?: string;
  nodeId?: number;
  /** This directory's own id (KRaft, Kafka 3.7+), a Kafka UUID in base64. */
  directoryId?: string;
  /** Any other properties found, kept so a rewrite does not lose them. */
  other: Record<string, string>;
}

/** Parses Java properties text: key=value or key:value lines, # and ! comments, backslash escapes. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const physical = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < physical.length; i++) {
    let line = physical[i].replace(/^[ \t\f]+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    // A line ending in an odd number of backslashes continues on the next one.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < physical.length) {
      line = line.slice(0, -1) + physical[++i].replace(/^[ \t\f]+/, "");
    }
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]\s*(.*)$/s.exec(line);
    const key = m ? m[1] : line;
    const value = m ? m[2] : "";
    out[unescapeProperty(key)] = unescapeProperty(value);
  }
  return out;
}

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c === "f" ? "\f" : c;
  });
}

function escapeProperty(s: string, isKey: boolean): string {
  let out = "";
  for (const ch of s) {
    if (ch === "\\" || ch === "=" || ch === ":" || ch === "#" || ch === "!") out += "\\" + ch;
    else if (ch === " " && (isKey || out === "")) out += "\\ ";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return out;
}

/** Java properties text, with Properties.store's comment header (an empty comment and the date). */
export function formatProperties(props: Readonly<Record<string, string>>, date = new Date()): string {
  const lines = ["#", "#" + date.toUTCString()];
  for (const [k, v] of Object.entries(props))
    lines.push(`${escapeProperty(k, true)}=${escapeProperty(v, false)}`);
  return lines.join("\n") + "\n";
}

/** The meta.properties of a log dir, or null if it has none. */
export async function readMetaProperties(dir: string): Promise<MetaProperties | null> {
  const file = path.join(dir, META_PROPERTIES_FILE);
  const text = await readFileIfExists(file);
  if (text === null) return null;
  const props = parseProperties(text);
  const {
    version,
    "cluster.id": clusterId,
    "node.id": nodeId,
    "directory.id": directoryId,
    ...other
  } = props;
  const v = parseInteger(version ?? "");
  if (v === null)
    throw new MalformedCheckpointError(file, `bad or missing version ${JSON.stringify(version)}`);
  const node = nodeId === undefined ? undefined : parseInteger(nodeId);
  if (node === null) throw new MalformedCheckpointError(file, `bad node.id ${JSON.stringify(nodeId)}`);
  return { version: v, clusterId, nodeId: node, directoryId, other };
}

export async function writeMetaProperties(dir: string, meta: MetaProperties): Promise<void> {
  const props: Record<string, string> = { ...meta.other, version: String(meta.version) };
  if (meta.clusterId !== undefined) props["cluster.id"] = meta.clusterId;
  if (meta.nodeId !== undefined) props["node.id"] = String(meta.nodeId);
  if (meta.directoryId !== undefined) props["directory.id"] = meta.directoryId;
  await writeFileAtomically(path.join(dir, META_PROPERTIES_FILE), formatProperties(props));
}
