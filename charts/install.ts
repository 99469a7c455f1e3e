// The install manifests, from one cdk8s source: `npm run synth` writes dist/install.yaml for
// `kubectl apply --server-side -f`, and tests apply the same objects to a real API server.
//
// What it holds, in apply order: the namespace, the CRDs (crds/*.yaml as committed), the
// operator's ServiceAccount, its least-privilege RBAC (operator/rbac.ts, generated from the
// resources the code calls), the operator Deployment (leader election on, non-root,
// read-only root filesystem, probes on /healthz and /readyz), the metrics Service, and
// the topic-policy ValidatingAdmissionPolicies and their bindings (on by default, see
// InstallOptions.admissionPolicy), and optionally a ServiceMonitor, a PrometheusRule
// (charts/dashboards/capstan-lag-rules.yaml) and the Grafana dashboard ConfigMap
// (charts/dashboards/capstan-lag.json).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { ApiObject, App, Chart } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import { parse as parseYaml } from "yaml";
import { topicPolicyAdmission } from "../operator/admission/topic-policy-vap.ts";
import { operatorRbac } from "../operator/rbac.ts";

const REPO = path.resolve(import.meta.dirname, "..");
export const CRD_DIR = path.join(REPO, "crds");
export const DASHBOARD_DIR = path.join(REPO, "charts", "dashboards");

export const VERSION: string = (
  JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }
).version;

/** The operator's HTTP port: /healthz, /readyz and /metrics (operator/cli.ts --metrics-port). */
export const OPERATOR_METRICS_PORT = 8080;
/** The uid/gid the images run as (broker/Dockerfile, operator/Dockerfile). */
export const CAPSTAN_UID = 10001;

export interface InstallOptions {
  /** Namespace of the operator; "capstan-system" by default. */
  namespace?: string;
  /** Whether to create the namespace; true by default. */
  createNamespace?: boolean;
  /** Operator image; capstan/operator:<version> by default. */
  image?: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Broker image repository the operator uses when spec.image is unset; capstan/broker by default. */
  brokerImage?: string;
  /** Broker image tag when spec.version is unset; the package version by default. */
  brokerVersion?: string;
  /**
   * Whether the operator exports the consumer lag of every KafkaCluster it manages on its
   * /metrics (--consumer-lag); true by default. A cluster annotated
   * kafka.capstan.dev/consumer-lag: "false" is left out either way.
   */
  consumerLag?: boolean;
  /** Seconds between two lag polls of a cluster (--lag-poll-interval); 30 by default. */
  lagPollInterval?: number;
  /** Operator replicas (one leads, the others stand by); 2 by default. */
  replicas?: number;
  /** Namespaces the operator watches (Roles in each); all, with a ClusterRole, when empty. */
  watchNamespaces?: readonly string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** A prometheus-operator ServiceMonitor for the metrics Service. */
  serviceMonitor?: boolean;
  /** A prometheus-operator PrometheusRule with the consumer-lag alerts. */
  prometheusRule?: boolean;
  /** The Grafana dashboard as a ConfigMap for Grafana's sidecar. */
  dashboard?: boolean;
  /** Labels the Grafana sidecar selects dashboards by; { grafana_dashboard: "1" } by default. */
  dashboardLabels?: Record<string, string>;
  /** Extra labels for the ServiceMonitor and PrometheusRule (e.g. a Prometheus' release selector). */
  monitoringLabels?: Record<string, string>;
  /**
   * The topic policy at admission (operator/admission/topic-policy-vap.ts): one
   * ValidatingAdmissionPolicy and binding per mode (capstan-topic-policy-{enforce,warn,audit}),
   * so `kubectl apply` of a KafkaTopic that breaks its KafkaCluster's spec.topicPolicy is
   * refused (Enforce), admitted with a warning (Warn) or only audited (Audit). True by default:
   * what it refuses, the operator would not create either. A KafkaTopic is checked only against the
   * KafkaCluster its kafka.capstan.dev/cluster label names in its own namespace; without one
   * (no label, no such cluster) it is admitted; for a cluster without a topicPolicy only
   * Kafka's and the policy's built-in limits apply (no reserved "__" prefix, no more replicas
   * than brokers), which the operator refuses as well. Needs Kubernetes 1.30 (the v1 API).
   */
  admissionPolicy?: boolean;
}

