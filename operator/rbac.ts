// The operator's RBAC as data, generated from runtime/resources.ts (the resources and verbs
// the code uses, which its REST client enforces), so the roles grant exactly what the
// operator calls. Cluster-wide: one ClusterRole and binding; with watched namespaces: a
// Role and RoleBinding in each instead (least privilege). Leases are always a Role in the
// lease namespace. The deployment charts render these manifests.
import type { ResourceType } from "./runtime/resources.ts";
import { LEASE, OPERATOR_RESOURCES } from "./runtime/resources.ts";

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface RbacOptions {
  /** The operator's ServiceAccount and its namespace. */
  serviceAccount: string;
  namespace: string;
  /** Namespaces the operator watches; cluster-wide when empty or unset. */
  watchNamespaces?: readonly string[];
  /** Where the leader-election Lease lives; the operator's namespace by default. */
  leaseNamespace?: string;
  /** Name of the roles and bindings; "capstan-operator" by default. */
  name?: string;
  labels?: Record<string, string>;
}

type Manifest = Record<string, unknown>;

/** The rules for the resources (one rule per resource and per subresource, verbs sorted). */
export function rulesFor(resources: readonly ResourceType[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const r of resources) {
    rules.push({ apiGroups: [r.group], resources: [r.plural], verbs: [...r.verbs].sort() });
    for (const [sub, verbs] of Object.entries(r.subresources ?? {})) {
      rules.push({ apiGroups: [r.group], resources: [`${r.plural}/${sub}`], verbs: [...verbs].sort() });
    }
  }
  return rules;
}

/** The rules of the operator's (Cluster)Role: everything but leases. */
export function operatorRules(): PolicyRule[] {
  return rulesFor(OPERATOR_RESOURCES.filter((r) => r !== LEASE));
}

/** The rules of the leader-election Role. */
export function leaseRules(): PolicyRule[] {
  return rulesFor([LEASE]);
}

/** ClusterRole + ClusterRoleBinding (or a Role + RoleBinding per watched namespace), and the lease Role + RoleBinding. */
export function operatorRbac(o: RbacOptions): Manifest[] {
  const name = o.name ?? "capstan-operator";
  const labels = {
    "app.kubernetes.io/name": "capstan-operator",
    "app.kubernetes.io/part-of": "capstan",
    ...o.labels,
  };
  const subjects = [{ kind: "ServiceAccount", name: o.serviceAccount, namespace: o.namespace }];
  const rbac = "rbac.authorization.k8s.io/v1";
  const out: Manifest[] = [];
  const role = (kind: "Role" | "ClusterRole", roleName: string, rules: PolicyRule[], namespace?: string) => {
    out.push({
      apiVersion: rbac,
      kind,
      metadata: { name: roleName, ...(namespace ? { namespace } : {}), labels },
      rules,
    });
    out.push({
      apiVersion: rbac,
      kind: kind === "Role" ? "RoleBinding" : "ClusterRoleBinding",
      metadata: { name: roleName, ...(namespace ? { namespace } : {}), labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name: roleName },
      subjects,
    });
  };
  if (o.watchNamespaces?.length) {
    for (const ns of o.watchNamespaces) role("Role", name, operatorRules(), ns);
  } else {
    role("ClusterRole", name, operatorRules());
  }
  role("Role", `${name}-leader-election`, leaseRules(), o.leaseNamespace ?? o.namespace);
  return out;
}
