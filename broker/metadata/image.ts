// The cluster metadata as of the last applied metadata record: topics with their
// partitions (replicas, ISR, leader, epochs) and configs, brokers, the producer id
// high-water mark. It changes only by applying records, in log order, so every
// broker that applies the same log has the same image (KRaft's MetadataImage).
import type { MetadataRecord } from "./records.ts";

export interface PartitionState {
  topicId: string;
  partition: number;
  replicas: number[];
  isr: number[];
  /** A reassignment in progress: replicas joining, and replicas leaving once they have joined. */
  addingReplicas: number[];
  removingReplicas: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicState {
  name: string;
  id: string;
  partitions: PartitionState[];
  configs: Map<string, string>;
}

export interface BrokerEndpoint {
  name: string;
  host: string;
  port: number;
}

export interface BrokerState {
  id: number;
  incarnationId: string;
  /** Handed out at registration; a broker's requests carry it so a stale incarnation is refused. */
  epoch: bigint;
  endpoints: BrokerEndpoint[];
  rack: string | null;
  fenced: boolean;
  /** Asked to shut down: leads nothing and joins no ISR until it registers again. */
  inControlledShutdown: boolean;
}

/** What applying one record changed, for the parts of the broker that act on it. */
export type MetadataChange =
  | { kind: "topic-created"; topic: TopicState }
  | { kind: "topic-deleted"; topic: TopicState }
  | { kind: "partition-changed"; topic: TopicState; partition: PartitionState }
  | { kind: "topic-config-changed"; topic: TopicState }
  | { kind: "broker-changed"; broker: BrokerState };

/** ConfigRecord resource types. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4 } as const;

export class MetadataImage {
  readonly topicsByName = new Map<string, TopicState>();
  readonly topicsById = new Map<string, TopicState>();
  readonly brokers = new Map<number, BrokerState>();
  /** Dynamic broker configs (ConfigRecord for resource type BROKER). */
  readonly brokerConfigs = new Map<string, Map<string, string>>();
  /** The next producer id not yet handed out. */
  nextProducerId = 0n;
  /** Offset of the last record applied, -1 before any. */
  lastOffset = -1;

  apply(rec: MetadataRecord, offset: number): MetadataChange[] {
    this.lastOffset = offset;
    switch (rec.type) {
      case "Topic": {
        const topic: TopicState = {
          name: rec.value.name,
          id: rec.value.topicId,
          partitions: [],
          configs: new Map(),
        };
        this.topicsByName.set(topic.name, topic);
        this.topicsById.set(topic.id, topic);
        return [{ kind: "topic-created", topic }];
      }
      case "Partition": {
        const topic = this.topicsById.get(rec.value.topicId);
        if (!topic) return [];
        const p: PartitionState = {
          topicId: topic.id,
          partition: rec.value.partitionId,
          replicas: rec.value.replicas,
          isr: rec.value.isr,
          addingReplicas: rec.value.addingReplicas,
          removingReplicas: rec.value.removingReplicas,
          leader: rec.value.leader,
          leaderEpoch: rec.value.leaderEpoch,
          partitionEpoch: rec.value.partitionEpoch,
        };
        topic.partitions[p.partition] = p;
        return [{ kind: "partition-changed", topic, partition: p }];
      }
      case "PartitionChange": {
        const topic = this.topicsById.get(rec.value.topicId);
        const p = topic?.partitions[rec.value.partitionId];
        if (!topic || !p) return [];
        const v = rec.value;
        if (v.isr !== null) p.isr = v.isr;
        if (v.replicas !== null) p.replicas = v.replicas;
        if (v.addingReplicas !== null) p.addingReplicas = v.addingReplicas;
        if (v.removingReplicas !== null) p.removingReplicas = v.removingReplicas;
        if (v.leader !== -2 && v.leader !== p.leader) {
          p.leader = v.leader;
          p.leaderEpoch++;
        }
        p.partitionEpoch++;
        return [{ kind: "partition-changed", topic, partition: p }];
      }
      case "Config": {
        const v = rec.value;
        if (v.resourceType === ConfigResourceType.TOPIC) {
          const topic = this.topicsByName.get(v.resourceName);
          if (!topic) return [];
          if (v.value === null) topic.configs.delete(v.name);
          else topic.configs.set(v.name, v.value);
          return [{ kind: "topic-config-changed", topic }];
        }
        if (v.resourceType === ConfigResourceType.BROKER) {
          const configs = this.brokerConfigs.get(v.resourceName) ?? new Map<string, string>();
          if (v.value === null) configs.delete(v.name);
          else configs.set(v.name, v.value);
          this.brokerConfigs.set(v.resourceName, configs);
        }
        return [];
      }
      case "RemoveTopic": {
        const topic = this.topicsById.get(rec.value.topicId);
        if (!topic) return [];
        this.topicsById.delete(topic.id);
        this.topicsByName.delete(topic.name);
        return [{ kind: "topic-deleted", topic }];
      }
      case "RegisterBroker": {
        const v = rec.value;
        const broker: BrokerState = {
          id: v.brokerId,
          incarnationId: v.incarnationId,
          epoch: v.brokerEpoch,
          endpoints: v.endPoints.map((e) => ({ name: e.name, host: e.host, port: e.port })),
          rack: v.rack,
          fenced: v.fenced,
          inControlledShutdown: v.inControlledShutdown,
        };
        this.brokers.set(broker.id, broker);
        return [{ kind: "broker-changed", broker }];
      }
      case "FenceBroker":
      case "UnfenceBroker": {
        const broker = this.brokers.get(rec.value.id);
        if (!broker || broker.epoch !== rec.value.epoch) return [];
        broker.fenced = rec.type === "FenceBroker";
        return [{ kind: "broker-changed", broker }];
      }
      case "BrokerRegistrationChange": {
        const v = rec.value;
        const broker = this.brokers.get(v.brokerId);
        if (!broker || broker.epoch !== v.brokerEpoch) return [];
        if (v.fenced !== 0) broker.fenced = v.fenced > 0;
        if (v.inControlledShutdown > 0) broker.inControlledShutdown = true;
        return [{ kind: "broker-changed", broker }];
      }
      case "UnregisterBroker": {
        const broker = this.brokers.get(rec.value.brokerId);
        if (!broker || broker.epoch !== rec.value.brokerEpoch) return [];
        this.brokers.delete(broker.id);
        return [{ kind: "broker-changed", broker: { ...broker, fenced: true } }];
      }
      case "ProducerIds":
        this.nextProducerId = rec.value.nextProducerId;
        return [];
    }
  }

  /** Live (unfenced, not shutting down) broker ids, sorted. */
  liveBrokerIds(): number[] {
    return [...this.brokers.values()]
      .filter((b) => !b.fenced && !b.inControlledShutdown)
      .map((b) => b.id)
      .sort((a, b) => a - b);
  }
}
