// A partition log's settings, under Kafka's topic-level property names so that what
// an operator sets with kafka-configs.sh reads the same here. Values are already
// parsed (numbers, not the strings a CreateTopics request carries); see
// logConfigFromProperties for turning topic properties into one.

export type TimestampTypeName = "CreateTime" | "LogAppendTime";

export interface LogConfig {
  /** Roll to a new segment when the active one would grow past this many bytes. */
  "segment.bytes": number;
  /** Roll when the active segment's first batch is older than this (ms). */
  "segment.ms": number;
  /** The most random time subtracted from segment.ms per segment, so partitions do not roll together. */
  "segment.jitter.ms": number;
  /** Delete segments whose newest record is older than this (ms); -1 keeps them forever. */
  "retention.ms": number;
  /** Delete the oldest segments while the log is larger than this; -1 means no limit. */
  "retention.bytes": number;
  /** Bytes of batches between two offset index entries. */
  "index.interval.bytes": number;
  /** Size each index file is preallocated to while its segment is active (a segment rolls when it fills). */
  "segment.index.bytes": number;
  /** Largest record batch the log accepts. */
  "max.message.bytes": number;
  "message.timestamp.type": TimestampTypeName;
  /** "delete", "compact" or "compact,delete" (Kafka's list syntax). */
  "cleanup.policy": string;
  /**
   * Compaction: a log is cleaned once the bytes not yet compacted exceed this share
   * of the log (Kafka's dirty ratio, 0..1).
   */
  "min.cleanable.dirty.ratio": number;
  /** Compaction: records younger than this (ms, by segment) are never compacted. */
  "min.compaction.lag.ms": number;
  /** Compaction: records older than this (ms) are compacted whatever the dirty ratio. */
  "max.compaction.lag.ms": number;
  /** Compaction: how long a tombstone (null value) survives after its first compaction (ms). */
  "delete.retention.ms": number;
  /** fsync after this many messages; Kafka's default (Long.MAX_VALUE) leaves it to the OS and replication. */
  "flush.messages": number;
  /** fsync when the last one is older than this (ms); checked by the log manager's flush scheduler. */
  "flush.ms": number;
  /** How long a deleted segment's files linger (renamed *.deleted) so in-flight reads can finish. */
  "file.delete.delay.ms": number;
}

/** Kafka's defaults (Long.MAX_VALUE, "never", becomes Number.MAX_SAFE_INTEGER). */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  "segment.bytes": 1073741824,
  "segment.ms": 604800000,
  "segment.jitter.ms": 0,
  "retention.ms": 604800000,
  "retention.bytes": -1,
  "index.interval.bytes": 4096,
  "segment.index.bytes": 10485760,
  "max.message.bytes": 1048588,
  "message.timestamp.type": "CreateTime",
  "cleanup.policy": "delete",
  "min.cleanable.dirty.ratio": 0.5,
  "min.compaction.lag.ms": 0,
  "max.compaction.lag.ms": Number.MAX_SAFE_INTEGER,
  "delete.retention.ms": 86400000,
  "flush.messages": Number.MAX_SAFE_INTEGER,
  "flush.ms": Number.MAX_SAFE_INTEGER,
  "file.delete.delay.ms": 60000,
});

/** Whether retention by time and size applies (cleanup.policy includes "delete"). */
export function hasDeletePolicy(config: LogConfig): boolean {
  return config["cleanup.policy"].split(",").some((p) => p.trim() === "delete");
}

/** Whether the log cleaner compacts the log (cleanup.policy includes "compact"). */
export function hasCompactPolicy(config: LogConfig): boolean {
  return config["cleanup.policy"].split(",").some((p) => p.trim() === "compact");
}

/**
 * How long the active segment may stay open: segment.ms, or max.compaction.lag.ms
 * when that is shorter on a compacted log (the cleaner never touches the active
 * segment, so it must roll for the lag to be honoured), as Kafka's maxSegmentMs.
 */
export function maxSegmentMs(config: LogConfig): number {
  const lag = config["max.compaction.lag.ms"];
  return hasCompactPolicy(config) && lag > 0 ? Math.min(lag, config["segment.ms"]) : config["segment.ms"];
}

const NUMERIC_KEYS = [
  "segment.bytes",
  "segment.ms",
  "segment.jitter.ms",
  "retention.ms",
  "retention.bytes",
  "index.interval.bytes",
  "segment.index.bytes",
  "max.message.bytes",
  "flush.messages",
  "flush.ms",
  "file.delete.delay.ms",
  "min.compaction.lag.ms",
  "max.compaction.lag.ms",
  "delete.retention.ms",
] as const;

/**
 * A LogConfig from topic properties as strings (Kafka names; what DescribeConfigs
 * shows). Missing or unparsable values fall back to `base`; values beyond
 * Number.MAX_SAFE_INTEGER (Kafka's Long.MAX_VALUE "never") are clamped to it.
 */
export function logConfigFromProperties(
  props: Readonly<Record<string, string | undefined>>,
  base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG,
): LogConfig {
  const config: LogConfig = { ...base };
  for (const key of NUMERIC_KEYS) {
    const text = props[key];
    if (text === undefined || !/^-?\d+$/.test(text.trim())) continue;
    const n = Number(text.trim());
    config[key] = Math.max(Math.min(n, Number.MAX_SAFE_INTEGER), -Number.MAX_SAFE_INTEGER);
  }
  const ratio = props["min.cleanable.dirty.ratio"]?.trim();
  if (ratio !== undefined && /^[0-9.eE+-]+$/.test(ratio)) {
    const n = Number(ratio);
    if (Number.isFinite(n) && n >= 0 && n <= 1) config["min.cleanable.dirty.ratio"] = n;
  }
  const type = props["message.timestamp.type"];
  if (type === "CreateTime" || type === "LogAppendTime") config["message.timestamp.type"] = type;
  const policy = props["cleanup.policy"];
  if (policy !== undefined && policy.trim() !== "") config["cleanup.policy"] = policy;
  return config;
}
