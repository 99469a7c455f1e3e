// The lag collector's view of one Kafka cluster: a bootstrap list, the broker list and
// partition leaders from Metadata, one long-lived connection per broker (re-opened after
// a failure), and per-broker API version negotiation (ApiVersions v0, which every broker
// still serves) so each request goes out at the newest version both sides speak.
import type tls from "node:tls";
import { ApiVersions, Metadata } from "../../protocol/generated/apis.ts";
import type { ApiDefinition } from "../../protocol/generated/apis.ts";
import { defaultMetadataRequest } from "../../protocol/generated/messages/MetadataRequest.ts";
import { BrokerConnection, messageOf } from "./connection.ts";

export interface ClusterClientOptions {
  /** "host:port" addresses to ask for Metadata first. */
  bootstrap: readonly string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Maps an advertised broker address to the one to dial (tests, port-forwards). */
  addressMap?: (host: string, port: number) => { host: string; port: number };
  tls?: tls.ConnectionOptions;
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionMetadata {
  partition: number;
  /** -1 when the partition has no leader (offline). */
  leader: number;
  replicas: readonly number[];
  isr: readonly number[];
}

export interface TopicMetadata {
  name: string;
  internal: boolean;
  partitions: readonly PartitionMetadata[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  brokers: readonly BrokerInfo[];
  topics: readonly TopicMetadata[];
}

/** The broker answered with a Kafka error code. */
export class KafkaError extends Error {
  readonly code: number;
  constructor(code: number, what: string) {
    super(`${what}: Kafka error ${code}${ERROR_NAMES[code] ? ` (${ERROR_NAMES[code]})` : ""}`);
    this.name = "KafkaError";
    this.code = code;
  }
}

/** The error codes the collector looks at (values from Kafka's Errors.java). */
export const ErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  GROUP_AUTHORIZATION_FAILED: 30,
  UNSUPPORTED_VERSION: 35,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
} as const;

const ERROR_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([name, code]) => [code, name]),
);

/** Versions of one API a broker serves (inclusive). */
type VersionRanges = Map<number, { min: number; max: number }>;

interface BrokerSession {
  connection: BrokerConnection;
  versions: VersionRanges;
}

export class ClusterClient {
  private readonly opts: Required<Omit<ClusterClientOptions, "addressMap" | "tls">> &
    Pick<ClusterClientOptions, "addressMap" | "tls">;
  private brokers = new Map<number, BrokerInfo>();
  private readonly sessions = new Map<string, Promise<BrokerSession>>();
  /** Requests sent since the last takeRequestCounts(), by API name (the bench reports them). */
  private requests = new Map<string, number>();

  constructor(opts: ClusterClientOptions) {
    if (opts.bootstrap.length === 0) throw new Error("at least one bootstrap address is needed");
    this.opts = {
      ...opts,
      // `??`, not spread defaults: callers pass options through as undefined.
      clientId: opts.clientId ?? "capstan-lag",
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
    };
  }

