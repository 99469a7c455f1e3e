// Kafka's file and directory names in a log dir, so that Kafka's tools (and Kafka
// itself) recognise what we write:
//   <log.dir>/<topic>-<partition>/00000000000000000042.log   (+ .index, .timeindex, .snapshot)
//   <log.dir>/<topic>-<partition>.<32 hex>-delete             (a partition being deleted)
import { randomUUID } from "node:crypto";
import path from "node:path";

export const LOG_FILE_SUFFIX = ".log";
export const INDEX_FILE_SUFFIX = ".index";
export const TIME_INDEX_FILE_SUFFIX = ".timeindex";
export const TXN_INDEX_FILE_SUFFIX = ".txnindex";
export const PRODUCER_SNAPSHOT_FILE_SUFFIX = ".snapshot";
/** Appended to a segment's files when it is scheduled for deletion. */
export const DELETED_FILE_SUFFIX = ".deleted";
/** Compaction output being written; a leftover one (an interrupted clean) is deleted on load. */
export const CLEANED_FILE_SUFFIX = ".cleaned";
/** Compaction output ready to replace the segments it covers; a leftover one is swapped in on load. */
export const SWAP_FILE_SUFFIX = ".swap";
/** Checkpoint and snapshot files are written here first, then renamed into place. */
export const TMP_FILE_SUFFIX = ".tmp";

export const DELETE_DIR_SUFFIX = "-delete";
export const FUTURE_DIR_SUFFIX = "-future";
export const STRAY_DIR_SUFFIX = "-stray";

export const LEADER_EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint";
export const PARTITION_METADATA_FILE = "partition.metadata";
export const RECOVERY_POINT_CHECKPOINT_FILE = "recovery-point-offset-checkpoint";
export const LOG_START_OFFSET_CHECKPOINT_FILE = "log-start-offset-checkpoint";
export const META_PROPERTIES_FILE = "meta.properties";
export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";

/** The 20-digit zero-padded offset that names a segment's files. */
export function filenamePrefixFromOffset(offset: number): string {
  return String(offset).padStart(20, "0");
}

/** The offset a segment or snapshot file name starts with, or null if it does not. */
export function offsetFromFileName(name: string): number | null {
  const m = /^(\d{1,20})\./.exec(path.basename(name));
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

export function logFilePath(dir: string, baseOffset: number, suffix = ""): string {
  return path.join(dir, filenamePrefixFromOffset(baseOffset) + LOG_FILE_SUFFIX + suffix);
}

export function offsetIndexFilePath(dir: string, baseOffset: number, suffix = ""): string {
  return path.join(dir, filenamePrefixFromOffset(baseOffset) + INDEX_FILE_SUFFIX + suffix);
}

export function timeIndexFilePath(dir: string, baseOffset: number, suffix = ""): string {
  return path.join(dir, filenamePrefixFromOffset(baseOffset) + TIME_INDEX_FILE_SUFFIX + suffix);
}

export function producerSnapshotFilePath(dir: string, offset: number): string {
  return path.join(dir, filenamePrefixFromOffset(offset) + PRODUCER_SNAPSHOT_FILE_SUFFIX);
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/**
 * The topic and partition a live partition directory is named for, or null for
 * anything else (including -delete, -future and -stray directories).
 */
export function parsePartitionDirName(name: string): TopicPartition | null {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (!m || name.endsWith(DELETE_DIR_SUFFIX) || name.endsWith(FUTURE_DIR_SUFFIX)) return null;
  if (name.endsWith(STRAY_DIR_SUFFIX)) return null;
  const partition = Number(m[2]);
  if (!Number.isSafeInteger(partition) || partition > 0x7fffffff) return null;
  return { topic: m[1], partition };
}

/** Whether a directory is a partition renamed for deletion (`<topic>-<p>.<uuid>-delete`). */
export function isDeleteDirName(name: string): boolean {
  return /-\d+\.[0-9a-f]{32}-delete$/.test(name);
}

/**
 * The name a partition directory is renamed to before its files are deleted, as
 * Kafka does: a unique suffix so a topic recreated under the same name does not
 * collide, the topic shortened if needed to keep the name within 255 bytes.
 */
export function deleteDirName(topic: string, partition: number): string {
  const suffix = `-${partition}.${randomUUID().replaceAll("-", "")}${DELETE_DIR_SUFFIX}`;
  return topic.slice(0, Math.max(0, 255 - suffix.length)) + suffix;
}
