// The KafkaTopic reconciler: level-triggered, like the KafkaCluster one. Each run finds the
// topic's KafkaCluster (the kafka.capstan.dev/cluster label, same namespace), settles who
// owns the Kafka topic when several resources name it (the oldest wins), adds the
// finalizer before any Kafka work, asks the brokers what the topic looks like, plans
// (plan.ts: create, grow, revert config drift, or refuse) and carries the plan out, then
// writes the status and Events. Ready topics are looked at again every minute, so changes
// made on the cluster behind the operator's back (kafka-configs.sh) are found and undone.
//
// On deletion the finalizer deletes the Kafka topic first, unless the resource says
// spec.deletionPolicy: Retain, it lost a name conflict, or its KafkaCluster
// is gone or being deleted (a namespace being torn down must never hang on brokers that
// are going away): then the finalizer is dropped without touching Kafka.
import type {
  Condition,
  KafkaCluster,
  KafkaTopic,
  KafkaTopicStatus,
  TopicConsumerLag,
} from "../api/types.ts";
import { CLUSTER_LABEL } from "../api/types.ts";
import { bootstrapAddress } from "../cluster/kafka-admin.ts";
import { clusterTopicDefaults } from "../lint.ts";
import type { ConditionInput } from "../runtime/conditions.ts";
import { isTrue, setConditions } from "../runtime/conditions.ts";
import { withDefaults } from "../runtime/defaults.ts";
import type { KubeObject } from "../runtime/kube-client.ts";
import { isConflict, isNotFound } from "../runtime/kube-client.ts";
import type { ObjectKey, ReconcileContext, Reconciler, WatchSpec } from "../runtime/manager.ts";
import { KAFKA_CLUSTER, KAFKA_TOPIC } from "../runtime/resources.ts";
import type { WorkResult } from "../runtime/work-queue.ts";
import { ReassignmentUnsupportedError } from "../cluster/kafka-admin.ts";
import type { Finalizable } from "./finalizer.ts";
import { addFinalizer, hasFinalizer, removeFinalizer, retainsTopic } from "./finalizer.ts";
import { ReassignmentRefusedError, TopicAdmin } from "./kafka-admin.ts";
import type { ActualTopic, TopicAction, TopicPlan, TopicProblem } from "./plan.ts";
import { planTopic, topicNameOf } from "./plan.ts";
import type { ReassignmentProgress } from "./replicas.ts";

export const TOPIC_FIELD_MANAGER = "capstan-topic";

