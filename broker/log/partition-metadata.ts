// Kafka's partition.metadata file, which ties a partition directory to its topic id
// so that a directory left over from a deleted topic is never mistaken for the
// partition of a new topic with the same name:
//   version: 0
//   topic_id: <Kafka UUID, URL-safe base64>
import path from "node:path";
import { readFileIfExists, writeFileAtomically } from "./atomic-file.ts";
import { MalformedCheckpointError } from "./checkpoints.ts";
import { PARTITION_METADATA_FILE } from "./file-names.ts";

export const PARTITION_METADATA_VERSION = 0;

export function formatPartitionMetadata(topicId: string): string {
  return `version: ${PARTITION_METADATA_VERSION}\ntopic_id: ${topicId}\n`;
}

export function parsePartitionMetadata(text: string, file: string): string {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^([a-z_]+):\s*(.*?)\s*$/.exec(line);
    if (!m) throw new MalformedCheckpointError(file, `malformed line ${JSON.stringify(line)}`);
    fields.set(m[1], m[2]);
  }
  if (fields.get("version") !== String(PARTITION_METADATA_VERSION)) {
    throw new MalformedCheckpointError(file, `unrecognized version ${JSON.stringify(fields.get("version"))}`);
  }
  const topicId = fields.get("topic_id");
  if (topicId === undefined || !/^[A-Za-z0-9_-]{22}$/.test(topicId)) {
    throw new MalformedCheckpointError(file, `bad topic_id ${JSON.stringify(topicId)}`);
  }
  return topicId;
}

/** The topic id recorded in a partition directory, or null if there is no partition.metadata. */
export async function readPartitionMetadata(dir: string): Promise<string | null> {
  const file = path.join(dir, PARTITION_METADATA_FILE);
  const text = await readFileIfExists(file);
  return text === null ? null : parsePartitionMetadata(text, file);
}

export async function writePartitionMetadata(dir: string, topicId: string): Promise<void> {
  await writeFileAtomically(path.join(dir, PARTITION_METADATA_FILE), formatPartitionMetadata(topicId));
}
