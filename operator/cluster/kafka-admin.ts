// What the operator asks a KafkaCluster's brokers (with kafkajs' admin client): the
// cluster id, the active controller and every partition's replicas and ISR (for the
// rolling-restart and scale-down gates), and partition reassignments. Each call opens a
// short-lived connection with short timeouts and no retries: a reconcile must stay fast,
// and brokers that cannot be reached mean "wait and look again", not "block".
import net from "node:net";
import tls from "node:tls";
import type { ISocketFactory } from "kafkajs";
import { Kafka, logLevel } from "kafkajs";
import type { KafkaCluster } from "../api/types.ts";
import type { PartitionInfo } from "./scale-down.ts";

export interface ClusterView {
  clusterId: string;
  controllerId: number | null;
  brokers: number[];
  partitions: PartitionInfo[];
}

export interface Reassignment {
  topic: string;
  partition: number;
  replicas: number[];
}

/** The broker does not implement AlterPartitionReassignments / ListPartitionReassignments. */
export class ReassignmentUnsupportedError extends Error {
  constructor(cause: unknown) {
    super(
      `the brokers do not support partition reassignment (${cause instanceof Error ? cause.message : cause})`,
    );
    this.name = "ReassignmentUnsupportedError";
  }
}

export interface KafkaAdmin {
  describe(kc: KafkaCluster): Promise<ClusterView>;
  /** Partitions with a reassignment in progress. */
  ongoingReassignments(kc: KafkaCluster): Promise<Reassignment[]>;
  reassign(kc: KafkaCluster, moves: readonly Reassignment[]): Promise<void>;
}

export interface KafkajsAdminOptions {
  /** host:port to dial for a broker address (tests map pod DNS names to loopback). */
  addressMap?: (host: string, port: number) => { host: string; port: number };
  /** The bootstrap address of a cluster; `<name>-bootstrap.<namespace>.svc:9092` by default. */
  bootstrap?: (kc: KafkaCluster) => string;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export function bootstrapAddress(kc: KafkaCluster): string {
  return `${kc.metadata.name}-bootstrap.${kc.metadata.namespace ?? "default"}.svc:9092`;
}

const UNSUPPORTED = new Set(["KafkaJSServerDoesNotSupportApiKey", "KafkaJSNotImplemented"]);

export class KafkajsAdmin implements KafkaAdmin {
  private readonly opts: KafkajsAdminOptions;

  constructor(opts: KafkajsAdminOptions = {}) {
    this.opts = opts;
  }

  async describe(kc: KafkaCluster): Promise<ClusterView> {
    return this.withAdmin(kc, async (admin) => {
      const cluster = await admin.describeCluster();
      const { topics } = await admin.fetchTopicMetadata();
      return {
        clusterId: cluster.clusterId,
        controllerId: cluster.controller,
        brokers: cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b),
        partitions: topics.flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name,
            partition: p.partitionId,
            replicas: p.replicas,
            isr: p.isr,
          })),
        ),
      };
    });
  }

  async ongoingReassignments(kc: KafkaCluster): Promise<Reassignment[]> {
    return this.withAdmin(kc, async (admin) => {
      try {
        const res = await admin.listPartitionReassignments({});
        return res.topics.flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.topic, partition: p.partitionIndex, replicas: p.replicas })),
        );
      } catch (err) {
        if (UNSUPPORTED.has((err as Error).name)) throw new ReassignmentUnsupportedError(err);
        throw err;
      }
    });
  }

  async reassign(kc: KafkaCluster, moves: readonly Reassignment[]): Promise<void> {
    const byTopic = new Map<string, Array<{ partition: number; replicas: number[] }>>();
    for (const m of moves) {
      const list = byTopic.get(m.topic) ?? [];
      list.push({ partition: m.partition, replicas: m.replicas });
      byTopic.set(m.topic, list);
    }
    await this.withAdmin(kc, async (admin) => {
      try {
        await admin.alterPartitionReassignments({
          topics: [...byTopic].map(([topic, partitionAssignment]) => ({ topic, partitionAssignment })),
        });
      } catch (err) {
        if (UNSUPPORTED.has((err as Error).name)) throw new ReassignmentUnsupportedError(err);
        throw err;
      }
    });
  }

  private async withAdmin<T>(
    kc: KafkaCluster,
    fn: (admin: ReturnType<Kafka["admin"]>) => Promise<T>,
  ): Promise<T> {
    const map = this.opts.addressMap;
    const socketFactory: ISocketFactory | undefined = map
      ? ({ host, port, ssl, onConnect }) => {
          const to = map(host, port);
          return ssl
            ? tls.connect({ ...ssl, host: to.host, port: to.port, servername: host }, onConnect)
            : net.connect({ host: to.host, port: to.port }, onConnect);
        }
      : undefined;
    const kafka = new Kafka({
      clientId: "capstan-operator",
      brokers: [(this.opts.bootstrap ?? bootstrapAddress)(kc)],
      connectionTimeout: this.opts.connectionTimeoutMs ?? 3000,
      requestTimeout: this.opts.requestTimeoutMs ?? 10_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
      socketFactory,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
