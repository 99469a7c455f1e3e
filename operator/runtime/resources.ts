// The Kubernetes resources the operator talks to, with the verbs it uses on each. This
// table is the operator's whole API surface: the REST client builds paths from it and
// refuses calls it does not list, and rbac.ts turns it into the least-privilege roles,
// so the RBAC cannot drift from what the code does.
import { GROUP, VERSION } from "../api/types.ts";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";

export interface ResourceType {
  /** API group; "" for the core group. */
  group: string;
  version: string;
  /** Plural resource name, as in the URL. */
  plural: string;
  kind: string;
  namespaced: boolean;
  /** What the operator does with the resource itself. */
  verbs: readonly Verb[];
  /** What it does with subresources, e.g. { status: ["get", "patch"] }. */
  subresources?: Readonly<Record<string, readonly Verb[]>>;
}

// Server-side apply is a PATCH that creates the object when it is missing, which the API
// server also authorizes as "create": owned kinds need both.
const OWNED: readonly Verb[] = ["get", "list", "watch", "create", "patch", "delete"];

export const KAFKA_CLUSTER: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: "kafkaclusters",
  kind: "KafkaCluster",
  namespaced: true,
  verbs: ["get", "list", "watch"],
  // finalizers: setting blockOwnerDeletion on owned objects needs it where the
  // OwnerReferencesPermissionEnforcement admission plugin is on (OpenShift).
  subresources: { status: ["get", "patch", "update"], finalizers: ["update"] },
};

export const KAFKA_TOPIC: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: "kafkatopics",
  kind: "KafkaTopic",
  namespaced: true,
  // update/patch: the topic reconciler adds and removes its finalizer.
  verbs: ["get", "list", "watch", "update", "patch"],
  subresources: { status: ["get", "patch", "update"] },
};

export const STATEFUL_SET: ResourceType = {
  group: "apps",
  version: "v1",
  plural: "statefulsets",
  kind: "StatefulSet",
  namespaced: true,
  verbs: OWNED,
};

export const SERVICE: ResourceType = {
  group: "",
  version: "v1",
  plural: "services",
  kind: "Service",
  namespaced: true,
  verbs: OWNED,
};

export const CONFIG_MAP: ResourceType = {
  group: "",
  version: "v1",
  plural: "configmaps",
  kind: "ConfigMap",
  namespaced: true,
  verbs: OWNED,
};

export const POD_DISRUPTION_BUDGET: ResourceType = {
  group: "policy",
  version: "v1",
  plural: "poddisruptionbudgets",
  kind: "PodDisruptionBudget",
  namespaced: true,
  verbs: OWNED,
};

export const POD: ResourceType = {
  group: "",
  version: "v1",
  plural: "pods",
  kind: "Pod",
  namespaced: true,
  // delete: a rolling restart deletes one broker pod at a time (the StatefulSet is OnDelete).
  verbs: ["get", "list", "watch", "delete"],
};

export const EVENT: ResourceType = {
  group: "events.k8s.io",
  version: "v1",
  plural: "events",
  kind: "Event",
  namespaced: true,
  // patch: a repeated event bumps its series count instead of piling up new objects.
  verbs: ["create", "patch"],
};

export const LEASE: ResourceType = {
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  kind: "Lease",
  namespaced: true,
  verbs: ["get", "create", "update"],
};

/** Every resource the operator uses (leases are granted separately, in one namespace). */
export const OPERATOR_RESOURCES: readonly ResourceType[] = [
  KAFKA_CLUSTER,
  KAFKA_TOPIC,
  STATEFUL_SET,
  SERVICE,
  CONFIG_MAP,
  POD_DISRUPTION_BUDGET,
  POD,
  EVENT,
  LEASE,
];

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** The resource type of an object, from its apiVersion and kind. */
export function resourceOf(apiVersion: string, kind: string): ResourceType {
  const t = OPERATOR_RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  if (!t) throw new Error(`the operator does not manage ${kind} (${apiVersion}); add it to resources.ts`);
  return t;
}

/** The URL path of a collection (all namespaces when namespace is undefined). */
export function collectionPath(t: ResourceType, namespace?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced && namespace ? `${base}/namespaces/${namespace}/${t.plural}` : `${base}/${t.plural}`;
}

/** The URL path of one object, or of one of its subresources. */
export function objectPath(
  t: ResourceType,
  namespace: string | undefined,
  name: string,
  sub?: string,
): string {
  return `${collectionPath(t, namespace)}/${encodeURIComponent(name)}${sub ? `/${sub}` : ""}`;
}