/** Operator resources when none are given. */
export const DEFAULT_RESOURCES = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { memory: "512Mi" },
} as const;
/** Operator replicas when none are given: one leads, one stands by. */
export const DEFAULT_REPLICAS = 2;
/** The label kube-prometheus-stack's Grafana sidecar loads dashboards by. */
export const DEFAULT_DASHBOARD_LABELS: Readonly<Record<string, string>> = { grafana_dashboard: "1" };
export const DEFAULT_OPERATOR_IMAGE = "capstan/operator";
export const DEFAULT_BROKER_IMAGE = "capstan/broker";
/** The operator's own default of --lag-poll-interval (operator/cli.ts). */
export const DEFAULT_LAG_POLL_INTERVAL = 30;
/** The admission policy is installed unless turned off. */
export const DEFAULT_ADMISSION_POLICY = true;

export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

const NAME = "capstan-operator";

function commonLabels(): Record<string, string> {
  return {
    "app.kubernetes.io/name": NAME,
    "app.kubernetes.io/part-of": "capstan",
    "app.kubernetes.io/version": VERSION,
    "app.kubernetes.io/managed-by": "capstan-install",
  };
}

function selectorLabels(): Record<string, string> {
  return { "app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "operator" };
}

/** The committed CRDs, sorted by file name. */
export function crds(): Manifest[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => parseYaml(readFileSync(path.join(CRD_DIR, f), "utf8")) as Manifest);
}

