// The Kafka side of topic reconciliation, through kafkajs' admin client: describe a
// topic as the plan needs it, and carry out each planned action.
import { Kafka, logLevel, type Admin } from "kafkajs";
import type { ActualTopic, TopicAction } from "./plan.ts";

const TOPIC_RESOURCE = 2;
/** DescribeConfigs' source for configs set on the topic itself. */
const TOPIC_CONFIG_SOURCE = 1;

export class TopicAdmin {
  private readonly admin: Admin;
  private connected = false;

  constructor(bootstrap: string[], clientId = "capstan-operator") {
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
        // AlterConfigs replaces the topic's whole set of overrides: exactly the desired set.
        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: TOPIC_RESOURCE,
              name: action.name,
              configEntries: [...action.configs].map(([name, value]) => ({ name, value })),
            },
          ],
        });
        return;
      case "change-replication-factor":
        throw new Error(
          `changing ${action.name}'s replication factor from ${action.from} to ${action.to} needs partition reassignment, which this cluster does not support yet`,
        );
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
    if (this.connected) await this.admin.disconnect();
    this.connected = false;
  }
}
