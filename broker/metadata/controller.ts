// The controller: the one place that decides metadata changes (topics, partitions,
// configs, producer ids; broker membership and replication in cluster-control.ts and
// replication-control.ts). Each operation validates against the current image, turns
// the change into metadata records and commits them through the metadata quorum; once
// committed they are applied to the image (on every broker) before the operation
// answers. Operations run one at a time, like KRaft's single-threaded QuorumController,
// so validation never races with another change. Only the active controller (the
// quorum's leader) commits; anywhere else the journal refuses with NotLeaderError.
import { randomUuid } from "../../protocol/wire/index.ts";
import type { ErrorName } from "../errors.ts";
import type { MetadataImage } from "./image.ts";
import { ConfigResourceType, type TopicState } from "./image.ts";
import type { MetadataRecord } from "./records.ts";
import { collisionKey, illegalTopicNameReason, isInternalTopic } from "./topic-names.ts";
import { TOPIC_CONFIGS, validateTopicConfig } from "./topic-config.ts";

/** Where metadata records are committed. */
export interface MetadataJournal {
  /**
   * Commits records, all or nothing, and resolves once they are applied to the image;
   * returns the offset of the first.
   */
  append(records: MetadataRecord[]): Promise<number>;
}

export interface CreateTopicRequest {
  name: string;
  /** -1: num.partitions (ignored when assignments are given). */
  numPartitions: number;
  /** -1: default.replication.factor (ignored when assignments are given). */
  replicationFactor: number;
  /** Explicit replica lists per partition index, or empty. */
  assignments: number[][];
  configs: Array<{ name: string; value: string | null }>;
}

export interface TopicResult {
  name: string;
  error?: { code: ErrorName; message: string };
  topic?: TopicState;
}

export interface ControllerDefaults {
  numPartitions: number;
  defaultReplicationFactor: number;
  deleteTopicEnable: boolean;
}

/**
 * The topic policy (Kafka's create.topic.policy / alter.config.policy in one): given what
 * a topic would look like after the change, a reason to refuse it, or undefined.
 */
export type CreateTopicPolicy = (req: {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  configs: ReadonlyMap<string, string>;
}) => string | undefined;

export type AlterConfigOp = {
  name: string;
  op: "set" | "delete" | "append" | "subtract";
  value: string | null;
};

const PRODUCER_ID_BLOCK = 1000n;

/** More partitions than this in one topic is a mistake (or an attack), not a plan. */
export const MAX_PARTITIONS_PER_TOPIC = 100_000;

export class Controller {
  readonly image: MetadataImage;
  private readonly journal: MetadataJournal;
  private readonly defaults: () => ControllerDefaults;
  private queue: Promise<unknown> = Promise.resolve();
  /** Producer ids handed out from the current block; refilled with a ProducerIds record. */
  private producerIdNext = 0n;
  private producerIdEnd = 0n;
  policy?: CreateTopicPolicy;

  constructor(opts: { image: MetadataImage; journal: MetadataJournal; defaults: () => ControllerDefaults }) {
    this.image = opts.image;
    this.journal = opts.journal;
    this.defaults = opts.defaults;
  }

  /** Runs operations one at a time (the other controller parts' operations too). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(fn);
  }

  /** Commits records (inside run()); resolves once the image has them. */
  async commit(records: MetadataRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.journal.append(records);
  }

  createTopics(requests: CreateTopicRequest[], validateOnly: boolean): Promise<TopicResult[]> {
    return this.serialize(async () => {
      const results: TopicResult[] = [];
      const records: MetadataRecord[] = [];
      const seen = new Map<string, number>();
      for (const r of requests) seen.set(r.name, (seen.get(r.name) ?? 0) + 1);
      for (const req of requests) {
        if ((seen.get(req.name) ?? 0) > 1) {
          results.push({
            name: req.name,
            error: {
              code: "INVALID_REQUEST",
              message: `Create topics request from client contains the topic ${req.name} more than once`,
            },
          });
          continue;
        }
        const planned = this.planTopic(req);
        if ("error" in planned) {
          results.push({ name: req.name, error: planned.error });
          continue;
        }
        if (!validateOnly) records.push(...planned.records);
        results.push({ name: req.name });
      }
      await this.commit(records);
      for (const r of results) if (!r.error) r.topic = this.image.topicsByName.get(r.name);
      return results;
    });
  }

