// The KafkaCluster reconciler: level-triggered, idempotent. Each run reads the resource
// and what it owns from the caches, applies the desired objects with server-side apply
// (which also reverts edits made behind the operator's back), deletes owned objects no
// longer desired, moves a rolling restart or a scale-down one safe step forward, and
// writes the status. Steps that wait on the brokers (a restarted broker catching up,
// partitions moving) requeue the cluster instead of blocking a worker.
import type { KafkaCluster, KafkaClusterStatus } from "../api/types.ts";
import { CLUSTER_LABEL } from "../api/types.ts";
import { withDefaults } from "../runtime/defaults.ts";
import type { KubeObject } from "../runtime/kube-client.ts";
import { KubeApiError } from "../runtime/kube-client.ts";
import type { ObjectKey, ReconcileContext, Reconciler, WatchSpec } from "../runtime/manager.ts";
import {
  CONFIG_MAP,
  KAFKA_CLUSTER,
  POD,
  POD_DISRUPTION_BUDGET,
  SERVICE,
  STATEFUL_SET,
  type ResourceType,
} from "../runtime/resources.ts";
import { isTrue } from "../runtime/conditions.ts";
import type { WorkResult } from "../runtime/work-queue.ts";
import { controllerCount, rejectedConfigKeys } from "./broker-properties.ts";
import { CONFIG_HASH_ANNOTATION, desiredObjects, namesOf, selectorLabels } from "./desired.ts";
import type { ClusterView, KafkaAdmin } from "./kafka-admin.ts";
import { KafkajsAdmin, ReassignmentUnsupportedError, bootstrapAddress } from "./kafka-admin.ts";
import type { BrokerPod } from "./roll.ts";
import { nextRestart, stalePods } from "./roll.ts";
import { describe, partitionsOn, planScaleDown } from "./scale-down.ts";
import type { ClusterObservation, Reason } from "./status.ts";
import { clusterStatus } from "./status.ts";

export const FIELD_MANAGER = "capstan";
export const PAUSED_ANNOTATION = "kafka.capstan.dev/paused";

/** The kinds a KafkaCluster owns (pruned when no longer desired). */
const OWNED: readonly ResourceType[] = [CONFIG_MAP, SERVICE, STATEFUL_SET, POD_DISRUPTION_BUDGET];

