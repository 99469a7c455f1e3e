// Broker configuration in Kafka's own vocabulary: a server.properties file plus
// --override key=value pairs, Kafka's property names and Kafka's defaults. Unknown
// names and bad values are collected and reported together at start, each naming
// the property and what would be accepted.
import { readFileSync } from "node:fs";

type Kind = "int" | "long" | "boolean" | "string" | "list" | "double";

interface PropertyDef {
  kind: Kind;
  /** Kafka's default, as Kafka's docs print it; undefined means "no default" (null). */
  default?: string;
  /** Extra validation on the parsed value; returns a message when invalid. */
  check?: (v: unknown) => string | undefined;
  doc: string;
}

const atLeast =
  (min: number) =>
  (v: unknown): string | undefined =>
    typeof v === "number" && v < min ? `must be at least ${min}` : undefined;

const oneOf =
  (...allowed: string[]) =>
  (v: unknown): string | undefined =>
    typeof v === "string" && !allowed.includes(v) ? `must be one of ${allowed.join(", ")}` : undefined;

/** The properties Capstan's broker understands, with Kafka's defaults. */
export const BROKER_PROPERTIES: Record<string, PropertyDef> = {
  "node.id": { kind: "int", default: "1", check: atLeast(0), doc: "This broker's id in the cluster." },
  "process.roles": {
    kind: "list",
    default: "broker,controller",
    doc: "broker, controller, or both (combined mode).",
  },
  "controller.quorum.voters": {
    kind: "list",
    default: "",
    doc: "id@host:port of each controller voter; empty makes a single-node cluster of its own.",
  },
  "controller.listener.names": { kind: "list", default: "CONTROLLER", doc: "Listeners used by controllers." },
  listeners: {
    kind: "list",
    default: "PLAINTEXT://:9092",
    doc: "Where the broker listens: NAME://host:port, comma-separated.",
  },
  "advertised.listeners": {
    kind: "list",
    doc: "What clients are told to connect to; defaults to listeners.",
  },
  "listener.security.protocol.map": {
    kind: "list",
    default: "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    doc: "Listener name to security protocol. Only PLAINTEXT is supported.",
  },
  "inter.broker.listener.name": { kind: "string", doc: "Listener brokers use among themselves." },
  "log.dirs": { kind: "list", doc: "Directories for partition logs; defaults to log.dir." },
  "log.dir": { kind: "string", default: "/tmp/kafka-logs", doc: "Directory for partition logs." },
  "metadata.log.dir": {
    kind: "string",
    doc: "Directory of the metadata log; defaults to the first log dir.",
  },
  "num.partitions": {
    kind: "int",
    default: "1",
    check: atLeast(1),
    doc: "Partitions of auto-created topics.",
  },
  "default.replication.factor": {
    kind: "int",
    default: "1",
    check: atLeast(1),
    doc: "Replication factor of auto-created topics and of CreateTopics with -1.",
  },
  "auto.create.topics.enable": {
    kind: "boolean",
    default: "true",
    doc: "Create unknown topics on Metadata.",
  },
  "delete.topic.enable": { kind: "boolean", default: "true", doc: "Allow DeleteTopics." },
  "min.insync.replicas": { kind: "int", default: "1", check: atLeast(1), doc: "Minimum ISR for acks=all." },
  "log.retention.ms": { kind: "long", doc: "Retention time; -1 keeps forever. Overrides minutes and hours." },
  "log.retention.minutes": { kind: "int", doc: "Retention time in minutes." },
  "log.retention.hours": { kind: "int", default: "168", doc: "Retention time in hours." },
  "log.retention.bytes": {
    kind: "long",
    default: "-1",
    doc: "Retention size per partition; -1 is unlimited.",
  },
  "log.segment.bytes": {
    kind: "int",
    default: "1073741824",
    check: atLeast(14),
    doc: "Size at which a new segment is rolled.",
  },
  "log.roll.ms": { kind: "long", doc: "Age at which a new segment is rolled. Overrides log.roll.hours." },
  "log.roll.hours": {
    kind: "int",
    default: "168",
    check: atLeast(1),
    doc: "Age at which a segment is rolled.",
  },
  "log.retention.check.interval.ms": {
    kind: "long",
    default: "300000",
    check: atLeast(1),
    doc: "How often retention is applied.",
  },
  "log.index.size.max.bytes": {
    kind: "int",
    default: "10485760",
    check: atLeast(4),
    doc: "Maximum size of an offset or time index.",
  },
  "log.index.interval.bytes": {
    kind: "int",
    default: "4096",
    check: atLeast(0),
    doc: "Bytes between offset index entries.",
  },
  "log.flush.interval.messages": {
    kind: "long",
    default: "9223372036854775807",
    check: atLeast(1),
    doc: "Records appended before a forced fsync.",
  },
  "log.flush.interval.ms": { kind: "long", doc: "Time before a forced fsync." },
  "log.cleanup.policy": { kind: "list", default: "delete", doc: "delete, compact, or both." },
  "log.message.timestamp.type": {
    kind: "string",
    default: "CreateTime",
    check: oneOf("CreateTime", "LogAppendTime"),
    doc: "Whose timestamp records carry.",
  },
  "compression.type": {
    kind: "string",
    default: "producer",
    check: oneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"),
    doc: "Compression of stored batches; producer keeps the client's.",
  },
  "message.max.bytes": {
    kind: "int",
    default: "1048588",
    check: atLeast(0),
    doc: "Largest record batch the broker accepts.",
  },
  "replica.fetch.max.bytes": { kind: "int", default: "1048576", doc: "Follower fetch size per partition." },
  "socket.request.max.bytes": {
    kind: "int",
    default: "104857600",
    check: atLeast(1),
    doc: "Largest request the broker reads; checked before allocating.",
  },
  "connections.max.idle.ms": {
    kind: "long",
    default: "600000",
    doc: "Idle connections are closed after this long.",
  },
  "offsets.topic.num.partitions": {
    kind: "int",
    default: "50",
    check: atLeast(1),
    doc: "Partitions of __consumer_offsets.",
  },
  "offsets.topic.replication.factor": {
    kind: "int",
    default: "3",
    check: atLeast(1),
    doc: "RF of __consumer_offsets.",
  },
  "offsets.retention.minutes": {
    kind: "int",
    default: "10080",
    check: atLeast(1),
    doc: "Committed offset retention.",
  },
  // Group coordinator properties Kafka has (GroupCoordinatorConfig), with Kafka's defaults.
  "offsets.retention.check.interval.ms": {
    kind: "long",
    default: "600000",
    check: atLeast(1),
    doc: "How often expired committed offsets are removed.",
  },
  "offsets.topic.segment.bytes": {
    kind: "int",
    default: "104857600",
    check: atLeast(1),
    doc: "segment.bytes of __consumer_offsets (small, so compaction keeps up).",
  },
  "offsets.topic.compression.codec": {
    kind: "int",
    default: "0",
    check: (v) => (typeof v === "number" && (v < 0 || v > 4) ? "must be 0 (none) to 4 (zstd)" : undefined),
    doc: "Compression of the coordinator's batches: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.",
  },
  "offsets.commit.timeout.ms": {
    kind: "int",
    default: "5000",
    check: atLeast(1),
    doc: "How long a commit may wait to be replicated. No effect yet (a single broker commits on append).",
  },
  "offsets.load.buffer.size": {
    kind: "int",
    default: "5242880",
    check: atLeast(1),
    doc: "Bytes read at a time when loading __consumer_offsets. No effect (1 MiB reads).",
  },
  "offset.metadata.max.bytes": {
    kind: "int",
    default: "4096",
    doc: "Largest metadata string a committed offset may carry.",
  },
  "group.max.size": {
    kind: "int",
    default: "2147483647",
    check: atLeast(1),
    doc: "Most members a classic group may have.",
  },
  "group.initial.rebalance.delay.ms": {
    kind: "int",
    default: "3000",
    doc: "Wait for more members of a new group.",
  },
  "group.min.session.timeout.ms": { kind: "int", default: "6000", doc: "Smallest session timeout allowed." },
  "group.max.session.timeout.ms": {
    kind: "int",
    default: "1800000",
    doc: "Largest session timeout allowed.",
  },
  "transaction.state.log.num.partitions": {
    kind: "int",
    default: "50",
    doc: "Partitions of __transaction_state.",
  },
  "transaction.state.log.replication.factor": {
    kind: "int",
    default: "3",
    doc: "RF of __transaction_state.",
  },
  "transaction.state.log.min.isr": { kind: "int", default: "2", doc: "min ISR of __transaction_state." },
  "transactional.id.expiration.ms": {
    kind: "int",
    default: "604800000",
    doc: "Idle transactional id expiry.",
  },
  "producer.id.expiration.ms": { kind: "int", default: "86400000", doc: "Idle producer id state expiry." },
  "broker.session.timeout.ms": { kind: "int", default: "9000", doc: "Heartbeat silence before fencing." },
  "broker.heartbeat.interval.ms": { kind: "int", default: "2000", doc: "Broker heartbeat interval." },
  "replica.lag.time.max.ms": { kind: "long", default: "30000", doc: "Follower lag before leaving the ISR." },
  "replica.fetch.wait.max.ms": {
    kind: "int",
    default: "500",
    doc: "Longest a follower's fetch waits at the leader.",
  },
  "replica.fetch.response.max.bytes": {
    kind: "int",
    default: "10485760",
    doc: "Largest follower fetch response, all partitions together.",
  },
  "replica.fetch.backoff.ms": { kind: "int", default: "1000", doc: "Follower pause after a fetch error." },
  "replica.high.watermark.checkpoint.interval.ms": {
    kind: "long",
    default: "5000",
    doc: "How often high watermarks are written to replication-offset-checkpoint.",
  },
  "controller.quorum.election.timeout.ms": {
    kind: "int",
    default: "1000",
    check: atLeast(1),
    doc: "Leaderless time before a voter stands for election (randomized up to twice this).",
  },
  "controller.quorum.election.backoff.max.ms": {
    kind: "int",
    default: "1000",
    doc: "Longest wait before standing again after a lost election.",
  },
  "controller.quorum.fetch.timeout.ms": {
    kind: "int",
    default: "2000",
    check: atLeast(1),
    doc: "Silence from the quorum leader after which a voter stands for election.",
  },
  "controller.quorum.request.timeout.ms": {
    kind: "int",
    default: "2000",
    doc: "Timeout of a request to a controller.",
  },
  "metadata.max.idle.interval.ms": {
    kind: "int",
    default: "500",
    doc: "The active controller writes a NoOpRecord when the metadata log was idle this long.",
  },
  "metadata.log.max.record.bytes.between.snapshots": {
    kind: "long",
    default: "20971520",
    doc: "Metadata record bytes after which each node snapshots its metadata image.",
  },
  "leader.imbalance.check.interval.seconds": {
    kind: "long",
    default: "300",
    check: atLeast(1),
    doc: "How often the active controller moves leaderships back to preferred replicas.",
  },
  "controlled.shutdown.timeout.ms": {
    kind: "int",
    default: "30000",
    doc: "How long a shutting-down broker waits for the controller to move its leaderships away.",
  },
  "unclean.leader.election.enable": { kind: "boolean", default: "false", doc: "Elect out-of-sync replicas." },
  "auto.leader.rebalance.enable": {
    kind: "boolean",
    default: "true",
    doc: "Move leaders back to preferred.",
  },
  "broker.rack": { kind: "string", doc: "Rack of this broker." },
  "capstan.topic.policy.file": {
    kind: "string",
    default: "",
    doc: "A file with the cluster's topic policy (YAML or JSON, KafkaCluster spec.topicPolicy); CreateTopics, CreatePartitions and AlterConfigs that break it are refused with POLICY_VIOLATION.",
  },
  "log.cleaner.enable": { kind: "boolean", default: "true", doc: "Run the log cleaner (compaction)." },
  "log.cleaner.backoff.ms": {
    kind: "long",
    default: "15000",
    check: atLeast(0),
    doc: "Sleep when no log needs cleaning.",
  },
  "log.cleaner.dedupe.buffer.size": {
    kind: "long",
    default: "134217728",
    check: atLeast(1024),
    doc: "Memory for the cleaner's key map.",
  },
  "log.cleaner.min.cleanable.ratio": {
    kind: "double",
    default: "0.5",
    doc: "Dirty ratio above which a compacted log is cleaned.",
  },
  "log.cleaner.delete.retention.ms": {
    kind: "long",
    default: "86400000",
    doc: "How long tombstones are kept.",
  },
  "log.cleaner.min.compaction.lag.ms": {
    kind: "long",
    default: "0",
    doc: "Minimum age of a record before compaction.",
  },
  "log.cleaner.max.compaction.lag.ms": {
    kind: "long",
    default: "9223372036854775807",
    doc: "Maximum time a record stays uncompacted.",
  },
  "capstan.metrics.listener": {
    kind: "string",
    default: "",
    doc: "http://host:port serving Prometheus /metrics; empty disables it.",
  },
  // Kafka properties that tune the JVM broker's threads and buffers. Accepted so an
  // existing server.properties starts unchanged; they have no effect here.
  "num.network.threads": { kind: "int", default: "3", doc: "No effect (single event loop)." },
  "num.io.threads": { kind: "int", default: "8", doc: "No effect (single event loop)." },
  "num.recovery.threads.per.data.dir": { kind: "int", default: "2", doc: "No effect." },
  "num.replica.fetchers": { kind: "int", default: "1", doc: "No effect." },
  "socket.send.buffer.bytes": { kind: "int", default: "102400", doc: "No effect." },
  "socket.receive.buffer.bytes": { kind: "int", default: "102400", doc: "No effect." },
  "queued.max.requests": { kind: "int", default: "500", doc: "No effect." },
};