  private planTopic(
    req: CreateTopicRequest,
  ): { records: MetadataRecord[] } | { error: { code: ErrorName; message: string } } {
    const fail = (code: ErrorName, message: string): { error: { code: ErrorName; message: string } } => ({
      error: { code, message },
    });
    const illegal = illegalTopicNameReason(req.name);
    if (illegal) return fail("INVALID_TOPIC_EXCEPTION", illegal);
    if (this.image.topicsByName.has(req.name))
      return fail("TOPIC_ALREADY_EXISTS", `Topic '${req.name}' already exists.`);
    const key = collisionKey(req.name);
    for (const existing of this.image.topicsByName.keys()) {
      if (collisionKey(existing) === key) {
        return fail(
          "INVALID_TOPIC_EXCEPTION",
          `Topic '${req.name}' collides with existing topic: ${existing} (topic names differing only in '.' and '_' collide)`,
        );
      }
    }
    const defaults = this.defaults();
    const live = this.image.liveBrokerIds();
    let assignments: number[][];
    if (req.assignments.length > 0) {
      if (req.numPartitions !== -1 || req.replicationFactor !== -1) {
        return fail(
          "INVALID_REQUEST",
          "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.",
        );
      }
      assignments = req.assignments;
      for (const [i, replicas] of assignments.entries()) {
        if (replicas.length === 0)
          return fail("INVALID_REPLICA_ASSIGNMENT", `Partition ${i} has no replicas.`);
        if (new Set(replicas).size !== replicas.length) {
          return fail(
            "INVALID_REPLICA_ASSIGNMENT",
            `Partition ${i} lists a replica more than once: ${replicas.join(",")}`,
          );
        }
        const unknown = replicas.filter((b) => !this.image.brokers.has(b));
        if (unknown.length > 0) {
          return fail(
            "INVALID_REPLICA_ASSIGNMENT",
            `Partition ${i} is assigned to unknown broker(s) ${unknown.join(",")}.`,
          );
        }
      }
    } else {
      const partitions = req.numPartitions === -1 ? defaults.numPartitions : req.numPartitions;
      const rf = req.replicationFactor === -1 ? defaults.defaultReplicationFactor : req.replicationFactor;
      if (partitions <= 0) {
        return fail("INVALID_PARTITIONS", `Number of partitions was set to an invalid non-positive value.`);
      }
      if (partitions > MAX_PARTITIONS_PER_TOPIC) {
        return fail(
          "INVALID_PARTITIONS",
          `Number of partitions ${partitions} is above the limit of ${MAX_PARTITIONS_PER_TOPIC} per topic.`,
        );
      }
      if (rf <= 0) {
        return fail(
          "INVALID_REPLICATION_FACTOR",
          `Replication factor must be larger than 0, or -1 to use the default value.`,
        );
      }
      if (rf > live.length) {
        return fail(
          "INVALID_REPLICATION_FACTOR",
          `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`,
        );
      }
      assignments = assignReplicas(this.rackOrder(live), partitions, rf, this.image.topicsByName.size);
    }
    const configs = new Map<string, string>();
    for (const c of req.configs) {
      const err = validateTopicConfig(c.name, c.value);
      if (err) return fail("INVALID_CONFIG", err);
      configs.set(c.name, c.value!.trim());
    }
    const policyError = this.policy?.({
      name: req.name,
      numPartitions: assignments.length,
      replicationFactor: assignments[0].length,
      configs,
    });
    if (policyError) return fail("POLICY_VIOLATION", policyError);

    const topicId = randomUuid();
    const records: MetadataRecord[] = [{ type: "Topic", value: { name: req.name, topicId } }];
    assignments.forEach((replicas, partitionId) => {
      const leader = replicas.find((b) => live.includes(b)) ?? -1;
      records.push({
        type: "Partition",
        value: {
          partitionId,
          topicId,
          replicas,
          isr: replicas.filter((b) => live.includes(b)),
          removingReplicas: [],
          addingReplicas: [],
          leader,
          leaderRecoveryState: 0,
          leaderEpoch: 0,
          partitionEpoch: 0,
          directories: [],
          eligibleLeaderReplicas: null,
          lastKnownElr: null,
        },
      });
    });
    for (const [name, value] of configs) {
      records.push({
        type: "Config",
        value: { resourceType: ConfigResourceType.TOPIC, resourceName: req.name, name, value },
      });
    }
    return { records };
  }