  /** All topics, brokers and leaders, from the first bootstrap or known broker that answers. */
  async metadata(): Promise<ClusterMetadata> {
    const candidates = [
      ...[...this.brokers.values()].map((b) => `${b.host}:${b.port}`),
      ...this.opts.bootstrap.filter(
        (a) => ![...this.brokers.values()].some((b) => `${b.host}:${b.port}` === a),
      ),
    ];
    let lastError: unknown;
    for (const address of candidates) {
      try {
        const { body } = await this.sendTo(address, Metadata, 1, 12, () => ({
          ...defaultMetadataRequest(),
          topics: null,
          allowAutoTopicCreation: false,
        }));
        const brokers = body.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port }));
        this.brokers = new Map(brokers.map((b) => [b.nodeId, b]));
        const topics: TopicMetadata[] = [];
        for (const t of body.topics) {
          if (t.errorCode !== ErrorCode.NONE || t.name === null) continue;
          topics.push({
            name: t.name,
            internal: t.isInternal,
            partitions: t.partitions
              .map((p) => ({
                partition: p.partitionIndex,
                leader: p.leaderId,
                replicas: p.replicaNodes,
                isr: p.isrNodes,
              }))
              .sort((a, b) => a.partition - b.partition),
          });
        }
        topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return { clusterId: body.clusterId, brokers, topics };
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(`no broker answered Metadata (${candidates.join(", ")}): ${messageOf(lastError)}`);
  }

  /** The highest version of `api` in [min, max] that node `nodeId` serves, or null. */
  async versionFor(nodeId: number, api: ApiDefinition, min: number, max: number): Promise<number | null> {
    const session = await this.session(this.addressOf(nodeId));
    return pickVersion(session.versions, api, min, max);
  }

  /**
   * Sends a request to a broker by node id at the newest common version in [min, max];
   * `build` makes the body for that version (fields a version lacks must stay default).
   */
  send<Req, Res>(
    nodeId: number,
    api: ApiDefinition<Req, Res>,
    min: number,
    max: number,
    build: (version: number) => Req,
  ): Promise<{ version: number; body: Res }> {
    return this.sendTo(this.addressOf(nodeId), api, min, max, build);
  }

  /** Requests sent since the last call, by API name (ApiVersions handshakes included). */
  takeRequestCounts(): Record<string, number> {
    const counts = Object.fromEntries(this.requests);
    this.requests = new Map();
    return counts;
  }

  private count(api: string): void {
    this.requests.set(api, (this.requests.get(api) ?? 0) + 1);
  }

  close(): void {
    for (const s of this.sessions.values()) s.then((x) => x.connection.close()).catch(() => {});
    this.sessions.clear();
  }

  private addressOf(nodeId: number): string {
    const b = this.brokers.get(nodeId);
    if (!b) throw new Error(`broker ${nodeId} is not in the cluster metadata`);
    return `${b.host}:${b.port}`;
  }

  private async sendTo<Req, Res>(
    address: string,
    api: ApiDefinition<Req, Res>,
    min: number,
    max: number,
    build: (version: number) => Req,
  ): Promise<{ version: number; body: Res }> {
    const session = await this.session(address);
    const version = pickVersion(session.versions, api as ApiDefinition, min, max);
    if (version === null) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${address} serves no ${api.name} version in ${min}..${max}`,
      );
    }
    this.count(api.name);
    try {
      const body = build(version);
      return {
        version,
        body: await session.connection.request(api, version, body, this.opts.requestTimeoutMs),
      };
    } catch (err) {
      if (!session.connection.usable) this.sessions.delete(address);
      throw new Error(`${api.name} to ${address}: ${messageOf(err)}`, { cause: err });
    }
  }

  private session(address: string): Promise<BrokerSession> {
    const existing = this.sessions.get(address);
    if (existing) {
      return existing.then((s) => {
        if (s.connection.usable) return s;
        if (this.sessions.get(address) === existing) this.sessions.delete(address);
        return this.session(address);
      });
    }
    const created = this.openSession(address);
    this.sessions.set(address, created);
    created.catch(() => {
      if (this.sessions.get(address) === created) this.sessions.delete(address);
    });
    return created;
  }

  private async openSession(address: string): Promise<BrokerSession> {
    const i = address.lastIndexOf(":");
    const advertised = { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
    const { host, port } = this.opts.addressMap?.(advertised.host, advertised.port) ?? advertised;
    const connection = await BrokerConnection.open({
      host,
      port,
      clientId: this.opts.clientId,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      tls: this.opts.tls,
    });
    try {
      this.count(ApiVersions.name);
      const res = await connection.request(
        ApiVersions,
        0,
        { clientSoftwareName: "", clientSoftwareVersion: "" },
        this.opts.requestTimeoutMs,
      );
      if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, `ApiVersions to ${address}`);
      const versions: VersionRanges = new Map(
        res.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]),
      );
      return { connection, versions };
    } catch (err) {
      connection.close();
      throw err;
    }
  }
}

/** Newest version in [min, max] that both the codec and the broker support, or null. */
export function pickVersion(
  versions: VersionRanges,
  api: ApiDefinition,
  min: number,
  max: number,
): number | null {
  const broker = versions.get(api.apiKey);
  if (!broker) return null;
  const hi = Math.min(max, api.maxVersion, broker.max);
  const lo = Math.max(min, api.minVersion, broker.min);
  return hi >= lo ? hi : null;
}
