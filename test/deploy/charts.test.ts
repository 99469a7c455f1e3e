// The committed outputs of `npm run synth`: the Helm chart (charts/capstan/) and the kustomize
// base (charts/kustomize/) are what the generators write now, the chart's CRDs are crds/ byte
// for byte, `helm lint` passes, and `helm template` and `kubectl kustomize` render the same
// objects as charts/install.ts for the same settings, which the real API server of the test
// control plane accepts (server-side dry run, then for real). Skipped when test/setup/k8s.sh
// has not built the binaries (helm, kubectl, the control plane), except on CI (a failure).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";
import { after, before, describe, test } from "node:test";
import { outOfDate } from "../../charts/generated.ts";
import type { InstallOptions } from "../../charts/install.ts";
import { installManifests } from "../../charts/install.ts";
import { topicPolicyAdmission } from "../../operator/admission/topic-policy-vap.ts";
import { k8sBinary, k8sUnavailable, startControlPlane } from "../k8s/harness.ts";
import type { ControlPlane } from "../k8s/harness.ts";
import type { Obj } from "./fixtures.ts";
import { applyInOrder, kubectlOk, monitoringCrds, parseStream } from "./fixtures.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const CHART = path.join(REPO, "charts/capstan");
const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

const run = async (bin: "helm" | "kubectl", args: string[]) => {
  try {
    return await promisify(execFile)(k8sBinary(bin), args, { cwd: REPO, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(" ")}: ${e.stderr || e.message}${e.stdout ?? ""}`, { cause: err });
  }
};
const helm = (...args: string[]) => run("helm", args);

/** Objects in a comparable form: sorted, without the label that names the installing tool. */
function normalize(objs: readonly Obj[]): Obj[] {
  const strip = (labels?: Record<string, string>) => {
    if (labels) delete labels["app.kubernetes.io/managed-by"];
  };
  return structuredClone(objs as Obj[])
    .map((o) => {
      strip(o.metadata.labels);
      const tpl = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)
        ?.template;
      strip(tpl?.metadata?.labels);
      return o;
    })
    .sort((a, b) => key(a).localeCompare(key(b)));
}
const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** The same settings as install options and as Helm --set flags. */
const SETTINGS: Array<{ name: string; options: InstallOptions; set: string[] }> = [
  { name: "defaults", options: {}, set: [] },
  {
    name: "every value set",
    options: {
      image: "registry.example/capstan/operator:9.9.9",
      imagePullPolicy: "Always",
      brokerImage: "registry.example/capstan/broker",
      brokerVersion: "9.9.8",
      replicas: 3,
      consumerLag: false,
      lagPollInterval: 15,
      resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1500m", memory: "1Gi" } },
      watchNamespaces: ["team-a", "team-b"],
      serviceMonitor: true,
      prometheusRule: true,
      dashboard: true,
      monitoringLabels: { release: "kube-prometheus-stack" },
      dashboardLabels: { grafana_dashboard: "1", team: "kafka" },
      admissionPolicy: false,
    },
    set: [
      "image.repository=registry.example/capstan/operator",
      "image.tag=9.9.9",
      "image.pullPolicy=Always",
      "broker.image.repository=registry.example/capstan/broker",
      "broker.image.tag=9.9.8",
      "replicas=3",
      "consumerLag.enabled=false",
      "consumerLag.pollIntervalSeconds=15",
      "resources.requests.cpu=250m",
      "resources.requests.memory=256Mi",
      "resources.limits.cpu=1500m",
      "resources.limits.memory=1Gi",
      "watchNamespaces={team-a,team-b}",
      "metrics.serviceMonitor.enabled=true",
      "metrics.prometheusRule.enabled=true",
      "metrics.labels.release=kube-prometheus-stack",
      "dashboard.enabled=true",
      "dashboard.labels.team=kafka",
      "admissionPolicy.enabled=false",
    ],
  },
];

describe("generated chart files", () => {
  test("npm run synth changes nothing in charts/capstan and charts/kustomize", () => {
    assert.deepEqual(outOfDate(), []);
  });

  test("the chart's CRDs are crds/ byte for byte", () => {
    const files = readdirSync(path.join(REPO, "crds")).sort();
    assert.deepEqual(readdirSync(path.join(CHART, "crds")).sort(), files);
    for (const f of files) {
      assert.equal(
        readFileSync(path.join(CHART, "crds", f), "utf8"),
        readFileSync(path.join(REPO, "crds", f), "utf8"),
      );
    }
  });

  test("docs/install.md documents every Helm value", () => {
    const values = parseYaml(readFileSync(path.join(CHART, "values.yaml"), "utf8")) as Record<
      string,
      unknown
    >;
    const leaves = (o: Record<string, unknown>, prefix = ""): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        // resources and the label maps are documented as a whole.
        v && typeof v === "object" && !Array.isArray(v) && !["resources", "labels"].includes(k)
          ? leaves(v as Record<string, unknown>, `${prefix}${k}.`)
          : [`${prefix}${k}`],
      );
    const doc = readFileSync(path.join(REPO, "docs/install.md"), "utf8");
    const table = doc.slice(doc.indexOf("## With Helm"), doc.indexOf("## With kustomize"));
    for (const leaf of leaves(values))
      assert.ok(table.includes(`\`${leaf}\``), `${leaf} is in the Helm values table`);
  });

  test("the admission policy is on by default: the topic-policy VAPs and bindings as generated, labelled as the rest", () => {
    const admission = (objs: readonly Obj[]) =>
      objs.filter((o) => o.kind.startsWith("ValidatingAdmissionPolicy"));
    const installed = admission(installManifests() as Obj[]);
    const generated = topicPolicyAdmission() as Obj[];
    assert.deepEqual(
      installed.map((o) => o.metadata.name),
      generated.map((o) => o.metadata.name),
    );
    for (const [i, o] of installed.entries()) {
      assert.deepEqual(o.spec, generated[i].spec, `${o.kind} ${o.metadata.name}`);
      assert.equal(o.metadata.labels?.["app.kubernetes.io/name"], "capstan-operator");
      assert.equal(o.metadata.labels?.["app.kubernetes.io/component"], "topic-policy");
    }
    assert.deepEqual(admission(installManifests({ admissionPolicy: false }) as Obj[]), []);
  });
});