export interface ListenerAddress {
  name: string;
  host: string;
  port: number;
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid broker configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Reads a Java properties file: `key=value` or `key: value`, `#`/`!` comments, `\` continuations. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trimStart();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].trimStart();
    }
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line) ?? /^((?:\\.|[^=:\s\\])+)$/.exec(line);
    if (!m) continue;
    const unescape = (s: string): string => s.replace(/\\(.)/g, "$1");
    out.set(unescape(m[1]), unescape((m[2] ?? "").trimEnd()));
  }
  return out;
}

/** Parses `NAME://host:port` entries. An empty host means all interfaces. */
export function parseListeners(entries: string[], property: string, problems: string[]): ListenerAddress[] {
  const out: ListenerAddress[] = [];
  for (const e of entries) {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(e);
    if (!m || Number(m[3]) > 65535) {
      problems.push(
        `${property}: ${JSON.stringify(e)} is not NAME://host:port (e.g. PLAINTEXT://localhost:9092)`,
      );
      continue;
    }
    out.push({ name: m[1].toUpperCase(), host: m[2].replace(/^\[|\]$/g, ""), port: Number(m[3]) });
  }
  return out;
}

/** A validated broker configuration: raw values by Kafka name plus typed accessors. */
export class BrokerConfig {
  private readonly values: Map<string, unknown>;
  /** Properties set explicitly (file or override), for DescribeConfigs sources. */
  readonly explicit: ReadonlySet<string>;

