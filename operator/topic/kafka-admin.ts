// The Kafka side of topic reconciliation: describe a topic as the plan needs it and carry
// out each planned action. kafkajs' admin client does most of it; what kafkajs cannot ask
// (IncrementalAlterConfigs, the topic id of Metadata v10+, every effective config) goes
// over one connection of the project's own protocol client.
import { Kafka, logLevel, type Admin } from "kafkajs";
import { ReassignmentUnsupportedError } from "../cluster/kafka-admin.ts";
import { BrokerConnection } from "../lag/connection.ts";
import {
  ApiVersions,
  DescribeConfigs,
  IncrementalAlterConfigs,
  Metadata,
} from "../../protocol/generated/apis.ts";
import { defaultMetadataRequest } from "../../protocol/generated/messages/MetadataRequest.ts";
import { ZERO_UUID } from "../../protocol/wire/index.ts";
import type { ActualTopic, TopicAction } from "./plan.ts";
import type { ReassignmentProgress } from "./replicas.ts";
import { ReassignmentRefusedError, planReplicas, progressOf } from "./replicas.ts";

export { ReassignmentRefusedError };

const TOPIC_RESOURCE = 2;
/** DescribeConfigs' source for configs set on the topic itself. */
const TOPIC_CONFIG_SOURCE = 1;
/** IncrementalAlterConfigs operations. */
const OP_SET = 0;
const OP_DELETE = 1;
/** kafkajs' names for "the broker does not have this API". */
const UNSUPPORTED = new Set(["KafkaJSServerDoesNotSupportApiKey", "KafkaJSNotImplemented"]);

/** The per-partition errors of a refused AlterPartitionReassignments, if err is one (kafkajs). */
export function reassignmentRefusal(err: unknown): string | undefined {
  const errors = (err as { errors?: unknown[] }).errors;
  if ((err as Error).name !== "KafkaJSAggregateError" || !Array.isArray(errors)) return undefined;
  const parts = errors
    .filter((e) => (e as Error).name === "KafkaJSAlterPartitionReassignmentsError")
    .map((e) => {
      const x = e as { type?: string; message?: string; partition?: number };
      return `${x.partition !== undefined ? `partition ${x.partition}: ` : ""}${x.type ?? "error"} (${x.message})`;
    });
  return parts.length > 0 ? parts.join("; ") : undefined;
}

type Raw = { conn: BrokerConnection; versions: Map<number, number> };

export class TopicAdmin {
  private readonly admin: Admin;
  private readonly bootstrap: string[];
  private readonly clientId: string;
  private connected = false;
  private connection: Promise<Raw> | undefined;