describe("helm and kustomize", { skip: unavailable ?? false, timeout: 300_000 }, () => {
  test("helm lint passes, with the defaults and with every value set", async () => {
    const { stdout } = await helm("lint", "--strict", CHART);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const set = SETTINGS[1].set.flatMap((s) => ["--set", s]);
    await helm("lint", "--strict", CHART, ...set);
  });

  for (const s of SETTINGS) {
    test(`helm template renders what charts/install.ts does (${s.name})`, async () => {
      const set = s.set.flatMap((x) => ["--set", x]);
      const { stdout } = await helm("template", "capstan", CHART, "--namespace", "capstan-helm", ...set);
      const fromCdk8s = installManifests({ ...s.options, namespace: "capstan-helm", createNamespace: false });
      const expected = fromCdk8s.filter((o) => o.kind !== "CustomResourceDefinition") as Obj[];
      assert.deepEqual(normalize(parseStream(stdout)), normalize(expected));
    });
  }

  test("helm template with only admissionPolicy.enabled=false renders what admissionPolicy: false does", async () => {
    const { stdout } = await helm("template", "capstan", CHART, "--set", "admissionPolicy.enabled=false");
    const expected = installManifests({
      admissionPolicy: false,
      createNamespace: false,
      namespace: "default",
    });
    assert.deepEqual(
      normalize(parseStream(stdout)),
      normalize(expected.filter((o) => o.kind !== "CustomResourceDefinition") as Obj[]),
    );
  });

  test("kubectl kustomize renders the install manifests (base, and base + monitoring)", async () => {
    const base = parseStream((await run("kubectl", ["kustomize", "charts/kustomize/base"])).stdout);
    assert.deepEqual(normalize(base), normalize(installManifests() as Obj[]));
    const monitoring = parseStream(
      (await run("kubectl", ["kustomize", "charts/kustomize/components/monitoring"])).stdout,
    );
    const all = installManifests({ serviceMonitor: true, prometheusRule: true, dashboard: true }) as Obj[];
    assert.deepEqual(normalize([...base, ...monitoring]), normalize(all));
  });

  test("kubectl kustomize of an overlay with components/without-admission-policy renders admissionPolicy: false", async () => {
    // Kustomize wants relative paths; an overlay as a user would write it, outside the repository.
    const dir = mkdtempSync(path.join(os.tmpdir(), "capstan-overlay-"));
    try {
      const rel = (p: string) => path.relative(dir, path.join(REPO, "charts/kustomize", p));
      writeFileSync(
        path.join(dir, "kustomization.yaml"),
        JSON.stringify({
          apiVersion: "kustomize.config.k8s.io/v1beta1",
          kind: "Kustomization",
          resources: [rel("base")],
          components: [rel("components/without-admission-policy")],
        }),
      );
      const objs = parseStream((await run("kubectl", ["kustomize", dir])).stdout);
      assert.deepEqual(normalize(objs), normalize(installManifests({ admissionPolicy: false }) as Obj[]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("on a real API server", () => {
    let cp: ControlPlane;
    before(async () => {
      cp = await startControlPlane();
      await applyInOrder(cp, monitoringCrds());
    });
    after(async () => {
      await cp?.stop();
    });

    test("helm template --include-crds with every value set passes a server-side dry run, then applies", async () => {
      for (const ns of ["capstan-helm", "team-a", "team-b"]) await kubectlOk(cp, ["create", "namespace", ns]);
      const set = SETTINGS[1].set.flatMap((x) => ["--set", x]);
      const { stdout } = await helm(
        "template",
        "capstan",
        CHART,
        "--namespace",
        "capstan-helm",
        "--include-crds",
        ...set,
      );
      const objs = parseStream(stdout);
      assert.ok(objs.some((o) => o.kind === "CustomResourceDefinition"));
      await applyInOrder(cp, objs);
      await kubectlOk(cp, [
        "rollout",
        "status",
        "deployment/capstan-operator",
        "-n",
        "capstan-helm",
        "--timeout=90s",
      ]);
    });

    test("the kustomize base and the monitoring component apply with kubectl apply -k", async () => {
      const dir = path.join(REPO, "charts/kustomize");
      await kubectlOk(cp, ["apply", "--server-side", "--force-conflicts", "-k", path.join(dir, "base")]);
      await kubectlOk(cp, [
        "apply",
        "--server-side",
        "--dry-run=server",
        "-k",
        path.join(dir, "components/monitoring"),
      ]);
      await kubectlOk(cp, ["apply", "--server-side", "-k", path.join(dir, "components/monitoring")]);
      await kubectlOk(cp, [
        "rollout",
        "status",
        "deployment/capstan-operator",
        "-n",
        "capstan-system",
        "--timeout=90s",
      ]);
    });
  });
});