  private constructor(values: Map<string, unknown>, explicit: Set<string>) {
    this.values = values;
    this.explicit = explicit;
  }

  /** Builds a configuration from properties (file, then overrides), reporting every problem at once. */
  static from(props: Map<string, string>): BrokerConfig {
    const problems: string[] = [];
    const values = new Map<string, unknown>();
    for (const key of props.keys()) {
      if (!(key in BROKER_PROPERTIES)) {
        const near = Object.keys(BROKER_PROPERTIES).find((k) => editDistance(k, key) <= 2);
        problems.push(`unknown property ${key}${near ? ` (did you mean ${near}?)` : ""}`);
      }
    }
    for (const [key, def] of Object.entries(BROKER_PROPERTIES)) {
      const raw = props.has(key) ? props.get(key)! : def.default;
      if (raw === undefined) {
        values.set(key, null);
        continue;
      }
      const parsed = parseValue(def.kind, raw.trim());
      if (parsed.error) {
        problems.push(`${key}=${raw}: ${parsed.error}`);
        continue;
      }
      const err = def.check?.(parsed.value);
      if (err) {
        problems.push(`${key}=${raw}: ${err}`);
        continue;
      }
      values.set(key, parsed.value);
    }
    const config = new BrokerConfig(values, new Set(props.keys()));
    if (problems.length === 0) config.crossCheck(problems);
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
  }