  deleteTopics(names: string[]): Promise<TopicResult[]> {
    return this.serialize(async () => {
      const results: TopicResult[] = [];
      const records: MetadataRecord[] = [];
      const defaults = this.defaults();
      for (const name of names) {
        const topic = this.image.topicsByName.get(name);
        if (!topic) {
          results.push({
            name,
            error: {
              code: "UNKNOWN_TOPIC_OR_PARTITION",
              message: "This server does not host this topic-partition.",
            },
          });
        } else if (!defaults.deleteTopicEnable) {
          results.push({
            name,
            error: {
              code: "TOPIC_DELETION_DISABLED",
              message: "Topic deletion is disabled (delete.topic.enable=false).",
            },
          });
        } else if (isInternalTopic(name)) {
          results.push({
            name,
            error: {
              code: "INVALID_TOPIC_EXCEPTION",
              message: `Topic ${name} is an internal topic and cannot be deleted.`,
            },
          });
        } else {
          results.push({ name, topic });
          records.push({ type: "RemoveTopic", value: { topicId: topic.id } });
        }
      }
      await this.commit(records);
      return results;
    });
  }

  createPartitions(
    requests: Array<{ name: string; count: number; assignments: number[][] | null }>,
    validateOnly: boolean,
  ): Promise<TopicResult[]> {
    return this.serialize(async () => {
      const results: TopicResult[] = [];
      const records: MetadataRecord[] = [];
      const live = this.image.liveBrokerIds();
      for (const req of requests) {
        const topic = this.image.topicsByName.get(req.name);
        const fail = (code: ErrorName, message: string): void =>
          void results.push({ name: req.name, error: { code, message } });
        if (!topic) {
          fail("UNKNOWN_TOPIC_OR_PARTITION", `The topic '${req.name}' does not exist.`);
          continue;
        }
        const current = topic.partitions.length;
        if (req.count < current) {
          fail(
            "INVALID_PARTITIONS",
            `The topic ${req.name} currently has ${current} partition(s); ${req.count} would not be an increase.`,
          );
          continue;
        }
        if (req.count > MAX_PARTITIONS_PER_TOPIC) {
          fail(
            "INVALID_PARTITIONS",
            `${req.count} partitions is above the limit of ${MAX_PARTITIONS_PER_TOPIC} per topic.`,
          );
          continue;
        }
        if (req.count === current) {
          fail("INVALID_PARTITIONS", `Topic already has ${current} partition(s).`);
          continue;
        }
        const rf = topic.partitions[0]?.replicas.length ?? 1;
        let added: number[][];
        if (req.assignments) {
          if (req.assignments.length !== req.count - current) {
            fail(
              "INVALID_REPLICA_ASSIGNMENT",
              `Increasing the number of partitions by ${req.count - current} but ${req.assignments.length} assignments provided.`,
            );
            continue;
          }
          added = req.assignments;
        } else {
          if (rf > live.length) {
            fail(
              "INVALID_REPLICATION_FACTOR",
              `Unable to replicate the partition ${rf} time(s): only ${live.length} broker(s) are registered.`,
            );
            continue;
          }
          added = assignReplicas(this.rackOrder(live), req.count - current, rf, current);
        }
        const policyError = this.policy?.({
          name: req.name,
          numPartitions: req.count,
          replicationFactor: rf,
          configs: topic.configs,
        });
        if (policyError) {
          fail("POLICY_VIOLATION", policyError);
          continue;
        }
        results.push({ name: req.name, topic });
        if (validateOnly) continue;
        added.forEach((replicas, i) => {
          records.push({
            type: "Partition",
            value: {
              partitionId: current + i,
              topicId: topic.id,
              replicas,
              isr: replicas.filter((b) => live.includes(b)),
              removingReplicas: [],
              addingReplicas: [],
              leader: replicas.find((b) => live.includes(b)) ?? -1,
              leaderRecoveryState: 0,
              leaderEpoch: 0,
              partitionEpoch: 0,
              directories: [],
              eligibleLeaderReplicas: null,
              lastKnownElr: null,
            },
          });
        });
      }
      await this.commit(records);
      return results;
    });
  }

