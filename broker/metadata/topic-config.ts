// Topic-level configuration: Kafka's topic property names, each backed by a broker
// property (its synonym) that supplies the default. Used to validate CreateTopics and
// AlterConfigs, to answer DescribeConfigs with values and sources, and to build each
// partition log's settings.
import type { BrokerConfig } from "../config.ts";

type Kind = "int" | "long" | "boolean" | "string" | "list" | "double";

export interface TopicConfigDef {
  kind: Kind;
  /** The broker property whose value is this topic property's default. */
  synonym?: string;
  /** Kafka's default when there is no broker synonym. */
  default?: string;
  /** Returns a message when the value is not allowed. */
  check?: (v: string) => string | undefined;
  doc: string;
  /** Kafka marks these sensitive or read-only; none of ours are. */
}

const int =
  (min: number, max = 2147483647) =>
  (v: string): string | undefined => {
    if (!/^-?\d+$/.test(v)) return "must be an integer";
    const n = Number(v);
    if (n < min || n > max) return `must be between ${min} and ${max}`;
    return undefined;
  };

const long =
  (min: number) =>
  (v: string): string | undefined => {
    if (!/^-?\d+$/.test(v)) return "must be a whole number";
    if (BigInt(v) < BigInt(min) || BigInt(v) > 9223372036854775807n) return `must be at least ${min}`;
    return undefined;
  };

const oneOf =
  (...allowed: string[]) =>
  (v: string): string | undefined =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.join(", ")}`;

const listOf =
  (...allowed: string[]) =>
  (v: string): string | undefined => {
    const parts = v.split(",").map((s) => s.trim());
    const bad = parts.filter((p) => !allowed.includes(p));
    return bad.length === 0 ? undefined : `must be a list of ${allowed.join(", ")} (got ${bad.join(", ")})`;
  };

const bool = (v: string): string | undefined =>
  v === "true" || v === "false" ? undefined : "must be true or false";

const ratio = (v: string): string | undefined => {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? undefined : "must be a number between 0 and 1";
};

export const TOPIC_CONFIGS: Record<string, TopicConfigDef> = {
  "cleanup.policy": {
    kind: "list",
    synonym: "log.cleanup.policy",
    check: listOf("delete", "compact"),
    doc: "delete old segments, compact by key, or both",
  },
  "compression.type": {
    kind: "string",
    synonym: "compression.type",
    check: oneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"),
    doc: "compression of stored batches",
  },
  "delete.retention.ms": {
    kind: "long",
    synonym: "log.cleaner.delete.retention.ms",
    check: long(0),
    doc: "tombstone retention",
  },
  "file.delete.delay.ms": {
    kind: "long",
    default: "60000",
    check: long(0),
    doc: "delay before deleting files",
  },
  "flush.messages": {
    kind: "long",
    synonym: "log.flush.interval.messages",
    check: long(1),
    doc: "fsync interval",
  },
  "flush.ms": { kind: "long", default: "9223372036854775807", check: long(0), doc: "fsync interval in ms" },
  "index.interval.bytes": {
    kind: "int",
    synonym: "log.index.interval.bytes",
    check: int(0),
    doc: "bytes between index entries",
  },
  "max.compaction.lag.ms": {
    kind: "long",
    default: "9223372036854775807",
    check: long(1),
    doc: "compaction lag",
  },
  "max.message.bytes": {
    kind: "int",
    synonym: "message.max.bytes",
    check: int(0),
    doc: "largest record batch accepted",
  },
  "message.timestamp.type": {
    kind: "string",
    synonym: "log.message.timestamp.type",
    check: oneOf("CreateTime", "LogAppendTime"),
    doc: "whose timestamp records carry",
  },
  "message.timestamp.before.max.ms": {
    kind: "long",
    default: "9223372036854775807",
    check: long(0),
    doc: "how far in the past a CreateTime timestamp may be",
  },
  "message.timestamp.after.max.ms": {
    kind: "long",
    default: "9223372036854775807",
    check: long(0),
    doc: "how far in the future a CreateTime timestamp may be",
  },
  "min.cleanable.dirty.ratio": { kind: "double", default: "0.5", check: ratio, doc: "when compaction runs" },
  "min.compaction.lag.ms": {
    kind: "long",
    default: "0",
    check: long(0),
    doc: "minimum age before compaction",
  },
  "min.insync.replicas": {
    kind: "int",
    synonym: "min.insync.replicas",
    check: int(1),
    doc: "in-sync replicas needed for acks=all",
  },
  preallocate: { kind: "boolean", default: "false", check: bool, doc: "preallocate segment files" },
  "retention.bytes": { kind: "long", synonym: "log.retention.bytes", check: long(-1), doc: "size retention" },
  "retention.ms": { kind: "long", synonym: "log.retention.ms", check: long(-1), doc: "time retention" },
  "segment.bytes": { kind: "int", synonym: "log.segment.bytes", check: int(14), doc: "segment size" },
  "segment.index.bytes": {
    kind: "int",
    synonym: "log.index.size.max.bytes",
    check: int(4),
    doc: "index size",
  },
  "segment.jitter.ms": { kind: "long", default: "0", check: long(0), doc: "random jitter on segment.ms" },
  "segment.ms": { kind: "long", synonym: "log.roll.ms", check: long(1), doc: "segment age before roll" },
  "unclean.leader.election.enable": {
    kind: "boolean",
    synonym: "unclean.leader.election.enable",
    check: bool,
    doc: "elect out-of-sync replicas",
  },
  "message.downconversion.enable": {
    kind: "boolean",
    default: "true",
    check: bool,
    doc: "no effect (magic 2 only)",
  },
};

/** Where a config value comes from, with DescribeConfigs' source codes. */
export const ConfigSource = {
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** DescribeConfigs' config types (v3+). */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
} as const;

export function configTypeOf(kind: Kind): number {
  return {
    int: ConfigType.INT,
    long: ConfigType.LONG,
    boolean: ConfigType.BOOLEAN,
    string: ConfigType.STRING,
    list: ConfigType.LIST,
    double: ConfigType.DOUBLE,
  }[kind];
}

/** A problem with one topic config entry, phrased for the client. */
export function validateTopicConfig(name: string, value: string | null): string | undefined {
  const def = TOPIC_CONFIGS[name];
  if (!def) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic config ${name}`;
  const err = def.check?.(value.trim());
  return err ? `Invalid value ${value} for configuration ${name}: ${err}` : undefined;
}