  /**
   * Reads the `--config` files (none, one, or several: later ones override earlier ones,
   * as the operator layers a broker's own file over the cluster's) and applies
   * `--override key=value` pairs on top.
   */
  static load(files: string | string[] | undefined, overrides: string[]): BrokerConfig {
    const props = new Map<string, string>();
    for (const file of typeof files === "string" ? [files] : (files ?? [])) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ConfigError([
          `cannot read --config ${file}: ${code === "ENOENT" ? "no such file" : String(err)}`,
        ]);
      }
      for (const [k, v] of parseProperties(text)) props.set(k, v);
    }
    const problems: string[] = [];
    for (const o of overrides) {
      const i = o.indexOf("=");
      if (i <= 0) problems.push(`--override ${JSON.stringify(o)} is not key=value`);
      else props.set(o.slice(0, i).trim(), o.slice(i + 1));
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return BrokerConfig.from(props);
  }

  private crossCheck(problems: string[]): void {
    this.listeners(problems);
    this.advertisedListeners(problems);
    const protocols = this.list("listener.security.protocol.map");
    for (const l of this.listeners([])) {
      const entry = protocols.find((p) => p.toUpperCase().startsWith(`${l.name}:`));
      const proto = entry ? entry.split(":")[1].toUpperCase() : l.name;
      if (proto !== "PLAINTEXT") {
        problems.push(`listeners: ${l.name} uses ${proto}; only PLAINTEXT listeners are supported`);
      }
    }
    if (this.logDirs().length === 0) problems.push("log.dirs: at least one directory is needed");
    const roles = this.list("process.roles");
    for (const r of roles)
      if (r !== "broker" && r !== "controller") problems.push(`process.roles: unknown role ${r}`);
  }

