// A KafkaCluster's status as a pure function of what the reconcile saw and did. Three
// conditions in the shape kstatus, Flux and Argo CD read: Ready (clients can use every
// broker), Reconciling (the operator is still converging, and why), Stalled (it cannot
// converge without a human, and what to change). observedGeneration says which spec
// they describe.
import type { Condition, KafkaCluster, KafkaClusterStatus } from "../api/types.ts";
import { setConditions } from "../runtime/conditions.ts";

export interface Reason {
  reason: string;
  message: string;
}

export interface ClusterObservation {
  kc: KafkaCluster;
  /** Broker pods that exist (the StatefulSet's status.replicas). */
  replicas: number;
  readyBrokers: number;
  /** Pods still to restart onto the current configuration. */
  staleBrokers: number;
  /** The broker count applied to the StatefulSet (differs from spec while a scale-down waits). */
  appliedReplicas: number;
  selector: string;
  bootstrapServers: string;
  clusterId?: string;
  paused?: boolean;
  /** Why the operator cannot go on (a human must act). */
  stalled?: Reason;
  /** What is in progress (first one wins for the Reconciling reason). */
  progress?: Reason[];
  now?: Date;
}

export function clusterStatus(o: ClusterObservation): KafkaClusterStatus {
  const generation = o.kc.metadata.generation;
  const want = o.kc.spec.replicas;
  const progress = o.progress ?? [];
  const brokersReady = o.readyBrokers >= want && o.replicas === want;
  const ready = brokersReady && o.staleBrokers === 0 && o.appliedReplicas === want && !o.stalled;

  let readyCond: Omit<Condition, "lastTransitionTime">;
  if (ready) {
    readyCond = {
      type: "Ready",
      status: "True",
      reason: "BrokersReady",
      message: `All ${want} broker(s) are ready; clients bootstrap from ${o.bootstrapServers}.`,
    };
  } else if (o.stalled) {
    readyCond = { type: "Ready", status: "False", reason: o.stalled.reason, message: o.stalled.message };
  } else if (o.staleBrokers > 0 && brokersReady) {
    readyCond = {
      type: "Ready",
      status: "False",
      reason: "RollingRestart",
      message: `${o.staleBrokers} of ${want} broker(s) still run an older configuration.`,
    };
  } else if (o.appliedReplicas !== want) {
    readyCond = {
      type: "Ready",
      status: "False",
      reason: "Scaling",
      message: `Scaling from ${o.appliedReplicas} to ${want} broker(s).`,
    };
  } else {
    readyCond = {
      type: "Ready",
      status: "False",
      reason: "BrokersNotReady",
      message: `${o.readyBrokers} of ${want} broker(s) ready.`,
    };
  }

  let reconciling: Omit<Condition, "lastTransitionTime">;
  if (o.paused) {
    reconciling = {
      type: "Reconciling",
      status: "False",
      reason: "Paused",
      message:
        'Reconciliation is paused by the annotation kafka.capstan.dev/paused: "true"; remove it to resume. Status is still observed.',
    };
  } else if (o.stalled) {
    reconciling = {
      type: "Reconciling",
      status: "False",
      reason: o.stalled.reason,
      message: o.stalled.message,
    };
  } else if (progress.length > 0) {
    reconciling = {
      type: "Reconciling",
      status: "True",
      reason: progress[0].reason,
      message: progress.map((p) => p.message).join(" "),
    };
  } else if (!ready) {
    reconciling = {
      type: "Reconciling",
      status: "True",
      reason: "BrokersStarting",
      message: `Waiting for broker pods: ${o.readyBrokers} of ${want} ready.`,
    };
  } else {
    reconciling = {
      type: "Reconciling",
      status: "False",
      reason: "Reconciled",
      message: `The cluster matches generation ${generation}.`,
    };
  }

  const stalled: Omit<Condition, "lastTransitionTime"> = o.stalled
    ? { type: "Stalled", status: "True", reason: o.stalled.reason, message: o.stalled.message }
    : { type: "Stalled", status: "False", reason: "NotStalled", message: "" };

  const conditions = setConditions(
    o.kc.status?.conditions,
    [readyCond, reconciling, stalled].map((c) => ({ ...c, observedGeneration: generation })),
    o.now,
  );
  const status: KafkaClusterStatus = {
    // Paused, the operator has not acted on the latest spec: do not claim it has.
    observedGeneration: o.paused ? o.kc.status?.observedGeneration : generation,
    conditions,
    readyBrokers: o.readyBrokers,
    replicas: o.replicas,
    selector: o.selector,
    bootstrapServers: o.bootstrapServers,
  };
  const clusterId = o.clusterId ?? o.kc.status?.clusterId;
  if (clusterId) status.clusterId = clusterId;
  return status;
}
