// The custom resources Capstan's operator serves (group kafka.capstan.dev, version
// v1alpha1). These types are the single source: `npm run crds` turns them, with their
// doc comments and the validation tags below, into the CRD YAML in crds/.
//
// Tags: @minimum/@maximum/@maxLength/@pattern/@default/@format are OpenAPI keywords;
// @x-kubernetes-validations carries CEL rules (JSON), checked by the API server at apply time.

/** Kubernetes object metadata (the fields the operator reads). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  resourceVersion?: string;
  uid?: string;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

/**
 * A condition in Kubernetes' standard shape (metav1.Condition), so kubectl, kstatus,
 * Flux and Argo CD read it.
 */
export interface Condition {
  /**
   * Ready, Reconciling, Stalled, or another condition type.
   * @maxLength 316
   * @pattern ^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?){0,}/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$
   */
  type: string;
  /** True, False or Unknown. */
  status: "True" | "False" | "Unknown";
  /**
   * The metadata.generation this condition was computed from.
   * @minimum 0
   * @asType integer
   */
  observedGeneration?: number;
  /**
   * When status last changed.
   * @format date-time
   */
  lastTransitionTime: string;
  /**
   * A machine-readable CamelCase reason, e.g. PolicyViolation.
   * @minLength 1
   * @maxLength 1024
   * @pattern ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$
   */
  reason: string;
  /**
   * What is true now and, when something is wrong, what to change.
   * @maxLength 32768
   */
  message: string;
}

/** Persistent storage of each broker (one PersistentVolumeClaim per broker). */
export interface StorageSpec {
  /**
   * Size of each broker's volume, as a Kubernetes quantity.
   * @default "10Gi"
   * @maxLength 32
   * @pattern ^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$
   */
  size?: string;
  /**
   * StorageClass of the volumes; the cluster's default when unset.
   * @maxLength 253
   */
  storageClassName?: string;
  /**
   * Delete the volumes when the KafkaCluster is deleted or scaled down (Delete), or keep them (Retain).
   * @default "Retain"
   */
  deleteClaim?: "Retain" | "Delete";
}

/** CPU and memory of each broker container (Kubernetes quantities). */
export interface ResourceList {
  /** @maxLength 32 */
  cpu?: string;
  /** @maxLength 32 */
  memory?: string;
}

export interface ResourceRequirements {
  requests?: ResourceList;
  limits?: ResourceList;
}

/** A listener clients connect to. */
export interface ListenerSpec {
  /**
   * Listener name, as in Kafka's listeners property.
   * @maxLength 32
   * @pattern ^[A-Z][A-Z0-9_]*$
   */
  name: string;
  /**
   * Port inside the cluster.
   * @minimum 1024
   * @maximum 65535
   * @asType integer
   */
  port: number;
  /**
   * internal: a ClusterIP bootstrap Service; nodeport: reachable on every node (kind);
   * loadbalancer: a LoadBalancer Service per broker.
   * @default "internal"
   */
  type?: "internal" | "nodeport" | "loadbalancer";
  /**
   * For nodeport listeners: the first node port; broker N gets nodePort + 1 + N.
   * @minimum 30000
   * @maximum 32767
   * @asType integer
   */
  nodePort?: number;
  /**
   * For nodeport listeners: the host name clients use to reach the nodes (e.g. localhost on kind).
   * @maxLength 253
   */
  advertisedHost?: string;
}

/** The allowed values or pattern of one segment of a topic-name template. */
export interface TopicNameSegment {
  /**
   * Values this segment may take.
   * @maxItems 256
   */
  values?: string[];
  /**
   * An RE2 regular expression the segment must match in full.
   * @maxLength 256
   */
  pattern?: string;
}

/** How topic names are checked: a template of segments, or one regular expression. */
export interface TopicNamingSpec {
  /**
   * Dot-separated segments in braces, e.g. "{env}.{team}.{app}.{type}"; literal text between
   * segments is allowed.
   * @maxLength 256
   */
  template?: string;
  /** The allowed values or pattern of each template segment, by segment name. */
  segments?: Record<string, TopicNameSegment>;
  /**
   * Instead of a template: an RE2 regular expression topic names must match in full.
   * @maxLength 1024
   */
  pattern?: string;
}

/** Bounds on the replication factor; never above the broker count, whatever they say. */
export interface ReplicationFactorPolicy {
  /**
   * Smallest replication factor a topic may have.
   * @minimum 1
   * @asType integer
   */
  min?: number;
  /**
   * Replication factor of topics that do not ask for one.
   * @minimum 1
   * @asType integer
   */
  default?: number;
  /**
   * Largest replication factor a topic may ask for.
   * @minimum 1
   * @asType integer
   */
  max?: number;
}