  constructor(bootstrap: string[], clientId = "capstan-operator") {
    this.bootstrap = bootstrap;
    this.clientId = clientId;
    const kafka = new Kafka({
      clientId,
      brokers: bootstrap,
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 200 },
      connectionTimeout: 3000,
      requestTimeout: 15000,
    });
    this.admin = kafka.admin();
  }

  private async ready(): Promise<Admin> {
    if (!this.connected) {
      await this.admin.connect();
      this.connected = true;
    }
    return this.admin;
  }

  /** One connection of the project's protocol client to a bootstrap broker, with its API versions. */
  private raw(): Promise<Raw> {
    this.connection ??= (async () => {
      const address = this.bootstrap[0];
      const i = address.lastIndexOf(":");
      const conn = await BrokerConnection.open({
        host: address.slice(0, i),
        port: Number(address.slice(i + 1)),
        clientId: this.clientId,
        connectTimeoutMs: 3000,
      });
      const res = await conn.request(
        ApiVersions,
        0,
        { clientSoftwareName: "", clientSoftwareVersion: "" },
        10_000,
      );
      return { conn, versions: new Map(res.apiKeys.map((k) => [k.apiKey, k.maxVersion])) };
    })();
    this.connection.catch(() => (this.connection = undefined));
    return this.connection;
  }

  /** Kafka's topic id (Metadata v10+), "" when the brokers do not say. */
  async topicId(name: string): Promise<string> {
    const { conn, versions } = await this.raw();
    const max = versions.get(Metadata.apiKey) ?? 0;
    if (max < 10) return "";
    const res = await conn.request(
      Metadata,
      Math.min(max, 12),
      { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name }], allowAutoTopicCreation: false },
      10_000,
    );
    const id = res.topics.find((t) => t.name === name)?.topicId;
    return id && id !== ZERO_UUID ? id : "";
  }

  /** Every config of the topic with its effective value (own, broker or Kafka default), sorted by name. */
  async effectiveConfig(name: string): Promise<Record<string, string>> {
    const { conn, versions } = await this.raw();
    const max = versions.get(DescribeConfigs.apiKey);
    if (max === undefined) return {};
    const res = await conn.request(
      DescribeConfigs,
      Math.min(max, 4),
      {
        resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      },
      10_000,
    );
    const out: Array<[string, string]> = [];
    for (const c of res.results[0]?.configs ?? []) {
      if (!c.isSensitive && c.value !== null) out.push([c.name, c.value]);
    }
    return Object.fromEntries(out.sort(([a], [b]) => a.localeCompare(b)));
  }

  /**
   * Sets and deletes topic overrides with IncrementalAlterConfigs, leaving the others
   * alone (AlterConfigs would replace the whole set, racing anyone else's change).
   */
  private async alterConfigsIncrementally(name: string, set: Map<string, string>, remove: string[]) {
    const { conn, versions } = await this.raw();
    const max = versions.get(IncrementalAlterConfigs.apiKey);
    if (max === undefined) throw new Error("the brokers do not support IncrementalAlterConfigs");
    const res = await conn.request(
      IncrementalAlterConfigs,
      Math.min(max, 1),
      {
        validateOnly: false,
        resources: [
          {
            resourceType: TOPIC_RESOURCE,
            resourceName: name,
            configs: [
              ...[...set].map(([k, value]) => ({ name: k, configOperation: OP_SET, value })),
              ...remove.map((k) => ({ name: k, configOperation: OP_DELETE, value: null })),
            ],
          },
        ],
      },
      15_000,
    );
    const r = res.responses[0];
    if (r && r.errorCode !== 0) {
      throw new Error(
        `IncrementalAlterConfigs on topic ${name} failed (error ${r.errorCode}): ${r.errorMessage ?? ""}`,
      );
    }
  }

  /**
   * Moves the topic toward `to` replicas per partition with AlterPartitionReassignments:
   * partitions neither at `to` nor moving get a new replica list (replicas.ts); returns
   * how far the change is. Throws ReassignmentUnsupportedError when the brokers lack the APIs,
   * ReassignmentRefusedError when they refuse the new replica lists.
   */
  async changeReplicationFactor(name: string, to: number): Promise<ReassignmentProgress> {
    const admin = await this.ready();
    try {
      const [cluster, md] = await Promise.all([
        admin.describeCluster(),
        admin.fetchTopicMetadata({ topics: [name] }),
      ]);
      const partitions = md.topics[0].partitions.map((p) => ({
        partition: p.partitionId,
        replicas: p.replicas,
      }));
      const ongoing = await admin.listPartitionReassignments({
        topics: [{ topic: name, partitions: partitions.map((p) => p.partition) }],
      });
      const moving = new Set(
        ongoing.topics
          .filter((t) => t.topic === name)
          .flatMap((t) => t.partitions.map((p) => p.partitionIndex)),
      );
      const moves = planReplicas(
        partitions.filter((p) => !moving.has(p.partition)),
        cluster.brokers.map((b) => b.nodeId),
        to,
      );
      if (moves.length > 0) {
        await admin.alterPartitionReassignments({
          topics: [{ topic: name, partitionAssignment: moves }],
        });
        for (const m of moves) moving.add(m.partition);
      }
      return progressOf(partitions, moving, to);
    } catch (err) {
      if (UNSUPPORTED.has((err as Error).name)) throw new ReassignmentUnsupportedError(err);
      const refused = reassignmentRefusal(err);
      if (refused)
        throw new ReassignmentRefusedError(`the brokers refused the reassignment: ${refused}`, {
          cause: err,
        });
      throw err;
    }
  }

  /** The brokers of the cluster (for replication-factor checks). */
  async brokerCount(): Promise<number> {
    const admin = await this.ready();
    return (await admin.describeCluster()).brokers.length;
  }

  /** The topic as the plan needs it, or null when Kafka does not have it. */
  async describe(name: string): Promise<ActualTopic | null> {
    const admin = await this.ready();
    const topics = await admin.listTopics();
    if (!topics.includes(name)) return null;
    const md = await admin.fetchTopicMetadata({ topics: [name] });
    const t = md.topics[0];
    const described = await admin.describeConfigs({
      resources: [{ type: TOPIC_RESOURCE, name }],
      includeSynonyms: false,
    });
    const configs = new Map<string, string>();
    for (const e of described.resources[0]?.configEntries ?? []) {
      const source = (e as { configSource?: number }).configSource;
      if (source === TOPIC_CONFIG_SOURCE || (source === undefined && !e.isDefault))
        configs.set(e.configName, e.configValue);
    }
    const ids = (t as unknown as { topicId?: string }).topicId;
    return {
      topicId: ids ?? "",
      partitions: t.partitions.length,
      replicationFactor: Math.max(0, ...t.partitions.map((p) => p.replicas.length)),
      configs,
    };
  }

  /** Carries out one planned action; throws with Kafka's error message when refused. */
  async apply(action: TopicAction): Promise<void> {
    const admin = await this.ready();
    switch (action.kind) {
      case "create": {
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic: action.name,
              numPartitions: action.partitions,
              replicationFactor: action.replicationFactor,
              configEntries: [...action.configs].map(([name, value]) => ({ name, value })),
            },
          ],
        });
        if (!created) throw new Error(`topic ${action.name} already exists`);
        return;
      }
      case "create-partitions":
        await admin.createPartitions({ topicPartitions: [{ topic: action.name, count: action.count }] });
        return;
      case "set-configs":
        await this.alterConfigsIncrementally(action.name, action.set, action.remove);
        return;
      case "change-replication-factor":
        await this.changeReplicationFactor(action.name, action.to);
        return;
    }
  }

  async delete(name: string): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.deleteTopics({ topics: [name], timeout: 15000 });
    } catch (err) {
      // Already gone is what we wanted.
      if (!/does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/i.test(String(err))) throw err;
    }
  }

  async close(): Promise<void> {
    const c = this.connection;
    this.connection = undefined;
    if (c) (await c.catch(() => undefined))?.conn.close();
    if (this.connected) await this.admin.disconnect();
    this.connected = false;
  }
}
