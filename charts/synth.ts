// `npm run synth [-- options]`: synthesizes the install manifests (charts/install.ts) into
// dist/install.yaml, for `kubectl apply --server-side -f dist/install.yaml`, and regenerates
// the committed Helm chart (charts/capstan/) and kustomize base (charts/kustomize/).
//
//   --out <file>             where to write the manifests (default dist/install.yaml; "-": stdout)
//   --namespace <ns>         the operator's namespace (default capstan-system)
//   --image <image>          the operator image (default capstan/operator:<version>)
//   --broker-image <repo>    the broker image repository (default capstan/broker)
//   --broker-version <tag>   the broker image tag (default the package version)
//   --watch-namespace <ns>   watch only this namespace (repeatable; default all)
//   --service-monitor        add a ServiceMonitor (needs the prometheus-operator CRDs)
//   --prometheus-rule        add the consumer-lag PrometheusRule (same)
//   --dashboard              add the Grafana dashboard ConfigMap (label grafana_dashboard: "1")
//   --monitoring             all three
//   --no-consumer-lag        the operator does not export consumer lag (--consumer-lag=false)
//   --lag-poll-interval <s>  seconds between two lag polls of a cluster (default 30)
//   --no-admission-policy    leave out the topic-policy ValidatingAdmissionPolicies (on by default)
//   --check                  write nothing; exit 1 if charts/capstan or charts/kustomize is stale
//   --manifests-only         write the manifests only, not charts/capstan and charts/kustomize
//                            (implied by --out -)
//
// The options shape dist/install.yaml only; the chart and the base take theirs as Helm values
// and kustomize overlays.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO, generatedFiles, outOfDate } from "./generated.ts";
import { installYaml } from "./install.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "dist/install.yaml" },
    namespace: { type: "string" },
    image: { type: "string" },
    "broker-image": { type: "string" },
    "broker-version": { type: "string" },
    "watch-namespace": { type: "string", multiple: true },
    "service-monitor": { type: "boolean", default: false },
    "prometheus-rule": { type: "boolean", default: false },
    dashboard: { type: "boolean", default: false },
    monitoring: { type: "boolean", default: false },
    "no-consumer-lag": { type: "boolean", default: false },
    "lag-poll-interval": { type: "string" },
    "no-admission-policy": { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    "manifests-only": { type: "boolean", default: false },
  },
});

const files = generatedFiles();
if (values.check) {
  const stale = outOfDate(files);
  if (stale.length) {
    console.error(`out of date (run npm run synth):\n  ${stale.join("\n  ")}`);
    process.exit(1);
  }
  console.log("charts/capstan and charts/kustomize are up to date");
  process.exit(0);
}

const interval = values["lag-poll-interval"];
if (interval !== undefined && !(Number(interval) > 0)) {
  console.error(`--lag-poll-interval: expected a positive number of seconds, got ${interval}`);
  process.exit(2);
}

const yaml = installYaml({
  namespace: values.namespace,
  image: values.image,
  brokerImage: values["broker-image"],
  brokerVersion: values["broker-version"],
  watchNamespaces: values["watch-namespace"],
  serviceMonitor: values["service-monitor"] || values.monitoring,
  prometheusRule: values["prometheus-rule"] || values.monitoring,
  dashboard: values.dashboard || values.monitoring,
  consumerLag: !values["no-consumer-lag"],
  lagPollInterval: interval === undefined ? undefined : Number(interval),
  admissionPolicy: !values["no-admission-policy"],
});
if (values.out === "-") {
  process.stdout.write(yaml);
} else {
  const out = path.resolve(values.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, yaml);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

// Standard output is for piping the manifests somewhere: leave the repository alone then.
if (values["manifests-only"] || values.out === "-") process.exit(0);

// Files no longer generated are removed; the rest rewritten.
for (const stale of outOfDate(files)) {
  const m = / \(not generated\)$/.exec(stale);
  if (m) rmSync(path.join(REPO, stale.slice(0, m.index)));
}
for (const [rel, content] of Object.entries(files)) {
  const abs = path.join(REPO, rel);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, content);
}
console.log("wrote charts/capstan/ and charts/kustomize/");