type Obj = KubeObject & { spec?: Record<string, any>; status?: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface KafkaClusterReconcilerOptions {
  /** Broker image tag when spec.version and spec.image are unset. */
  operatorVersion: string;
  /** Broker image repository when spec.image is unset. */
  imageRepository?: string;
  admin?: KafkaAdmin;
  /** How soon to look again while a restart, a scale step or a reassignment is in progress. */
  progressRequeueMs?: number;
  /** How soon to look again while stalled (a human may have fixed things meanwhile). */
  stalledRequeueMs?: number;
}

/** What the reconciler remembers between runs of one cluster (lost on restart, by design harmless). */
interface Memory {
  /** The pod this operator deleted last, until the cache shows it going. */
  restartedUid?: string;
  lastProbe?: number;
  /** Generation (or resourceVersion) of each object as its last apply returned it. */
  applied: Map<string, string>;
  /** The KafkaCluster generation whose StatefulSet passed the API server's dry run. */
  checkedGeneration?: number;
}

const byClusterLabel = (obj: KubeObject): ObjectKey[] => {
  const name = obj.metadata?.labels?.[CLUSTER_LABEL];
  return name ? [{ namespace: obj.metadata?.namespace ?? "", name }] : [];
};

export class KafkaClusterReconciler implements Reconciler {
  readonly kind = "KafkaCluster";
  readonly primary = KAFKA_CLUSTER;
  readonly watches: readonly WatchSpec[] = [...OWNED, POD].map((type) => ({
    type,
    labelSelector: CLUSTER_LABEL,
    map: byClusterLabel,
  }));
  private readonly opts: Required<Omit<KafkaClusterReconcilerOptions, "imageRepository">> &
    KafkaClusterReconcilerOptions;
  private readonly memory = new Map<string, Memory>();

  constructor(opts: KafkaClusterReconcilerOptions) {
    this.opts = withDefaults(
      { admin: new KafkajsAdmin() as KafkaAdmin, progressRequeueMs: 5000, stalledRequeueMs: 30_000 },
      opts,
    );
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<WorkResult | void> {
    const kc = ctx.cache<KafkaCluster & KubeObject>(KAFKA_CLUSTER).get(key.namespace, key.name);
    const id = `${key.namespace}/${key.name}`;
    if (!kc) {
      // Deleted: the garbage collector removes what it owned (ownerReferences).
      this.memory.delete(id);
      ctx.metrics.resourceReady.remove({ kind: this.kind, namespace: key.namespace, name: key.name });
      return;
    }
    if (kc.metadata.deletionTimestamp) return;
    const memory = this.memory.get(id) ?? { applied: new Map() };
    this.memory.set(id, memory);
    try {
      return await this.converge(kc, memory, ctx);
    } catch (err) {
      await this.reportFailure(kc, ctx, err);
      throw err;
    }
  }

  private async converge(
    kc: KafkaCluster,
    memory: Memory,
    ctx: ReconcileContext,
  ): Promise<WorkResult | void> {
    const name = kc.metadata.name!;
    const namespace = kc.metadata.namespace ?? "default";
    const names = namesOf(name);
    const observedSts = ctx.cache<Obj>(STATEFUL_SET).get(namespace, names.statefulSet);
    const pods = this.brokerPods(kc, ctx, memory);
    const base = {
      kc,
      selector: Object.entries(selectorLabels(name))
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
      bootstrapServers: bootstrapAddress(kc),
      readyBrokers: pods.filter((p) => p.ready && !p.terminating).length,
      replicas: (observedSts?.status?.replicas as number | undefined) ?? 0,
    };

    // Paused: observe and report, change nothing.
    if (kc.metadata.annotations?.[PAUSED_ANNOTATION] === "true") {
      const hash = observedSts?.spec?.template?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] as
        string | undefined;
      await this.writeStatus(kc, ctx, {
        ...base,
        appliedReplicas: (observedSts?.spec?.replicas as number | undefined) ?? 0,
        staleBrokers: hash ? stalePods(pods, hash).length : 0,
        paused: true,
      });
      if (findReason(kc.status, "Reconciling") !== "Paused") {
        await ctx.events.record(kc as KubeObject, {
          type: "Normal",
          reason: "Paused",
          action: "Pause",
          note: `Reconciliation paused by the annotation ${PAUSED_ANNOTATION}: "true"; remove it to resume.`,
        });
      }
      return;
    }

    // Specs the operator refuses: nothing is applied, the status and an Event say why.
    const refuse = async (stalled: Reason): Promise<WorkResult> => {
      await this.writeStatus(kc, ctx, {
        ...base,
        appliedReplicas: (observedSts?.spec?.replicas as number | undefined) ?? 0,
        staleBrokers: 0,
        stalled,
      });
      if (findReason(kc.status, "Stalled") !== stalled.reason) {
        await ctx.events.record(kc as KubeObject, {
          type: "Warning",
          reason: stalled.reason,
          action: "Validate",
          note: stalled.message,
        });
      }
      return { requeueAfterMs: this.opts.stalledRequeueMs };
    };

    // Keys the operator sets itself cannot come from spec.config.
    const rejected = rejectedConfigKeys(kc.spec);
    if (rejected.length > 0) {
      return refuse({
        reason: "InvalidConfig",
        message: `spec.config sets ${rejected.join(", ")}, which the operator sets itself (identity, listeners, quorum, storage paths); remove ${rejected.length === 1 ? "it" : "them"} from spec.config. Nothing was changed.`,
      });
    }

    // The controller quorum is fixed in the brokers' configuration (static voters): a broker
    // count that needs another quorum size cannot be reached online. Judged from the
    // ConfigMap the brokers run with, not from the StatefulSet, which anyone can scale.
    const runningControllers = controllersIn(ctx.cache<Obj>(CONFIG_MAP).get(namespace, names.configMap));
    if (runningControllers !== undefined && runningControllers !== controllerCount(kc.spec.replicas)) {
      return refuse(quorumChange(runningControllers, kc.spec.replicas));
    }

    // The brokers' view, asked for at most once per reconcile and only when a step needs it.
    let view: ClusterView | undefined;
    let viewError: string | undefined;
    let asked = false;
    const ask = async (): Promise<ClusterView | undefined> => {
      if (!asked) {
        asked = true;
        try {
          view = await this.opts.admin.describe(kc);
        } catch (err) {
          viewError = err instanceof Error ? err.message : String(err);
          ctx.log.debug("brokers unreachable", { error: viewError });
        }
      }
      return view;
    };

    const progress: Reason[] = [];
    let stalled: Reason | undefined;
    const current = observedSts?.spec?.replicas as number | undefined;
    let replicas = kc.spec.replicas;

    // More brokers than the spec asks for (a scale-down, or a StatefulSet scaled by
    // hand): the extra ones leave only once no partition is on them.
    if (current !== undefined && replicas < current) {
      const step = await this.scaleDownStep(kc, current, ask, () => viewError, ctx);
      replicas = step.replicas;
      if (step.progress) progress.push(step.progress);
      stalled = step.stalled;
    }

    // Apply everything desired (for the broker count decided above).
    const desired = desiredObjects({ ...kc, spec: { ...kc.spec, replicas } }, this.opts.operatorVersion, {
      imageRepository: this.opts.imageRepository,
    }) as Obj[];
    const specChanged = kc.metadata.generation !== kc.status?.observedGeneration;
    // Some StatefulSet fields cannot change (volume claim templates: spec.storage). Ask the
    // API server first (a dry run) once per generation, so that such a spec changes
    // nothing rather than half.
    const generation = kc.metadata.generation;
    if (observedSts && memory.checkedGeneration !== generation) {
      const candidate = desired.find((o) => o.kind === "StatefulSet")!;
      try {
        await ctx.client.applyDetailed(candidate, { fieldManager: FIELD_MANAGER, force: true, dryRun: true });
      } catch (err) {
        if (err instanceof KubeApiError && err.statusCode === 422)
          return refuse(invalidChange(candidate, err));
        throw err;
      }
      memory.checkedGeneration = generation;
    }
    let sts: Obj | undefined;
    for (const obj of desired) {
      const type = typeOf(obj);
      const before = ctx.cache<Obj>(type).get(namespace, obj.metadata!.name!);
      let after: Obj;
      let created: boolean;
      try {
        ({ object: after, created } = await ctx.client.applyDetailed(obj, {
          fieldManager: FIELD_MANAGER,
          force: true,
        }));
      } catch (err) {
        // 422: the API server refuses the change (e.g. a StatefulSet's volume claim
        // templates cannot change): retrying will not help, a human must decide.
        if (err instanceof KubeApiError && err.statusCode === 422) {
          stalled ??= invalidChange(obj, err, false);
          if (obj.kind === "StatefulSet") sts = before;
          continue;
        }
        throw err;
      }
      if (obj.kind === "StatefulSet") sts = after;
      await this.reportApply(kc, ctx, memory, { before, after, created, specChanged });
    }
    // (A StatefulSet scaled down by hand and restored is drift, reported as such above.)
    if (current !== undefined && replicas > current && specChanged) {
      await ctx.events.record(kc as KubeObject, {
        type: "Normal",
        reason: "ScaledUp",
        action: "Scale",
        note: `Scaled up from ${current} to ${replicas} brokers (node ids ${range(current, replicas)}). Existing partitions stay on brokers ${range(0, current)} until they are reassigned; new topics use every broker.`,
      });
    }

    await this.prune(kc, desired, ctx);

    // Rolling restart, one broker at a time.
    const targetHash = sts?.spec?.template?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] as
      string | undefined;
    const stale = targetHash ? stalePods(pods, targetHash) : [];
    if (targetHash && stale.length > 0 && !stalled) {
      const step = await this.rollStep(kc, pods, replicas, targetHash, ask, memory, ctx);
      if (step) progress.push(step);
    }

    // The cluster id, once known, stays in status; ask for it at most once a minute.
    const readyBrokers = pods.filter((p) => p.ready && !p.terminating).length;
    if (
      !kc.status?.clusterId &&
      readyBrokers > 0 &&
      !asked &&
      Date.now() - (memory.lastProbe ?? 0) > 60_000
    ) {
      memory.lastProbe = Date.now();
      await ask();
    }

    await this.writeStatus(kc, ctx, {
      ...base,
      replicas: (sts?.status?.replicas as number | undefined) ?? base.replicas,
      appliedReplicas: replicas,
      staleBrokers: stale.length,
      stalled,
      progress,
      clusterId: view?.clusterId,
    });
    if (stalled) return { requeueAfterMs: this.opts.stalledRequeueMs };
    // Brokers catching up or partitions moving raise no Kubernetes events: poll. Pods
    // starting do, so a cluster that is only waiting for pods needs no requeue.
    if (progress.length > 0) return { requeueAfterMs: this.opts.progressRequeueMs };
  }

  /** The StatefulSet's pods, as the roll logic sees them. */
  private brokerPods(kc: KafkaCluster, ctx: ReconcileContext, memory: Memory): BrokerPod[] {
    const name = kc.metadata.name!;
    const sts = namesOf(name).statefulSet;
    const pods = ctx
      .cache<Obj>(POD)
      .list(kc.metadata.namespace)
      .filter(
        (p) =>
          p.metadata?.labels?.[CLUSTER_LABEL] === name &&
          p.metadata.ownerReferences?.some((o) => o.kind === "StatefulSet" && o.name === sts),
      )
      .map((p): BrokerPod => {
        const m = p.metadata!;
        const conditions = (p.status?.conditions ?? []) as Array<{ type: string; status: string }>;
        return {
          name: m.name!,
          uid: m.uid!,
          ordinal: Number(m.labels?.["apps.kubernetes.io/pod-index"] ?? m.name!.slice(sts.length + 1)),
          hash: m.annotations?.[CONFIG_HASH_ANNOTATION],
          ready: conditions.some((c) => c.type === "Ready" && c.status === "True"),
          // The pod deleted last counts as going until the cache shows it so.
          terminating: Boolean(m.deletionTimestamp) || m.uid === memory.restartedUid,
        };
      });
    if (memory.restartedUid && !pods.some((p) => p.uid === memory.restartedUid))
      memory.restartedUid = undefined;
    return pods;
  }

  private async rollStep(
    kc: KafkaCluster,
    pods: BrokerPod[],
    replicas: number,
    targetHash: string,
    ask: () => Promise<ClusterView | undefined>,
    memory: Memory,
    ctx: ReconcileContext,
  ): Promise<Reason | undefined> {
    // Decide without the brokers first: asking them only matters once every pod is up.
    let decision = nextRestart({ pods, replicas, targetHash, controllerId: null, underReplicated: 0 });
    if (decision.action === "restart" && decision.pod.ready) {
      const view = await ask();
      decision = nextRestart({
        pods,
        replicas,
        targetHash,
        controllerId: view?.controllerId,
        underReplicated: view ? underReplicated(view) : undefined,
      });
    }
    if (decision.action === "none") return undefined;
    const total = decision.pending.length;
    if (decision.action === "wait") {
      return {
        reason: "RollingRestart",
        message: `Rolling restart onto configuration ${targetHash}: ${total} broker(s) to go (${decision.pending.join(", ")}); ${decision.reason}.`,
      };
    }
    const pod = decision.pod;
    await ctx.client.delete(POD, kc.metadata.namespace, pod.name, { uid: pod.uid });
    memory.restartedUid = pod.uid;
    await ctx.events.record(kc as KubeObject, {
      type: "Normal",
      reason: "RestartingBroker",
      action: "RestartPod",
      note: `Restarting broker ${pod.ordinal} (pod ${pod.name}) onto configuration ${targetHash}: ${decision.reason}; ${total - 1} more to go after it.`,
    });
    return {
      reason: "RollingRestart",
      message: `Rolling restart onto configuration ${targetHash}: restarting ${pod.name}, ${total} broker(s) to go.`,
    };
  }

  /**
   * One step of a scale-down from `current` brokers: the broker count to apply now, and
   * what is in progress or blocking. Brokers leave only once no partition is on them.
   */
  private async scaleDownStep(
    kc: KafkaCluster,
    current: number,
    ask: () => Promise<ClusterView | undefined>,
    viewError: () => string | undefined,
    ctx: ReconcileContext,
  ): Promise<{ replicas: number; progress?: Reason; stalled?: Reason }> {
    const target = kc.spec.replicas;
    const removedIds = range(target, current);
    const view = await ask();
    if (!view) {
      return {
        replicas: current,
        progress: {
          reason: "ScalingDown",
          message: `Scale-down to ${target} waits to check that no partition is on brokers ${removedIds}: the brokers cannot be reached (${viewError() ?? "unknown error"}).`,
        },
      };
    }
    const removed = new Set(Array.from({ length: current - target }, (_, i) => target + i));
    const blocking = partitionsOn(view.partitions, removed);
    if (blocking.length === 0) {
      await ctx.events.record(kc as KubeObject, {
        type: "Normal",
        reason: "ScaledDown",
        action: "Scale",
        note: `Scaling down from ${current} to ${target} brokers: no partition has a replica on brokers ${removedIds}.`,
      });
      return { replicas: target };
    }
    const remaining = Array.from({ length: target }, (_, i) => i);
    const plan = planScaleDown(view.partitions, remaining);
    if (!plan.ok) {
      return {
        replicas: current,
        stalled: { reason: "ScaleDownBlocked", message: `Cannot scale down to ${target}: ${plan.reason}.` },
      };
    }
    try {
      const ongoing = await this.opts.admin.ongoingReassignments(kc);
      if (ongoing.length === 0) {
        await this.opts.admin.reassign(
          kc,
          plan.moves.map((m) => ({ topic: m.topic, partition: m.partition, replicas: m.to })),
        );
        await ctx.events.record(kc as KubeObject, {
          type: "Normal",
          reason: "ReassigningPartitions",
          action: "ReassignPartitions",
          note: `Moving ${plan.moves.length} partition(s) off brokers ${removedIds} before scaling down to ${target}: ${describe(plan.moves.map((m) => ({ ...m, replicas: m.to })))}.`,
        });
      }
      return {
        replicas: current,
        progress: {
          reason: "ScalingDown",
          message: `Scale-down to ${target} waits for ${blocking.length} partition(s) to move off brokers ${removedIds}.`,
        },
      };
    } catch (err) {
      if (!(err instanceof ReassignmentUnsupportedError)) throw err;
      const message =
        `Cannot scale down to ${target}: ${blocking.length} partition(s) still have replicas on brokers ${removedIds} ` +
        `(${describe(blocking)}) and the brokers do not support partition reassignment. Move them with ` +
        `kafka-reassign-partitions.sh --bootstrap-server ${bootstrapAddress(kc)} --execute, or lower their ` +
        `replication factor, onto brokers ${range(0, target)}; the operator scales down once they are off.`;
      if (findReason(kc.status, "Stalled") !== "ScaleDownBlocked") {
        await ctx.events.record(kc as KubeObject, {
          type: "Warning",
          reason: "ScaleDownBlocked",
          action: "Scale",
          note: message,
        });
      }
      return { replicas: current, stalled: { reason: "ScaleDownBlocked", message } };
    }
  }

  /** Deletes what this cluster owns but no longer wants (e.g. a removed broker's NodePort Service). */
  private async prune(kc: KafkaCluster, desired: Obj[], ctx: ReconcileContext): Promise<void> {
    const keep = new Set(desired.map((o) => `${o.kind}/${o.metadata!.name}`));
    for (const type of OWNED) {
      for (const obj of ctx.cache<Obj>(type).list(kc.metadata.namespace)) {
        const m = obj.metadata!;
        const owned = m.ownerReferences?.some((o) => o.controller && o.uid === kc.metadata.uid);
        if (!owned || m.deletionTimestamp || keep.has(`${type.kind}/${m.name}`)) continue;
        if (await ctx.client.delete(type, m.namespace, m.name!, { uid: m.uid })) {
          await ctx.events.record(kc as KubeObject, {
            type: "Normal",
            reason: "Deleted",
            action: "Delete",
            note: `Deleted ${type.kind} ${m.name}: the KafkaCluster no longer needs it.`,
          });
        }
      }
    }
  }

  /**
   * An Event when an apply created or changed something (drift, or a new spec). The cache
   * may lag behind this operator's own previous apply, so an object counts as changed only
   * when it differs from both the cache and what the last apply returned.
   */
  private async reportApply(
    kc: KafkaCluster,
    ctx: ReconcileContext,
    memory: Memory,
    a: { before: Obj | undefined; after: Obj; created: boolean; specChanged: boolean },
  ): Promise<void> {
    const what = `${a.after.kind} ${a.after.metadata?.name}`;
    const key = `${a.after.kind}/${a.after.metadata?.name}`;
    // Objects with a generation count spec changes only; the others any change.
    const token = (o: Obj | undefined) =>
      o?.metadata?.generation !== undefined ? `g${o.metadata.generation}` : o?.metadata?.resourceVersion;
    const last = memory.applied.get(key);
    memory.applied.set(key, token(a.after)!);
    const firstTime = kc.status?.observedGeneration === undefined || a.specChanged;
    if (a.created) {
      await ctx.events.record(kc as KubeObject, {
        type: "Normal",
        reason: firstTime ? "Created" : "Recreated",
        action: "Apply",
        note: firstTime ? `Created ${what}.` : `Recreated ${what}, which was deleted outside the operator.`,
      });
      return;
    }
    if (!a.before || token(a.after) === token(a.before) || token(a.after) === last) return;
    await ctx.events.record(kc as KubeObject, {
      type: "Normal",
      reason: a.specChanged ? "Updated" : "DriftCorrected",
      action: "Apply",
      note: a.specChanged
        ? `Updated ${what} for generation ${kc.metadata.generation}.`
        : `Reverted changes made to ${what} outside the operator.`,
    });
  }

  /** Writes the status and the readiness gauge; returns whether the cluster is Ready. */
  private async writeStatus(
    kc: KafkaCluster,
    ctx: ReconcileContext,
    o: ClusterObservation,
  ): Promise<boolean> {
    const status = clusterStatus(o);
    await ctx.status.write(kc as KubeObject & { status?: KafkaClusterStatus }, status);
    const ready = isTrue(status.conditions, "Ready");
    ctx.metrics.resourceReady.set(
      { kind: this.kind, namespace: kc.metadata.namespace ?? "", name: kc.metadata.name! },
      ready ? 1 : 0,
    );
    return ready;
  }

  /** A failed reconcile says so in status (best effort) and in an Event; the queue retries. */
  private async reportFailure(kc: KafkaCluster, ctx: ReconcileContext, err: unknown): Promise<void> {
    const message = `Reconcile failed, retrying with backoff: ${err instanceof Error ? err.message : String(err)}`;
    try {
      const conditions = (kc.status?.conditions ?? []).filter((c) => c.type !== "Reconciling");
      const status = clusterStatus({
        kc: { ...kc, status: { ...kc.status, conditions } },
        replicas: kc.status?.replicas ?? 0,
        readyBrokers: kc.status?.readyBrokers ?? 0,
        staleBrokers: 0,
        appliedReplicas: kc.spec.replicas,
        selector: kc.status?.selector ?? "",
        bootstrapServers: bootstrapAddress(kc),
        progress: [{ reason: "ReconcileFailed", message }],
      });
      await ctx.status.write(kc as KubeObject & { status?: KafkaClusterStatus }, {
        ...status,
        observedGeneration: kc.status?.observedGeneration,
      });
    } catch (e) {
      ctx.log.debug("could not write the failure to status", { error: e });
    }
    await ctx.events.record(kc as KubeObject, {
      type: "Warning",
      reason: "ReconcileFailed",
      action: "Reconcile",
      note: message,
    });
  }
}

