// The server.properties a KafkaCluster's brokers run with. One function serves the
// operator (the ConfigMap behind the StatefulSet) and local mode (processes on
// loopback), so both run brokers configured the same way. Per-broker values (node.id,
// advertised address) are filled in at start from the pod's identity.
import type { KafkaClusterSpec } from "../api/types.ts";

/** Properties the operator owns: a user's spec.config cannot set them. */
export const OPERATOR_OWNED = new Set([
  "node.id",
  "process.roles",
  "listeners",
  "advertised.listeners",
  "listener.security.protocol.map",
  "controller.listener.names",
  "controller.quorum.voters",
  "inter.broker.listener.name",
  "log.dirs",
  "log.dir",
  "metadata.log.dir",
  "capstan.metrics.listener",
  "capstan.topic.policy.file",
]);

export const CLIENT_PORT = 9092;
export const CONTROLLER_PORT = 9093;
export const METRICS_PORT = 9404;
export const DATA_DIR = "/var/lib/capstan/data";

/** Controllers are the first brokers: 1 for 1-2 brokers, 3 for 3 or more (a quorum that survives one loss). */
export function controllerCount(replicas: number): number {
  return replicas >= 3 ? 3 : 1;
}

export interface BrokerAddressing {
  /** The host name of broker `id` (a pod's stable DNS name, or 127.0.0.1 locally). */
  host(id: number): string;
  /** The client and controller ports of broker `id` (fixed in pods, distinct per broker locally). */
  clientPort(id: number): number;
  controllerPort(id: number): number;
}

/** Where a spec.config key may not go, with the reason, for status conditions. */
export function rejectedConfigKeys(spec: KafkaClusterSpec): string[] {
  return Object.keys(spec.config ?? {}).filter((k) => OPERATOR_OWNED.has(k));
}

/**
 * The properties shared by every broker of the cluster (everything but node.id and the
 * broker's own listeners), in Kafka's names, sorted for a stable ConfigMap.
 */
export function clusterProperties(
  spec: KafkaClusterSpec,
  addressing: BrokerAddressing,
  /** Where the brokers find the topic policy file (written beside server.properties). */
  policyFile?: string,
): Map<string, string> {
  const props = new Map<string, string>();
  if (spec.topicPolicy && policyFile) props.set("capstan.topic.policy.file", policyFile);
  const controllers = controllerCount(spec.replicas);
  const voters: string[] = [];
  for (let id = 0; id < controllers; id++)
    voters.push(`${id}@${addressing.host(id)}:${addressing.controllerPort(id)}`);
  props.set("controller.quorum.voters", voters.join(","));
  props.set("controller.listener.names", "CONTROLLER");
  props.set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
  props.set("inter.broker.listener.name", "PLAINTEXT");
  // Replication defaults that fit the cluster's size, as Strimzi's and Kafka's guides advise.
  const rf = Math.min(3, spec.replicas);
  props.set(
    "default.replication.factor",
    String(Math.min(spec.topicPolicy?.replicationFactor?.default ?? rf, spec.replicas)),
  );
  props.set("offsets.topic.replication.factor", String(rf));
  props.set("transaction.state.log.replication.factor", String(rf));
  props.set("transaction.state.log.min.isr", String(Math.max(1, rf - 1)));
  props.set("min.insync.replicas", String(Math.max(1, rf - 1)));
  for (const [k, v] of Object.entries(spec.config ?? {})) {
    if (!OPERATOR_OWNED.has(k)) props.set(k, v);
  }
  return new Map([...props].sort(([a], [b]) => a.localeCompare(b)));
}

/** The per-broker properties: identity, roles and listeners. */
export function brokerProperties(
  spec: KafkaClusterSpec,
  id: number,
  addressing: BrokerAddressing,
  bindHost = "0.0.0.0",
): Map<string, string> {
  const controller = id < controllerCount(spec.replicas);
  const props = new Map<string, string>();
  props.set("node.id", String(id));
  props.set("process.roles", controller ? "broker,controller" : "broker");
  const listeners = [`PLAINTEXT://${bindHost}:${addressing.clientPort(id)}`];
  if (controller) listeners.push(`CONTROLLER://${bindHost}:${addressing.controllerPort(id)}`);
  props.set("listeners", listeners.join(","));
  props.set("advertised.listeners", `PLAINTEXT://${addressing.host(id)}:${addressing.clientPort(id)}`);
  return props;
}

/** Renders properties as a server.properties file. */
export function renderProperties(props: Map<string, string>, header: string): string {
  const lines = [`# ${header}`];
  for (const [k, v] of props) lines.push(`${k}=${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
  return lines.join("\n") + "\n";
}

/** The topic policy as the brokers read it (capstan.topic.policy.file). */
export function renderTopicPolicy(spec: KafkaClusterSpec): string | undefined {
  return spec.topicPolicy ? JSON.stringify(spec.topicPolicy, null, 2) + "\n" : undefined;
}
