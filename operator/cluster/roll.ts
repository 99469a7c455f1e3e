// Which broker pod a rolling restart deletes next, as a pure function of what the
// operator sees. The StatefulSet is OnDelete, so a changed pod template restarts
// nothing by itself: the operator deletes one pod at a time and the StatefulSet
// controller recreates it from the new template. The order follows Strimzi's KafkaRoller:
// never while another broker is down or coming back, never while a partition is
// under-replicated (restarting now could take the last in-sync replica away), pods that
// are not serving anyway first, the active controller last (so the controller moves
// once, not once per restart).

export interface BrokerPod {
  name: string;
  /** The pod's ordinal: the broker's node.id. */
  ordinal: number;
  uid: string;
  /** The config-hash annotation the pod was created with. */
  hash: string | undefined;
  ready: boolean;
  /** Has a deletionTimestamp (shutting down). */
  terminating: boolean;
}

export interface RollInput {
  pods: readonly BrokerPod[];
  /** Brokers the StatefulSet should have now. */
  replicas: number;
  /** The StatefulSet template's config hash: what every pod should run. */
  targetHash: string;
  /** The active controller's node id; null or undefined when unknown. */
  controllerId: number | null | undefined;
  /** Under-replicated partitions; undefined when the brokers could not be asked. */
  underReplicated: number | undefined;
}

export type RollDecision =
  | { action: "none" }
  | { action: "wait"; reason: string; pending: string[] }
  | { action: "restart"; pod: BrokerPod; reason: string; pending: string[] };

/** The pods still on an old configuration. */
export function stalePods(pods: readonly BrokerPod[], targetHash: string): BrokerPod[] {
  return pods.filter((p) => !p.terminating && p.hash !== targetHash);
}

export function nextRestart(input: RollInput): RollDecision {
  const stale = stalePods(input.pods, input.targetHash);
  if (stale.length === 0) return { action: "none" };
  const pending = stale.map((p) => p.name).sort();
  const terminating = input.pods.find((p) => p.terminating);
  if (terminating) {
    return { action: "wait", reason: `waiting for ${terminating.name} to shut down`, pending };
  }
  const present = new Set(input.pods.map((p) => p.ordinal));
  for (let i = 0; i < input.replicas; i++) {
    if (!present.has(i)) return { action: "wait", reason: `waiting for broker ${i} to be created`, pending };
  }
  const restartedNotReady = input.pods.find((p) => !p.ready && p.hash === input.targetHash);
  if (restartedNotReady) {
    return { action: "wait", reason: `waiting for ${restartedNotReady.name} to be ready`, pending };
  }
  // A stale broker that is down serves nothing: restarting it cannot cost availability,
  // and it may be down precisely because it needs the new configuration.
  const down = stale.filter((p) => !p.ready).sort((a, b) => b.ordinal - a.ordinal);
  if (down.length > 0) {
    return { action: "restart", pod: down[0], reason: `${down[0].name} is not ready`, pending };
  }
  const notReady = input.pods.find((p) => !p.ready);
  if (notReady) return { action: "wait", reason: `waiting for ${notReady.name} to be ready`, pending };
  if (input.underReplicated === undefined) {
    return {
      action: "wait",
      reason: "cannot reach the brokers to check for under-replicated partitions",
      pending,
    };
  }
  if (input.underReplicated > 0) {
    return {
      action: "wait",
      reason: `waiting for ${input.underReplicated} under-replicated partition(s) to catch up`,
      pending,
    };
  }
  const isController = (p: BrokerPod) => p.ordinal === input.controllerId;
  const order = [...stale].sort(
    (a, b) => Number(isController(a)) - Number(isController(b)) || b.ordinal - a.ordinal,
  );
  const pod = order[0];
  return {
    action: "restart",
    pod,
    reason: isController(pod)
      ? `${pod.name} is the active controller, restarted last`
      : `${pod.name} is next`,
    pending,
  };
}