function typeOf(obj: Obj): ResourceType {
  const t = OWNED.find((r) => r.kind === obj.kind);
  if (!t) throw new Error(`desiredObjects returned an unexpected ${obj.kind}`);
  return t;
}

function underReplicated(view: ClusterView): number {
  return view.partitions.filter((p) => p.isr.length < p.replicas.length).length;
}

/** The reason of a condition as last written (to record an Event once per episode). */
function findReason(status: KafkaClusterStatus | undefined, type: string): string | undefined {
  return status?.conditions?.find((c) => c.type === type)?.reason;
}

/** "3-4" or "3". */
function range(from: number, to: number): string {
  return to - from <= 1 ? String(from) : `${from}-${to - 1}`;
}

function quorumChange(runningControllers: number, target: number): Reason {
  return {
    reason: "QuorumChange",
    message: `${target} broker(s) need a controller quorum of ${controllerCount(target)}, but the cluster runs with ${runningControllers} controller(s) and the operator cannot change the quorum online yet; set spec.replicas to ${runningControllers === 1 ? "1 or 2" : "3 or more"}. Nothing was changed.`,
  };
}

function invalidChange(obj: Obj, err: KubeApiError, nothingChanged = true): Reason {
  return {
    reason: "InvalidChange",
    message: `The API server refuses the ${obj.kind} ${obj.metadata!.name} this spec needs: ${String(err.status?.message ?? err.message)}. Revert that part of the spec (spec.storage cannot change after creation).${nothingChanged ? " Nothing was changed." : ""}`,
  };
}

/** How many controllers the brokers' server.properties names (controller.quorum.voters). */
function controllersIn(configMap: Obj | undefined): number | undefined {
  const props = (configMap as { data?: Record<string, string> } | undefined)?.data?.["server.properties"];
  const voters = props && /^controller\.quorum\.voters=(.*)$/m.exec(props)?.[1];
  return voters ? voters.split(",").length : undefined;
}