  get(name: string): unknown {
    if (!this.values.has(name)) throw new Error(`no such broker property ${name}`);
    return this.values.get(name);
  }

  int(name: string): number {
    return this.get(name) as number;
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  string(name: string): string | null {
    return this.get(name) as string | null;
  }

  list(name: string): string[] {
    return (this.get(name) as string[] | null) ?? [];
  }

  get nodeId(): number {
    return this.int("node.id");
  }

  logDirs(): string[] {
    const dirs = this.list("log.dirs");
    return dirs.length > 0 ? dirs : [this.string("log.dir")!];
  }

  listeners(problems: string[] = []): ListenerAddress[] {
    const controllerNames = new Set(this.list("controller.listener.names").map((n) => n.toUpperCase()));
    return parseListeners(this.list("listeners"), "listeners", problems).filter(
      (l) => !controllerNames.has(l.name),
    );
  }

  /** The listeners named in controller.listener.names: where the quorum and controller APIs are served. */
  controllerListeners(problems: string[] = []): ListenerAddress[] {
    const controllerNames = new Set(this.list("controller.listener.names").map((n) => n.toUpperCase()));
    return parseListeners(this.list("listeners"), "listeners", problems).filter((l) =>
      controllerNames.has(l.name),
    );
  }

  /** Every listener, client and controller. */
  allListeners(): ListenerAddress[] {
    return parseListeners(this.list("listeners"), "listeners", []);
  }

  /** The addresses clients are told about: advertised.listeners, else listeners (empty host: this host's name). */
  advertisedListeners(problems: string[] = []): ListenerAddress[] {
    const advertised = this.list("advertised.listeners");
    if (advertised.length > 0) return parseListeners(advertised, "advertised.listeners", problems);
    return this.listeners().map((l) => ({
      ...l,
      host: l.host === "" || l.host === "0.0.0.0" ? "localhost" : l.host,
    }));
  }

  /** log.retention.ms, else minutes, else hours (Kafka's precedence); -1 means forever. */
  retentionMs(): number {
    const ms = this.get("log.retention.ms") as number | null;
    if (ms !== null) return ms;
    const minutes = this.get("log.retention.minutes") as number | null;
    if (minutes !== null) return minutes * 60_000;
    return this.int("log.retention.hours") * 3_600_000;
  }

  /** log.roll.ms, else log.roll.hours. */
  rollMs(): number {
    const ms = this.get("log.roll.ms") as number | null;
    return ms ?? this.int("log.roll.hours") * 3_600_000;
  }

  /** Every property with its value and whether it was set explicitly. */
  entries(): Array<{ name: string; value: unknown; explicit: boolean }> {
    return [...this.values].map(([name, value]) => ({ name, value, explicit: this.explicit.has(name) }));
  }
}

/** Levenshtein distance, for "did you mean" hints on misspelled property names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

function parseValue(kind: Kind, raw: string): { value?: unknown; error?: string } {
  switch (kind) {
    case "int":
    case "long": {
      if (!/^-?\d+$/.test(raw))
        return { error: `expected ${kind === "int" ? "an integer" : "a whole number"}` };
      const n = Number(raw);
      if (kind === "int" && (n < -2147483648 || n > 2147483647)) return { error: "out of the int range" };
      // Kafka's Long.MAX_VALUE defaults do not fit a double exactly; they mean "never".
      return { value: n > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n };
    }
    case "double": {
      const n = Number(raw);
      return Number.isFinite(n) ? { value: n } : { error: "expected a number" };
    }
    case "boolean":
      if (raw.toLowerCase() === "true") return { value: true };
      if (raw.toLowerCase() === "false") return { value: false };
      return { error: "expected true or false" };
    case "string":
      return { value: raw };
    case "list":
      return {
        value: raw
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      };
  }
}