/** The values a required topic config may take: numeric bounds and/or a list of values. */
export interface ConfigRequirement {
  /** Smallest numeric value allowed. */
  min?: number;
  /** Largest numeric value allowed. */
  max?: number;
  /**
   * Values allowed.
   * @maxItems 64
   */
  values?: string[];
}

/**
 * The cluster's topic rules, enforced at admission, by the operator and by the brokers
 * (CreateTopics is refused with POLICY_VIOLATION and the reason).
 */
export interface TopicPolicySpec {
  /**
   * Enforce refuses violations; Warn admits them with a warning and a condition; Audit only
   * reports them (to adopt a policy on an existing cluster safely).
   * @default "Enforce"
   */
  mode?: "Enforce" | "Warn" | "Audit";
  naming?: TopicNamingSpec;
  /**
   * Prefixes no user topic may start with.
   * @default ["__"]
   * @maxItems 64
   */
  reservedPrefixes?: string[];
  replicationFactor?: ReplicationFactorPolicy;
  /**
   * Most partitions a topic may have.
   * @minimum 1
   * @asType integer
   */
  maxPartitions?: number;
  /** Topic configs every topic must satisfy, by Kafka name, e.g. min.insync.replicas: {min: 2}. */
  requiredConfigs?: Record<string, ConfigRequirement>;
  /**
   * cleanup.policy values topics may use (delete, compact); any when unset.
   * @maxItems 2
   */
  allowedCleanupPolicies?: Array<"delete" | "compact">;
}

/**
 * A Kafka cluster of Capstan brokers: a StatefulSet, a headless and a bootstrap Service,
 * a ConfigMap with server.properties, and a PodDisruptionBudget.
 * @x-kubernetes-validations [{"rule":"!has(self.topicPolicy) || !has(self.topicPolicy.replicationFactor) || !has(self.topicPolicy.replicationFactor.min) || self.topicPolicy.replicationFactor.min <= self.replicas","message":"topicPolicy.replicationFactor.min cannot be above replicas (the broker count)"}]
 */
export interface KafkaClusterSpec {
  /**
   * Number of brokers. Scaling down first moves partitions off the brokers removed.
   * @minimum 1
   * @maximum 99
   * @default 3
   * @asType integer
   */
  replicas: number;
  /**
   * Capstan version of the broker image (the operator's own version when unset).
   * @maxLength 64
   */
  version?: string;
  /**
   * Full broker image reference; overrides version.
   * @maxLength 512
   */
  image?: string;
  /**
   * Broker properties in Kafka's names (server.properties), e.g. log.retention.hours: "72".
   * The operator sets node.id, listeners and the quorum itself.
   */
  config?: Record<string, string>;
  storage?: StorageSpec;
  resources?: ResourceRequirements;
  /**
   * Client listeners; one internal PLAINTEXT listener on 9092 when unset.
   * @maxItems 8
   */
  listeners?: ListenerSpec[];
  topicPolicy?: TopicPolicySpec;
}

export interface KafkaClusterStatus {
  /** @asType integer */
  observedGeneration?: number;
  /**
   * Ready, Reconciling and Stalled.
   * @x-kubernetes-list-type map
   * @x-kubernetes-list-map-keys ["type"]
   */
  conditions?: Condition[];
  /**
   * Brokers running and ready.
   * @asType integer
   */
  readyBrokers?: number;
  /**
   * Brokers the cluster has now (the scale subresource's status.replicas).
   * @asType integer
   */
  replicas?: number;
  /** Label selector of the broker pods (for the scale subresource). */
  selector?: string;
  /** The bootstrap servers clients use inside the cluster. */
  bootstrapServers?: string;
  /** Kafka cluster id. */
  clusterId?: string;
}

/**
 * A topic in a Capstan KafkaCluster, named by the label kafka.capstan.dev/cluster.
 * @x-kubernetes-validations [{"rule":"has(self.topicName) == has(oldSelf.topicName)","message":"spec.topicName cannot be added or removed after creation"}]
 */