export interface ResolvedConfig {
  name: string;
  value: string;
  source: number;
  /** The broker property it falls back to, when any (for DescribeConfigs synonyms). */
  synonym?: string;
  kind: Kind;
  doc: string;
}

function brokerValue(broker: BrokerConfig, name: string): { value: string; explicit: boolean } | undefined {
  // Retention and roll have derived values (ms from minutes/hours), which Kafka reports as the ms value.
  if (name === "log.retention.ms") {
    return { value: String(broker.retentionMs()), explicit: broker.explicit.has(name) };
  }
  if (name === "log.roll.ms") return { value: String(broker.rollMs()), explicit: broker.explicit.has(name) };
  const v = broker.get(name);
  if (v === null || v === undefined) return undefined;
  return { value: Array.isArray(v) ? v.join(",") : String(v), explicit: broker.explicit.has(name) };
}

/** Every topic config's effective value for a topic with these overrides. */
export function resolveTopicConfig(
  broker: BrokerConfig,
  overrides: ReadonlyMap<string, string>,
): ResolvedConfig[] {
  const out: ResolvedConfig[] = [];
  for (const [name, def] of Object.entries(TOPIC_CONFIGS)) {
    const own = overrides.get(name);
    if (own !== undefined) {
      out.push({
        name,
        value: own,
        source: ConfigSource.TOPIC_CONFIG,
        synonym: def.synonym,
        kind: def.kind,
        doc: def.doc,
      });
      continue;
    }
    const fromBroker = def.synonym ? brokerValue(broker, def.synonym) : undefined;
    if (fromBroker) {
      out.push({
        name,
        value: fromBroker.value,
        source: fromBroker.explicit ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG,
        synonym: def.synonym,
        kind: def.kind,
        doc: def.doc,
      });
    } else {
      out.push({
        name,
        value: def.default ?? "",
        source: ConfigSource.DEFAULT_CONFIG,
        kind: def.kind,
        doc: def.doc,
      });
    }
  }
  return out;
}

/** The effective value of one topic config, as a string. */
export function topicConfigValue(
  broker: BrokerConfig,
  overrides: ReadonlyMap<string, string>,
  name: string,
): string {
  const r = resolveTopicConfig(broker, overrides).find((c) => c.name === name);
  if (!r) throw new Error(`unknown topic config ${name}`);
  return r.value;
}
