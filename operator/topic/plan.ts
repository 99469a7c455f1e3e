// What to do about one KafkaTopic, as a pure function of the resource, its cluster's
// policy and what Kafka has now: create, grow, reconfigure (reverting drift), change
// the replication factor by reassignment, or refuse with a condition saying why. The
// reconcilers (operator and local mode) carry the plan out; nothing here does I/O.
import type { KafkaTopic, TopicPolicySpec } from "../api/types.ts";
import { checkTopic, defaultReplicationFactor, describeViolations } from "../../policy/topic-policy.ts";

/** A topic as Kafka describes it. */
export interface ActualTopic {
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Configs set on the topic itself (not defaults). */
  configs: Map<string, string>;
}

export type TopicAction =
  | {
      kind: "create";
      name: string;
      partitions: number;
      replicationFactor: number;
      configs: Map<string, string>;
    }
  | { kind: "create-partitions"; name: string; count: number }
  | {
      kind: "set-configs";
      name: string;
      /** The whole desired set of topic overrides. */
      configs: Map<string, string>;
      /** Overrides to set (IncrementalAlterConfigs SET): missing or with another value. */
      set: Map<string, string>;
      /** Overrides to remove (IncrementalAlterConfigs DELETE): not in the spec. */
      remove: string[];
      /** What Kafka had that the spec does not say, as "key=value (now ...)" for Events. */
      reverted: string[];
    }
  | { kind: "change-replication-factor"; name: string; from: number; to: number };

export interface TopicProblem {
  /** Condition reason, CamelCase. */
  reason: "PolicyViolation" | "PartitionDecreaseRefused" | "ReplicationFactorUnavailable";
  message: string;
  /** A problem that blocks everything (nothing is created or changed) rather than one part. */
  blocking: boolean;
}

export interface TopicPlan {
  topicName: string;
  partitions: number;
  replicationFactor: number;
  actions: TopicAction[];
  problems: TopicProblem[];
  /** Policy findings admitted in Warn or Audit mode (reported, not refused). */
  warnings: string[];
}

export interface ClusterFacts {
  brokerCount: number;
  policy?: TopicPolicySpec;
  /** Effective default of a topic config in this cluster. */
  defaultConfig?: (name: string) => string | undefined;
}

export function topicNameOf(t: KafkaTopic): string {
  return t.spec.topicName ?? t.metadata.name!;
}

export function planTopic(t: KafkaTopic, actual: ActualTopic | null, cluster: ClusterFacts): TopicPlan {
  const name = topicNameOf(t);
  const desiredConfigs = new Map(Object.entries(t.spec.config ?? {}));
  // Unset: the policy's default for a new topic; an existing (adopted) topic keeps its own.
  const rf =
    t.spec.replicationFactor ??
    actual?.replicationFactor ??
    defaultReplicationFactor(cluster.policy, { brokerCount: cluster.brokerCount });
  const plan: TopicPlan = {
    topicName: name,
    partitions: t.spec.partitions,
    replicationFactor: rf,
    actions: [],
    problems: [],
    warnings: [],
  };

  const violations = checkTopic(
    cluster.policy,
    { name, partitions: t.spec.partitions, replicationFactor: rf, configs: desiredConfigs },
    { brokerCount: cluster.brokerCount, defaultConfig: cluster.defaultConfig },
  );
  const mode = cluster.policy?.mode ?? "Enforce";
  // Kafka's own limits (legal names, no more replicas than brokers) hold whatever the mode.
  const hard = violations.filter(
    (v) => v.rule === "topic-name" || (v.rule === "replication-factor" && rf > cluster.brokerCount),
  );
  const soft = violations.filter((v) => !hard.includes(v));
  if (hard.length > 0 || (mode === "Enforce" && soft.length > 0)) {
    plan.problems.push({
      reason: "PolicyViolation",
      message: describeViolations(mode === "Enforce" ? violations : hard),
      blocking: true,
    });
    return plan;
  }
  if (soft.length > 0) plan.warnings.push(describeViolations(soft));

  if (actual === null) {
    plan.actions.push({
      kind: "create",
      name,
      partitions: t.spec.partitions,
      replicationFactor: rf,
      configs: desiredConfigs,
    });
    return plan;
  }

  if (t.spec.partitions > actual.partitions) {
    plan.actions.push({ kind: "create-partitions", name, count: t.spec.partitions });
  } else if (t.spec.partitions < actual.partitions) {
    plan.problems.push({
      reason: "PartitionDecreaseRefused",
      message: `topic ${name} has ${actual.partitions} partitions and Kafka cannot remove partitions; set spec.partitions to ${actual.partitions} or more`,
      blocking: false,
    });
  }

  const reverted: string[] = [];
  const remove: string[] = [];
  for (const [k, v] of actual.configs) {
    if (!desiredConfigs.has(k)) {
      reverted.push(`${k}=${v} (removed)`);
      remove.push(k);
    } else if (desiredConfigs.get(k) !== v) reverted.push(`${k}=${v} (now ${desiredConfigs.get(k)})`);
  }
  const set = new Map([...desiredConfigs].filter(([k, v]) => actual.configs.get(k) !== v));
  if (set.size > 0 || remove.length > 0) {
    plan.actions.push({ kind: "set-configs", name, configs: desiredConfigs, set, remove, reverted });
  }

  if (actual.replicationFactor !== rf) {
    plan.actions.push({ kind: "change-replication-factor", name, from: actual.replicationFactor, to: rf });
  }
  return plan;
}
