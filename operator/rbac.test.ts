import assert from "node:assert/strict";
import { test } from "node:test";
import { allowed } from "./runtime/kube-client.ts";
import { KAFKA_CLUSTER, LEASE, POD, STATEFUL_SET } from "./runtime/resources.ts";
import { leaseRules, operatorRbac, operatorRules } from "./rbac.ts";

type Manifest = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const grants = (rules: ReturnType<typeof operatorRules>, group: string, resource: string, verb: string) =>
  rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

test("the ClusterRole grants what the operator calls, and no more", () => {
  const rules = operatorRules();
  for (const [group, resource, verbs] of [
    ["kafka.capstan.dev", "kafkaclusters", ["get", "list", "watch"]],
    ["kafka.capstan.dev", "kafkaclusters/status", ["get", "patch", "update"]],
    ["kafka.capstan.dev", "kafkatopics/status", ["get", "patch", "update"]],
    ["apps", "statefulsets", ["create", "delete", "get", "list", "patch", "watch"]],
    ["", "pods", ["delete", "get", "list", "watch"]],
    ["events.k8s.io", "events", ["create", "patch"]],
  ] as const) {
    for (const verb of verbs) assert.ok(grants(rules, group, resource, verb), `${verb} ${group}/${resource}`);
  }
  assert.ok(!grants(rules, "kafka.capstan.dev", "kafkaclusters", "update"), "spec belongs to users");
  assert.ok(!grants(rules, "", "pods", "create"));
  assert.ok(!grants(rules, "", "secrets", "get"));
  assert.ok(!rules.some((r) => r.resources.includes("leases")), "leases only in the lease namespace");
  assert.ok(!rules.some((r) => r.verbs.includes("*") || r.resources.includes("*")));
  assert.deepEqual(leaseRules(), [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update"] },
  ]);
});

test("cluster-wide: a ClusterRole and binding, plus the lease Role in the lease namespace", () => {
  const m = operatorRbac({ serviceAccount: "op", namespace: "capstan-system" }) as Manifest[];
  assert.deepEqual(
    m.map((x) => `${x.kind}/${x.metadata.namespace ?? ""}/${x.metadata.name}`),
    [
      "ClusterRole//capstan-operator",
      "ClusterRoleBinding//capstan-operator",
      "Role/capstan-system/capstan-operator-leader-election",
      "RoleBinding/capstan-system/capstan-operator-leader-election",
    ],
  );
  assert.deepEqual(m[1].subjects, [{ kind: "ServiceAccount", name: "op", namespace: "capstan-system" }]);
});

test("watched namespaces: a Role and binding in each, no ClusterRole", () => {
  const m = operatorRbac({
    serviceAccount: "op",
    namespace: "ops",
    watchNamespaces: ["a", "b"],
    leaseNamespace: "ops",
  }) as Manifest[];
  assert.ok(!m.some((x) => x.kind.startsWith("Cluster")));
  assert.deepEqual(
    m.filter((x) => x.kind === "Role").map((x) => x.metadata.namespace),
    ["a", "b", "ops"],
  );
});

test("the REST client refuses verbs the RBAC does not grant", () => {
  assert.doesNotThrow(() => allowed(STATEFUL_SET, "patch"));
  assert.doesNotThrow(() => allowed(KAFKA_CLUSTER, "patch", "status"));
  assert.doesNotThrow(() => allowed(LEASE, "update"));
  assert.throws(() => allowed(KAFKA_CLUSTER, "update"), /resources\.ts/);
  assert.throws(() => allowed(POD, "create"), /does not declare "create" on pods/);
});