  /**
   * Changes a topic's configs. `replace` (AlterConfigs) makes the given set the whole
   * set of overrides; otherwise the operations are incremental (IncrementalAlterConfigs).
   */
  alterTopicConfigs(
    name: string,
    ops: AlterConfigOp[],
    replace: boolean,
    validateOnly: boolean,
  ): Promise<TopicResult> {
    return this.serialize(async () => {
      const topic = this.image.topicsByName.get(name);
      if (!topic)
        return {
          name,
          error: {
            code: "UNKNOWN_TOPIC_OR_PARTITION" as ErrorName,
            message: `Topic ${name} does not exist.`,
          },
        };
      const next = replace ? new Map<string, string>() : new Map(topic.configs);
      for (const op of ops) {
        if (op.op === "delete") {
          if (!(op.name in TOPIC_CONFIGS)) {
            return {
              name,
              error: {
                code: "INVALID_CONFIG" as ErrorName,
                message: `Unknown topic config name: ${op.name}`,
              },
            };
          }
          next.delete(op.name);
          continue;
        }
        let value = op.value;
        if (op.op === "append" || op.op === "subtract") {
          const current = (next.get(op.name) ?? "").split(",").filter((s) => s !== "");
          const items = (op.value ?? "")
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== "");
          value = (
            op.op === "append"
              ? [...current, ...items.filter((i) => !current.includes(i))]
              : current.filter((c) => !items.includes(c))
          ).join(",");
        }
        const err = validateTopicConfig(op.name, value);
        if (err) return { name, error: { code: "INVALID_CONFIG" as ErrorName, message: err } };
        next.set(op.name, value!.trim());
      }
      const policyError = this.policy?.({
        name,
        numPartitions: topic.partitions.length,
        replicationFactor: topic.partitions[0]?.replicas.length ?? 1,
        configs: next,
      });
      if (policyError)
        return { name, error: { code: "POLICY_VIOLATION" as ErrorName, message: policyError } };
      if (validateOnly) return { name, topic };
      const records: MetadataRecord[] = [];
      for (const [k, v] of next) {
        if (topic.configs.get(k) !== v) {
          records.push({
            type: "Config",
            value: { resourceType: ConfigResourceType.TOPIC, resourceName: name, name: k, value: v },
          });
        }
      }
      for (const k of topic.configs.keys()) {
        if (!next.has(k)) {
          records.push({
            type: "Config",
            value: { resourceType: ConfigResourceType.TOPIC, resourceName: name, name: k, value: null },
          });
        }
      }
      await this.commit(records);
      return { name, topic };
    });
  }

  /** Brokers ordered so that neighbours are in different racks (when broker.rack is set). */
  private rackOrder(brokers: number[]): number[] {
    return rackAlternating(brokers.map((id) => ({ id, rack: this.image.brokers.get(id)?.rack ?? null })));
  }

  /** A block of producer ids for a broker to hand out (AllocateProducerIds), reserved durably. */
  allocateProducerIdBlock(brokerId: number): Promise<{ start: bigint; length: number }> {
    return this.serialize(async () => {
      const start = this.image.nextProducerId;
      await this.commit([
        {
          type: "ProducerIds",
          value: {
            brokerId,
            brokerEpoch: this.image.brokers.get(brokerId)?.epoch ?? -1n,
            nextProducerId: start + PRODUCER_ID_BLOCK,
          },
        },
      ]);
      return { start, length: Number(PRODUCER_ID_BLOCK) };
    });
  }

  /** A new producer id, from a block reserved durably so ids are never reused after a restart. */
  allocateProducerId(brokerId: number): Promise<bigint> {
    return this.serialize(async () => {
      if (this.producerIdNext >= this.producerIdEnd) {
        const start = this.image.nextProducerId;
        await this.commit([
          {
            type: "ProducerIds",
            value: { brokerId, brokerEpoch: 0n, nextProducerId: start + PRODUCER_ID_BLOCK },
          },
        ]);
        this.producerIdNext = start;
        this.producerIdEnd = start + PRODUCER_ID_BLOCK;
      }
      return this.producerIdNext++;
    });
  }
}

/**
 * Orders brokers so that consecutive ones are in different racks where possible (one
 * from each rack in turn, racks and brokers in id order), so consecutive replicas of a
 * partition land in different racks. Without racks the order is by id.
 */
export function rackAlternating(brokers: Array<{ id: number; rack: string | null }>): number[] {
  const sorted = [...brokers].sort((a, b) => a.id - b.id);
  if (sorted.every((b) => b.rack === null)) return sorted.map((b) => b.id);
  const byRack = new Map<string, number[]>();
  for (const b of sorted) {
    const rack = b.rack ?? "";
    byRack.set(rack, [...(byRack.get(rack) ?? []), b.id]);
  }
  const racks = [...byRack.keys()].sort();
  const out: number[] = [];
  for (let i = 0; out.length < sorted.length; i++) {
    for (const r of racks) {
      const id = byRack.get(r)![i];
      if (id !== undefined) out.push(id);
    }
  }
  return out;
}

/**
 * Spreads partitions over brokers as Kafka does without racks: partition p's first
 * replica is broker (start + p) mod n, the others follow in broker order, so leaders
 * and replicas are balanced. `start` varies per topic so small topics do not all
 * land on the first broker.
 */
export function assignReplicas(brokers: number[], partitions: number, rf: number, start: number): number[][] {
  const out: number[][] = [];
  const n = brokers.length;
  for (let p = 0; p < partitions; p++) {
    const replicas: number[] = [];
    for (let r = 0; r < rf; r++) replicas.push(brokers[(start + p + r) % n]);
    out.push(replicas);
  }
  return out;
}
