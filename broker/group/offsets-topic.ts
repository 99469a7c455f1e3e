// The broker's side of the group coordinator: creates __consumer_offsets the first
// time a client needs a coordinator (as Kafka does, with Kafka's settings for it) and
// keeps the coordinator's partitions in step with this broker's leadership: when the
// metadata makes this broker the leader of an __consumer_offsets partition its groups
// are loaded; when leadership moves away they are unloaded.
import type { Logger } from "../../lib/logger.ts";
import type { Broker } from "../broker.ts";
import type { TopicState } from "../metadata/image.ts";
import type { GroupCoordinator } from "./coordinator.ts";
import { OFFSETS_TOPIC } from "./offsets-log.ts";

export class OffsetsTopicManager {
  private readonly broker: Broker;
  private readonly coordinator: GroupCoordinator;
  private readonly log: Logger;
  private creating: Promise<TopicState | undefined> | null = null;
  private readonly loads = new Set<Promise<void>>();

  constructor(broker: Broker, coordinator: GroupCoordinator, log: Logger) {
    this.broker = broker;
    this.coordinator = coordinator;
    this.log = log;
  }

  topic(): TopicState | undefined {
    return this.broker.image.topicsByName.get(OFFSETS_TOPIC);
  }

  /** The topic, created now if it does not exist yet; undefined if it cannot be created. */
  ensureExists(): Promise<TopicState | undefined> {
    const existing = this.topic();
    if (existing) return Promise.resolve(existing);
    this.creating ??= this.create().finally(() => {
      this.creating = null;
    });
    return this.creating;
  }

  private async create(): Promise<TopicState | undefined> {
    const config = this.broker.config;
    const partitions = config.int("offsets.topic.num.partitions");
    const wanted = config.int("offsets.topic.replication.factor");
    const live = this.broker.image.liveBrokerIds().length;
    // Kafka refuses to create it until enough brokers are up; a cluster smaller than the
    // configured factor (a single dev broker) would then never get a group coordinator.
    const rf = Math.max(1, Math.min(wanted, live));
    if (rf < wanted) {
      this.log.warn(
        `creating ${OFFSETS_TOPIC} with replication factor ${rf}: offsets.topic.replication.factor is ${wanted} but only ${live} broker(s) are live`,
      );
    }
    const [result] = await this.broker.controller.createTopics(
      [
        {
          name: OFFSETS_TOPIC,
          numPartitions: partitions,
          replicationFactor: rf,
          assignments: [],
          configs: [
            { name: "cleanup.policy", value: "compact" },
            { name: "compression.type", value: "producer" },
            { name: "segment.bytes", value: String(config.int("offsets.topic.segment.bytes")) },
          ],
        },
      ],
      false,
    );
    if (result.error && result.error.code !== "TOPIC_ALREADY_EXISTS") {
      this.log.error(`could not create ${OFFSETS_TOPIC}`, { error: result.error.message });
      return undefined;
    }
    this.log.info(`created ${OFFSETS_TOPIC}`, { partitions, replicationFactor: rf });
    await this.syncLeadership();
    return this.topic();
  }

  /**
   * Loads the partitions this broker leads and unloads the others. Called after every
   * metadata change the replica manager applies; loading runs in the background.
   */
  syncLeadership(): Promise<void> {
    const topic = this.topic();
    const led = new Set<number>();
    if (topic) {
      this.coordinator.numPartitions = topic.partitions.length;
      for (const p of topic.partitions) {
        if (!p) continue;
        const replica = this.broker.replicas.get(OFFSETS_TOPIC, p.partition);
        if (replica && replica.leader === this.broker.nodeId && !this.broker.stopping) led.add(p.partition);
      }
    }
    for (const p of this.coordinator.ownedPartitions()) if (!led.has(p)) this.coordinator.unloadPartition(p);
    for (const p of led) {
      if (this.coordinator.ownedPartitions().includes(p)) continue;
      const load = this.coordinator.loadPartition(p).finally(() => this.loads.delete(load));
      this.loads.add(load);
    }
    return this.whenLoaded();
  }

  /** Resolves once the loads started so far have finished. */
  async whenLoaded(): Promise<void> {
    await Promise.all([...this.loads]);
  }
}