/** What the reconciler needs from a cluster's brokers (TopicAdmin in kafka-admin.ts). */
export interface TopicKafka {
  brokerCount(): Promise<number>;
  describe(name: string): Promise<ActualTopic | null>;
  apply(action: TopicAction): Promise<void>;
  /** Starts or follows a replication factor change by reassignment; how far it is. */
  changeReplicationFactor(name: string, to: number): Promise<ReassignmentProgress>;
  delete(name: string): Promise<void>;
  /** Kafka's topic id (Metadata v10+), "" when the brokers do not say. */
  topicId(name: string): Promise<string>;
  /** Every config of the topic with its effective value (own, broker or Kafka default). */
  effectiveConfig(name: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export type TopicKafkaFactory = (kc: KafkaCluster) => TopicKafka;

export interface KafkaTopicReconcilerOptions {
  /** How to reach a cluster's brokers; its bootstrap Service by default. */
  kafka?: TopicKafkaFactory;
  /** How often a converged topic is looked at again (drift made on the cluster). */
  resyncMs?: number;
  /** How soon to look again while stalled, conflicting or without a cluster. */
  stalledRequeueMs?: number;
  /** How soon to look again while Kafka deletes a topic. */
  deletionPollMs?: number;
  /** How soon to look again while partitions move to a new replication factor. */
  reassignmentPollMs?: number;
  /** The lag on a topic from the operator's lag exporter (status.consumerLag); none by default. */
  lag?: TopicLagSource;
}

/** Reads a topic's lag from the latest lag snapshot of its cluster, or null (none known). */
export type TopicLagSource = (namespace: string, cluster: string, topic: string) => TopicConsumerLag | null;

type Topic = KafkaTopic & Finalizable;
type Cluster = KafkaCluster & KubeObject;

export class KafkaTopicReconciler implements Reconciler {
  readonly kind = "KafkaTopic";
  readonly primary = KAFKA_TOPIC;
  readonly watches: readonly WatchSpec[] = [
    {
      // A cluster appearing, changing its policy or going away concerns its topics.
      type: KAFKA_CLUSTER,
      map: (obj, caches) =>
        caches
          .cache<Topic>(KAFKA_TOPIC)
          .list(obj.metadata?.namespace)
          .filter((t) => t.metadata.labels?.[CLUSTER_LABEL] === obj.metadata?.name)
          .map((t) => ({ namespace: t.metadata.namespace ?? "", name: t.metadata.name! })),
    },
  ];
  private readonly opts: Required<KafkaTopicReconcilerOptions>;
  /**
   * Resources (namespace/name -> uid) whose Kafka topic this operator created or adopted,
   * and those with a replication factor change under way: the next reconcile may run on a
   * cached object that does not show the status just written yet, and must not announce
   * the same adoption or reassignment again.
   */
  private readonly established = new Map<string, string>();
  private readonly reassigning = new Map<string, string>();

  constructor(opts: KafkaTopicReconcilerOptions = {}) {
    this.opts = withDefaults(
      {
        kafka: ((kc: KafkaCluster) => new TopicAdmin([bootstrapAddress(kc)])) as TopicKafkaFactory,
        resyncMs: 60_000,
        stalledRequeueMs: 60_000,
        deletionPollMs: 1000,
        reassignmentPollMs: 2000,
        lag: () => null,
      },
      opts,
    );
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<WorkResult | void> {
    const topic = ctx.cache<Topic>(KAFKA_TOPIC).get(key.namespace, key.name);
    if (!topic) {
      ctx.metrics.resourceReady.remove({ kind: this.kind, namespace: key.namespace, name: key.name });
      this.established.delete(`${key.namespace}/${key.name}`);
      this.reassigning.delete(`${key.namespace}/${key.name}`);
      return;
    }
    const clusterName = topic.metadata.labels?.[CLUSTER_LABEL];
    const kc = clusterName ? ctx.cache<Cluster>(KAFKA_CLUSTER).get(key.namespace, clusterName) : undefined;
    const owner = this.owner(topic, ctx);

    if (topic.metadata.deletionTimestamp) return this.finalize(topic, kc, owner, ctx);

    if (!kc) {
      await this.report(topic, ctx, {
        ready: {
          reason: "ClusterNotFound",
          message: clusterName
            ? `KafkaCluster ${clusterName} does not exist in namespace ${key.namespace}.`
            : `The KafkaTopic has no ${CLUSTER_LABEL} label naming its KafkaCluster.`,
        },
        event: "Warning",
      });
      return { requeueAfterMs: this.opts.stalledRequeueMs };
    }
    if (kc.metadata.deletionTimestamp) return { requeueAfterMs: this.opts.stalledRequeueMs };

    if (owner !== topic) {
      await this.report(topic, ctx, {
        ready: {
          reason: "ResourceConflict",
          message: `KafkaTopic ${owner.metadata.name} (older) manages topic ${topicNameOf(topic)} in cluster ${clusterName}; this resource is ignored until it names another topic or the other one is deleted.`,
        },
        stalled: true,
        event: "Warning",
      });
      // A loser never deletes the topic: drop a finalizer it may have got before.
      if (hasFinalizer(topic)) await removeFinalizer(ctx.client, topic, TOPIC_FIELD_MANAGER);
      return { requeueAfterMs: this.opts.stalledRequeueMs };
    }

    const current = await addFinalizer(ctx.client, topic, TOPIC_FIELD_MANAGER);
    const kafka = this.opts.kafka(kc);
    try {
      return await this.converge(current, topic, kc, kafka, ctx);
    } catch (err) {
      await this.reportFailure(topic, ctx, err);
      throw err;
    } finally {
      await kafka.close().catch(() => undefined);
    }
  }

  /** The resource that manages the Kafka topic this one names: the oldest of them. */
  private owner(topic: Topic, ctx: ReconcileContext): Topic {
    const cluster = topic.metadata.labels?.[CLUSTER_LABEL];
    const name = topicNameOf(topic);
    const rivals = ctx
      .cache<Topic>(KAFKA_TOPIC)
      .list(topic.metadata.namespace)
      .filter((t) => t.metadata.labels?.[CLUSTER_LABEL] === cluster && topicNameOf(t) === name);
    if (!rivals.some((t) => t.metadata.uid === topic.metadata.uid)) rivals.push(topic);
    rivals.sort(
      (a, b) =>
        String(a.metadata.creationTimestamp ?? "").localeCompare(
          String(b.metadata.creationTimestamp ?? ""),
        ) || a.metadata.name!.localeCompare(b.metadata.name!),
    );
    return rivals[0].metadata.uid === topic.metadata.uid ? topic : rivals[0];
  }

  private async finalize(
    topic: Topic,
    kc: Cluster | undefined,
    owner: Topic,
    ctx: ReconcileContext,
  ): Promise<WorkResult | void> {
    if (!hasFinalizer(topic)) return;
    const name = topicNameOf(topic);
    let why: string | undefined;
    if (retainsTopic(topic)) why = `the deletion policy is Retain`;
    else if (owner !== topic) why = `KafkaTopic ${owner.metadata.name} manages it`;
    else if (!kc) why = `the KafkaCluster is gone`;
    else if (kc.metadata.deletionTimestamp) why = `the KafkaCluster is being deleted`;
    if (why) {
      await this.dropFinalizer(topic, ctx);
      await ctx.events.record(topic as KubeObject, {
        type: "Normal",
        reason: "TopicRetained",
        action: "Delete",
        note: `Kafka topic ${name} was left in place: ${why}.`,
      });
      return;
    }
    const kafka = this.opts.kafka(kc!);
    try {
      if (await kafka.describe(name)) {
        await kafka.delete(name);
        if (await kafka.describe(name)) return { requeueAfterMs: this.opts.deletionPollMs };
        await ctx.events.record(topic as KubeObject, {
          type: "Normal",
          reason: "TopicDeleted",
          action: "Delete",
          note: `Deleted Kafka topic ${name}.`,
        });
      }
    } finally {
      await kafka.close().catch(() => undefined);
    }
    await this.dropFinalizer(topic, ctx);
  }

  private async dropFinalizer(topic: Topic, ctx: ReconcileContext): Promise<void> {
    try {
      await removeFinalizer(ctx.client, topic, TOPIC_FIELD_MANAGER);
    } catch (err) {
      if (!isNotFound(err)) throw err; // 409: retried on fresh data
    }
    ctx.metrics.resourceReady.remove({
      kind: this.kind,
      namespace: topic.metadata.namespace ?? "",
      name: topic.metadata.name!,
    });
  }

  private async converge(
    current: Topic,
    topic: Topic,
    kc: Cluster,
    kafka: TopicKafka,
    ctx: ReconcileContext,
  ): Promise<WorkResult | void> {
    const name = topicNameOf(topic);
    const brokerCount = await kafka.brokerCount();
    const actual = await kafka.describe(name);
    const plan = planTopic(topic, actual, {
      brokerCount,
      policy: kc.spec.topicPolicy,
      defaultConfig: clusterTopicDefaults(kc),
    });
    const blocking = plan.problems.find((p) => p.blocking);
    if (blocking) {
      await this.report(topic, ctx, {
        ready: blocking,
        stalled: true,
        event: "Warning",
        observed: actual ? observed(plan, actual) : { topicName: name },
      });
      return { requeueAfterMs: this.opts.stalledRequeueMs };
    }

    const specChanged = topic.metadata.generation !== topic.status?.observedGeneration;
    const problems: Array<TopicProblem | Problem> = [...plan.problems];
    let reassignment: string | undefined;
    for (const action of plan.actions) {
      if (action.kind === "change-replication-factor") {
        const r = await this.changeReplicationFactor(topic, action, kafka, ctx);
        reassignment = r.reassignment;
        if (r.problem) problems.push(r.problem);
        continue;
      }
      await kafka.apply(action);
      await ctx.events.record(topic as KubeObject, actionEvent(action, specChanged));
    }
    if (reassignment === undefined) this.reassigning.delete(keyOf(topic));
    const key = keyOf(topic);
    const uid = topic.metadata.uid ?? "";
    const announced = topic.status?.topicId !== undefined || this.established.get(key) === uid;
    this.established.set(key, uid);
    if (actual && !announced) {
      await ctx.events.record(topic as KubeObject, {
        type: "Normal",
        reason: "TopicAdopted",
        action: "Adopt",
        note: `Adopted the existing Kafka topic ${name} (${actual.partitions} partitions, replication factor ${actual.replicationFactor}).`,
      });
    }
    for (const w of plan.warnings) {
      if (findCondition(topic.status, "Ready")?.message?.includes(w)) continue;
      await ctx.events.record(topic as KubeObject, {
        type: "Warning",
        reason: "PolicyWarning",
        action: "Validate",
        note: w,
      });
    }

    const now = (await kafka.describe(name)) ?? actual;
    const extra: Partial<KafkaTopicStatus> = now ? observed(plan, now) : { topicName: name };
    if (now) {
      extra.topicId = (await kafka.topicId(name)) || now.topicId || undefined;
      extra.effectiveConfig = await kafka.effectiveConfig(name);
    }
    if (reassignment) extra.reassignment = reassignment;
    const problem = problems[0];
    const stalled = problem !== undefined && !("stalled" in problem && problem.stalled === false);
    await this.report(current, ctx, {
      ready: problem ?? {
        reason: "TopicReady",
        message:
          `Topic ${name} has ${plan.partitions} partitions with replication factor ${plan.replicationFactor}.` +
          (plan.warnings.length ? ` Policy warnings: ${plan.warnings.join("; ")}` : ""),
      },
      readyStatus: !problem,
      stalled,
      reconciling: problem !== undefined && !stalled,
      event: stalled ? "Warning" : undefined,
      observed: extra,
    });
    if (!problem) return { requeueAfterMs: this.opts.resyncMs };
    return { requeueAfterMs: stalled ? this.opts.stalledRequeueMs : this.opts.reassignmentPollMs };
  }

  /**
   * A replication factor change: starts the reassignment of the partitions not moved yet
   * and reports progress (status.reassignment, Ready=False ReplicationFactorChanging while it
   * runs), or a Stalled condition when the brokers cannot reassign partitions.
   */
  private async changeReplicationFactor(
    topic: Topic,
    action: Extract<TopicAction, { kind: "change-replication-factor" }>,
    kafka: TopicKafka,
    ctx: ReconcileContext,
  ): Promise<{ reassignment: string; problem?: Problem }> {
    const change = `replication factor ${action.from} to ${action.to}`;
    try {
      const p = await kafka.changeReplicationFactor(action.name, action.to);
      const key = keyOf(topic);
      const uid = topic.metadata.uid ?? "";
      if (!topic.status?.reassignment && this.reassigning.get(key) !== uid) {
        this.reassigning.set(key, uid);
        await ctx.events.record(topic as KubeObject, {
          type: "Normal",
          reason: "ReplicationFactorChanging",
          action: "AlterPartitionReassignments",
          note: `Changing topic ${action.name}'s ${change} by partition reassignment.`,
        });
      }
      const reassignment = `${p.done} of ${p.total} partitions at replication factor ${action.to}, ${p.moving} moving`;
      return {
        reassignment,
        problem: {
          reason: "ReplicationFactorChanging",
          message: `Changing the ${change} by partition reassignment: ${reassignment}.`,
          stalled: false,
        },
      };
    } catch (err) {
      if (!(err instanceof ReassignmentUnsupportedError || err instanceof ReassignmentRefusedError))
        throw err;
      return {
        reassignment: `not started: ${err.message}`,
        problem: {
          reason:
            err instanceof ReassignmentRefusedError
              ? "ReplicationFactorChangeRefused"
              : "ReplicationFactorChangeUnsupported",
          message: `Cannot change topic ${action.name}'s ${change}: ${err.message}. The topic keeps replication factor ${action.from}; everything else in the spec is applied.`,
          stalled: true,
        },
      };
    }
  }

  /**
   * Writes the conditions (and observed fields) and, for a Warning, an Event once per
   * episode: when the Ready condition's reason or message was different before.
   */
  private async report(
    topic: Topic,
    ctx: ReconcileContext,
    r: {
      ready: { reason: string; message: string };
      readyStatus?: boolean;
      stalled?: boolean;
      /** Work in progress (a reassignment): Reconciling=True. */
      reconciling?: boolean;
      event?: "Warning";
      observed?: Partial<KafkaTopicStatus>;
    },
  ): Promise<void> {
    const generation = topic.metadata.generation;
    const before = findCondition(topic.status, "Ready");
    const ready = r.readyStatus ?? false;
    const conditions: ConditionInput[] = [
      {
        type: "Ready",
        status: ready ? "True" : "False",
        observedGeneration: generation,
        reason: r.ready.reason,
        message: r.ready.message,
      },
      {
        type: "Reconciling",
        status: r.reconciling ? "True" : "False",
        observedGeneration: generation,
        reason: ready ? "Converged" : r.ready.reason,
        message: ready
          ? "The topic matches the spec."
          : r.reconciling
            ? r.ready.message
            : "Waiting: see the Ready condition.",
      },
      {
        type: "Stalled",
        status: r.stalled ? "True" : "False",
        observedGeneration: generation,
        reason: r.stalled ? r.ready.reason : "NotStalled",
        message: r.stalled ? r.ready.message : "Nothing blocks reconciliation.",
      },
    ];
    const status: KafkaTopicStatus = {
      ...(r.observed ?? pick(topic.status)),
      observedGeneration: generation,
      conditions: setConditions(topic.status?.conditions, conditions),
    };
    const lag = this.lagOf(topic, status.topicName);
    if (lag) status.consumerLag = lag;
    else delete status.consumerLag;
    await this.writeStatus(topic, ctx, status);
    if (r.event && (before?.reason !== r.ready.reason || before?.message !== r.ready.message)) {
      await ctx.events.record(topic as KubeObject, {
        type: "Warning",
        reason: r.ready.reason,
        action: "Reconcile",
        note: r.ready.message,
      });
    }
  }

  /** The topic's consumer lag, when the lag exporter of its cluster has measured some. */
  private lagOf(topic: Topic, topicName: string | undefined): TopicConsumerLag | null {
    const cluster = topic.metadata.labels?.[CLUSTER_LABEL];
    if (!cluster || !topicName) return null;
    return this.opts.lag(topic.metadata.namespace ?? "", cluster, topicName);
  }

  private async writeStatus(topic: Topic, ctx: ReconcileContext, status: KafkaTopicStatus): Promise<void> {
    try {
      await ctx.status.write(topic as KubeObject & { status?: KafkaTopicStatus }, status);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    ctx.metrics.resourceReady.set(
      { kind: this.kind, namespace: topic.metadata.namespace ?? "", name: topic.metadata.name! },
      isTrue(status.conditions, "Ready") ? 1 : 0,
    );
  }

  /** A failed reconcile (brokers unreachable, Kafka refusing) says so in status and an Event; the queue retries. */
  private async reportFailure(topic: Topic, ctx: ReconcileContext, err: unknown): Promise<void> {
    const message = `Reconcile failed, retrying with backoff: ${err instanceof Error ? err.message : String(err)}`;
    try {
      const generation = topic.metadata.generation;
      const conditions = setConditions(topic.status?.conditions, [
        {
          type: "Reconciling",
          status: "True",
          observedGeneration: generation,
          reason: "ReconcileFailed",
          message,
        },
      ]);
      if (!findCondition(topic.status, "Ready")) {
        conditions.splice(
          0,
          0,
          ...setConditions(undefined, [
            {
              type: "Ready",
              status: "False",
              observedGeneration: generation,
              reason: "ReconcileFailed",
              message,
            },
          ]),
        );
      }
      await ctx.status.write(topic as KubeObject & { status?: KafkaTopicStatus }, {
        ...topic.status,
        conditions,
      });
    } catch (e) {
      ctx.log.debug("could not write the failure to status", { error: e });
    }
    await ctx.events.record(topic as KubeObject, {
      type: "Warning",
      reason: "ReconcileFailed",
      action: "Reconcile",
      note: message,
    });
  }
}

/** A condition reason the reconciler adds to the plan's problems; stalled: false means progress. */
interface Problem {
  reason: string;
  message: string;
  stalled: boolean;
}

function keyOf(t: Topic): string {
  return `${t.metadata.namespace ?? ""}/${t.metadata.name}`;
}

function findCondition(status: KafkaTopicStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** The observed fields kept when a reconcile could not look (no cluster, conflict). */
function pick(s: KafkaTopicStatus | undefined): Partial<KafkaTopicStatus> {
  if (!s) return {};
  const { conditions: _c, observedGeneration: _g, ...rest } = s;
  return rest;
}

function observed(plan: TopicPlan, actual: ActualTopic): Partial<KafkaTopicStatus> {
  return {
    topicName: plan.topicName,
    topicId: actual.topicId || undefined,
    partitions: actual.partitions,
    replicationFactor: actual.replicationFactor,
  };
}

function actionEvent(
  action: Exclude<TopicAction, { kind: "change-replication-factor" }>,
  specChanged: boolean,
): { type: "Normal"; reason: string; action: string; note: string } {
  switch (action.kind) {
    case "create":
      return {
        type: "Normal",
        reason: "TopicCreated",
        action: "CreateTopic",
        note: `Created Kafka topic ${action.name} with ${action.partitions} partitions and replication factor ${action.replicationFactor}.`,
      };
    case "create-partitions":
      return {
        type: "Normal",
        reason: "PartitionsIncreased",
        action: "CreatePartitions",
        note: `Increased topic ${action.name} to ${action.count} partitions.`,
      };
    case "set-configs":
      return specChanged
        ? {
            type: "Normal",
            reason: "ConfigUpdated",
            action: "AlterConfigs",
            note: `Updated the configs of topic ${action.name} for the new spec${action.reverted.length ? `: ${action.reverted.join(", ")}` : ""}.`,
          }
        : {
            type: "Normal",
            reason: "DriftReverted",
            action: "AlterConfigs",
            note: `Reverted configs of topic ${action.name} changed outside the operator: ${action.reverted.join(", ") || [...action.configs.keys()].join(", ") + " (missing)"}.`,
          };
  }
}