/** Builds the install chart in app. */
export function installChart(app: App, o: InstallOptions = {}): Chart {
  const ns = o.namespace ?? "capstan-system";
  const labels = commonLabels();
  const chart = new Chart(app, "install", { disableResourceNameHashes: true });
  const meta = (name: string, extra: Record<string, string> = {}) => ({
    name,
    namespace: ns,
    labels: { ...labels, ...extra },
  });

  if (o.createNamespace ?? true) {
    new k8s.KubeNamespace(chart, "namespace", {
      metadata: { name: ns, labels: { "app.kubernetes.io/part-of": "capstan" } },
    });
  }
  for (const crd of crds()) new ApiObject(chart, `crd-${crd.metadata.name}`, crd);

  new k8s.KubeServiceAccount(chart, "service-account", { metadata: meta(NAME) });
  for (const m of operatorRbac({
    serviceAccount: NAME,
    namespace: ns,
    watchNamespaces: o.watchNamespaces,
    name: NAME,
    labels,
  }) as Manifest[]) {
    const id = `${m.kind}-${m.metadata.namespace ?? "cluster"}-${m.metadata.name}`.toLowerCase();
    new ApiObject(chart, id, m);
  }

  const args = [
    "operator",
    "--leader-elect=true",
    `--lease-name=${NAME}`,
    `--metrics-port=${OPERATOR_METRICS_PORT}`,
    `--broker-image=${o.brokerImage ?? DEFAULT_BROKER_IMAGE}`,
    `--broker-version=${o.brokerVersion ?? VERSION}`,
    // Spelled out even at their defaults, so the chart has one place for each value.
    `--consumer-lag=${o.consumerLag ?? true}`,
    `--lag-poll-interval=${o.lagPollInterval ?? DEFAULT_LAG_POLL_INTERVAL}`,
    ...(o.watchNamespaces ?? []).map((n) => `--namespace=${n}`),
  ];
  const probe = (p: string, initialDelaySeconds: number, failureThreshold: number) => ({
    httpGet: { path: p, port: k8s.IntOrString.fromString("metrics") },
    initialDelaySeconds,
    periodSeconds: 10,
    timeoutSeconds: 5,
    failureThreshold,
  });
  const quantities = (q?: Record<string, string>) =>
    q ? Object.fromEntries(Object.entries(q).map(([k, v]) => [k, k8s.Quantity.fromString(v)])) : undefined;
  const resources = o.resources ?? DEFAULT_RESOURCES;
  new k8s.KubeDeployment(chart, "deployment", {
    metadata: meta(NAME, { "app.kubernetes.io/component": "operator" }),
    spec: {
      replicas: o.replicas ?? DEFAULT_REPLICAS,
      selector: { matchLabels: selectorLabels() },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } },
      template: {
        metadata: { labels: { ...labels, ...selectorLabels() } },
        spec: {
          serviceAccountName: NAME,
          automountServiceAccountToken: true,
          // Leader election hands over on SIGTERM (the lease is released), well inside this.
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: CAPSTAN_UID,
            runAsGroup: CAPSTAN_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: "kubernetes.io/hostname",
                    labelSelector: { matchLabels: selectorLabels() },
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: "operator",
              image: o.image ?? `${DEFAULT_OPERATOR_IMAGE}:${VERSION}`,
              imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
              args,
              env: [
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              ],
              ports: [{ name: "metrics", containerPort: OPERATOR_METRICS_PORT, protocol: "TCP" }],
              livenessProbe: probe("/healthz", 10, 6),
              readinessProbe: probe("/readyz", 5, 3),
              resources: { requests: quantities(resources.requests), limits: quantities(resources.limits) },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: k8s.Quantity.fromString("64Mi") } }],
        },
      },
    },
  });

  new k8s.KubeService(chart, "metrics-service", {
    metadata: meta(`${NAME}-metrics`, { "app.kubernetes.io/component": "operator" }),
    spec: {
      selector: selectorLabels(),
      ports: [
        {
          name: "metrics",
          port: OPERATOR_METRICS_PORT,
          targetPort: k8s.IntOrString.fromString("metrics"),
          protocol: "TCP",
        },
      ],
    },
  });

  if (o.admissionPolicy ?? DEFAULT_ADMISSION_POLICY) {
    // Cluster-scoped, labelled as the rest so the uninstall by label removes them too.
    for (const m of topicPolicyAdmission({
      labels: { ...labels, "app.kubernetes.io/component": "topic-policy" },
    }) as Manifest[]) {
      new ApiObject(chart, `${m.kind}-${m.metadata.name}`.toLowerCase(), m);
    }
  }

  if (o.serviceMonitor) {
    new ApiObject(chart, "service-monitor", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: meta(NAME, o.monitoringLabels),
      spec: {
        selector: { matchLabels: selectorLabels() },
        namespaceSelector: { matchNames: [ns] },
        endpoints: [
          // The lag series carry their own `namespace` (the KafkaCluster's): keep it.
          { port: "metrics", path: "/metrics", interval: "30s", honorLabels: true },
        ],
      },
    });
  }
  if (o.prometheusRule) {
    const rules = parseYaml(readFileSync(path.join(DASHBOARD_DIR, "capstan-lag-rules.yaml"), "utf8")) as {
      groups: unknown[];
    };
    new ApiObject(chart, "prometheus-rule", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: meta("capstan-consumer-lag", o.monitoringLabels),
      spec: { groups: rules.groups },
    });
  }
  if (o.dashboard) {
    new k8s.KubeConfigMap(chart, "dashboard", {
      metadata: meta("capstan-dashboard-consumer-lag", o.dashboardLabels ?? DEFAULT_DASHBOARD_LABELS),
      data: { "capstan-lag.json": readFileSync(path.join(DASHBOARD_DIR, "capstan-lag.json"), "utf8") },
    });
  }
  return chart;
}

/** The install manifests as objects, in apply order. */
export function installManifests(o: InstallOptions = {}): Manifest[] {
  const app = new App();
  return installChart(app, o).toJson() as Manifest[];
}

/** The install manifests as one multi-document YAML stream. */
export function installYaml(o: InstallOptions = {}): string {
  const app = new App();
  installChart(app, o);
  return app.synthYaml();
}