export interface KafkaTopicSpec {
  /**
   * The topic's name in Kafka; metadata.name when unset. Cannot change.
   * @maxLength 249
   * @pattern ^[a-zA-Z0-9._-]+$
   * @x-kubernetes-validations [{"rule":"self != '.' && self != '..'","message":"a topic cannot be named . or .."},{"rule":"self == oldSelf","message":"spec.topicName is immutable: create a new KafkaTopic to rename a topic"}]
   */
  topicName?: string;
  /**
   * Number of partitions; it can grow, never shrink.
   * @minimum 1
   * @maximum 100000
   * @asType integer
   * @x-kubernetes-validations [{"rule":"self >= oldSelf","message":"spec.partitions cannot decrease (Kafka cannot remove partitions)"}]
   */
  partitions: number;
  /**
   * Replicas of each partition. Unset: the cluster's topicPolicy default for a new topic; an
   * adopted topic keeps its own. A change is carried out by partition reassignment
   * (AlterPartitionReassignments), with progress in status.reassignment and Ready=False,
   * reason ReplicationFactorChanging, until every partition has moved.
   * @minimum 1
   * @maximum 99
   * @asType integer
   */
  replicationFactor?: number;
  /**
   * Topic configs in Kafka's names, e.g. retention.ms: "86400000". Applied with
   * IncrementalAlterConfigs; a topic override set or changed outside this resource (e.g.
   * with kafka-configs.sh) is reverted, and an Event names what was reverted.
   */
  config?: Record<string, string>;
  /**
   * What deleting this KafkaTopic does to the Kafka topic. Delete (the default): the
   * operator's finalizer kafka.capstan.dev/topic-cleanup deletes the Kafka topic, then lets
   * the resource go. Retain: the Kafka topic and its data are kept. The topic is also kept
   * when its KafkaCluster is gone or being deleted. If the operator is not running, a
   * KafkaTopic being deleted waits on the finalizer; to let it go without deleting the
   * topic, remove the finalizer by hand:
   * kubectl patch kafkatopic NAME -n NAMESPACE --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
   * @default "Delete"
   */
  deletionPolicy?: "Delete" | "Retain";
}

/** The consumer lag on a topic, from the operator's lag exporter (the same numbers as /metrics). */
export interface TopicConsumerLag {
  /**
   * The most records any consumer group is behind on any partition of the topic.
   * @asType integer
   */
  maxLag: number;
  /**
   * Age in seconds of the oldest record some group has not consumed yet; unset when no
   * group is behind or the age is not known.
   */
  maxLagSeconds?: number;
  /** The group furthest behind (the oldest unconsumed record first, then the most records). */
  slowestGroup: string;
  /**
   * Groups with committed offsets on the topic.
   * @asType integer
   */
  groups: number;
  /** When the lag was measured (RFC 3339). */
  observedAt: string;
}

export interface KafkaTopicStatus {
  /** @asType integer */
  observedGeneration?: number;
  /**
   * Ready, Reconciling and Stalled. Ready=False says why: PolicyViolation (the cluster's
   * topicPolicy refuses the topic; nothing is created or changed), ResourceConflict (an
   * older KafkaTopic manages the same Kafka topic), ClusterNotFound,
   * PartitionDecreaseRefused, ReplicationFactorChanging, ReplicationFactorChangeUnsupported,
   * ReplicationFactorChangeRefused or ReconcileFailed.
   * @x-kubernetes-list-type map
   * @x-kubernetes-list-map-keys ["type"]
   */
  conditions?: Condition[];
  /** The Kafka topic id. */
  topicId?: string;
  /** The topic's name in Kafka. */
  topicName?: string;
  /** @asType integer */
  partitions?: number;
  /** @asType integer */
  replicationFactor?: number;
  /** Replication factor change in progress, e.g. "3 of 6 partitions moved". */
  reassignment?: string;
  /** Every topic config's effective value (own, broker or Kafka default). */
  effectiveConfig?: Record<string, string>;
  /**
   * Consumer lag on the topic, refreshed when the topic is reconciled (at least every
   * --topic-resync-seconds); unset while no group has committed offsets on it or the
   * operator's lag exporter is off.
   */
  consumerLag?: TopicConsumerLag;
}

export interface KafkaCluster {
  apiVersion: "kafka.capstan.dev/v1alpha1";
  kind: "KafkaCluster";
  metadata: ObjectMeta;
  spec: KafkaClusterSpec;
  status?: KafkaClusterStatus;
}

export interface KafkaTopic {
  apiVersion: "kafka.capstan.dev/v1alpha1";
  kind: "KafkaTopic";
  metadata: ObjectMeta;
  spec: KafkaTopicSpec;
  status?: KafkaTopicStatus;
}

export const GROUP = "kafka.capstan.dev";
export const VERSION = "v1alpha1";
/** The label that ties a KafkaTopic to its KafkaCluster. */
export const CLUSTER_LABEL = "kafka.capstan.dev/cluster";
