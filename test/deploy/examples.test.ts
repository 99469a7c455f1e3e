// examples/: every KafkaTopic meets its KafkaCluster's topic policy (the same check the operator
// and the brokers run), and every manifest, the GitOps ones included, is accepted by the real
// API server of the test control plane (server-side dry run, then for real) with the CRDs from
// crds/. Argo CD and Flux kinds get schema-less CRDs: the API server checks their metadata and
// the test checks the repository paths they point at exist. Skipped when test/setup/k8s.sh has
// not built the binaries, except on CI, where that is a failure.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { crds } from "../../charts/install.ts";
import type { KafkaCluster, KafkaTopic } from "../../operator/api/types.ts";
import { checkTopic, describeViolations } from "../../policy/topic-policy.ts";
import { k8sUnavailable, startControlPlane } from "../k8s/harness.ts";
import type { ControlPlane } from "../k8s/harness.ts";
import type { Obj } from "./fixtures.ts";
import { applyInOrder, kubectlOk, parseStream, schemalessCrd, toYaml } from "./fixtures.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

/** The Capstan examples, one directory (namespace) each. */
const KAFKA_DIRS = ["examples/local", "examples/dev", "examples/production", "examples/naming"];
const GITOPS_DIRS = ["examples/gitops/argocd", "examples/gitops/flux"];

function load(dir: string): Obj[] {
  return readdirSync(path.join(REPO, dir))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) => parseStream(readFileSync(path.join(REPO, dir, f), "utf8")));
}

const CLUSTER_LABEL = "kafka.capstan.dev/cluster";

describe("examples without an API server", () => {
  for (const dir of KAFKA_DIRS) {
    test(`${dir}: every KafkaTopic names a KafkaCluster of the directory and meets its topic policy`, () => {
      const objs = load(dir);
      const clusters = objs.filter((o) => o.kind === "KafkaCluster") as unknown as KafkaCluster[];
      const topics = objs.filter((o) => o.kind === "KafkaTopic") as unknown as KafkaTopic[];
      assert.ok(clusters.length > 0 && topics.length > 0);
      for (const t of topics) {
        const kc = clusters.find((c) => c.metadata.name === t.metadata.labels?.[CLUSTER_LABEL]);
        assert.ok(kc, `${t.metadata.name}: no KafkaCluster ${t.metadata.labels?.[CLUSTER_LABEL]} in ${dir}`);
        const name = t.spec.topicName ?? t.metadata.name!;
        const violations = checkTopic(
          kc.spec.topicPolicy,
          {
            name,
            partitions: t.spec.partitions,
            replicationFactor: t.spec.replicationFactor,
            configs: new Map(Object.entries(t.spec.config ?? {})),
          },
          { brokerCount: kc.spec.replicas, defaultConfig: (k) => kc.spec.config?.[k] },
        );
        assert.deepEqual(violations, [], `${dir} ${name}: ${describeViolations(violations)}`);
      }
    });
  }

  test("capstan lint finds nothing to report in any of them", async () => {
    for (const dir of KAFKA_DIRS) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [path.join(REPO, "bin/capstan.ts"), "lint", dir],
        {
          cwd: REPO,
        },
      );
      assert.match(stdout, /^0 errors, 0 other findings$/m, `${dir}:\n${stdout}`);
    }
  });

  test("examples/naming has the four conventions, each with a template of four segments", () => {
    const templates = load("examples/naming")
      .filter((o) => o.kind === "KafkaCluster")
      .map((o) => (o as unknown as KafkaCluster).spec.topicPolicy?.naming?.template);
    assert.deepEqual(templates, [
      "{env}.{team}.{app}.{type}",
      "{project}.{service}.{env}.{event}",
      "{env}.{service}.{ticket}.{type}",
      "{cluster}.{env}.{service}.{type}",
    ]);
  });

  test("the GitOps examples point at paths that exist in this repository", () => {
    const paths: string[] = [];
    for (const o of load("examples/gitops/argocd")) {
      if (o.kind === "Application") paths.push((o.spec as { source: { path: string } }).source.path);
    }
    for (const o of load("examples/gitops/flux")) {
      if (o.kind === "Kustomization") paths.push((o.spec as { path: string }).path);
    }
    assert.deepEqual(paths.sort(), [
      "./charts/kustomize/base",
      "./examples/production",
      "charts/capstan",
      "examples/production",
    ]);
    for (const p of paths) assert.ok(existsSync(path.join(REPO, p)), `${p} exists`);
  });

  test("the Argo CD health checks cover both kinds and read Ready, Stalled and observedGeneration", () => {
    const cm = load("examples/gitops/argocd").find((o) => o.kind === "ConfigMap") as Obj & {
      data: Record<string, string>;
    };
    const kinds = crds().map((c) => {
      const spec = c.spec as { group: string; names: { kind: string } };
      return `resource.customizations.health.${spec.group}_${spec.names.kind}`;
    });
    assert.deepEqual(Object.keys(cm.data).sort(), kinds.sort());
    for (const lua of Object.values(cm.data)) {
      for (const needle of ['"Ready"', '"Stalled"', "observedGeneration", '"Healthy"', '"Degraded"']) {
        assert.ok(lua.includes(needle), `${needle} in the health check`);
      }
      // Balanced blocks: each if/for closes with an end (a syntax error makes Argo CD report Unknown).
      const opened = (lua.match(/\b(if|for)\b[^\n]*\b(then|do)\b/g) ?? []).length;
      const closed = (lua.match(/^\s*end\b|\bend$/gm) ?? []).length;
      assert.equal(closed, opened);
    }
  });
});

describe("examples on a real API server", { skip: unavailable ?? false, timeout: 300_000 }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
    await applyInOrder(cp, crds());
  });
  after(async () => {
    await cp?.stop();
  });

  for (const dir of KAFKA_DIRS) {
    test(`${dir} passes a server-side dry run, then applies`, async () => {
      const ns = `ex-${path.basename(dir)}`;
      await kubectlOk(cp, ["create", "namespace", ns]);
      const objs = load(dir);
      for (const o of objs) assert.equal(o.metadata.namespace, undefined, `${o.metadata.name}: no namespace`);
      const yaml = toYaml(objs);
      await kubectlOk(cp, ["apply", "--server-side", "--dry-run=server", "-n", ns, "-f", "-"], yaml);
      await kubectlOk(cp, ["apply", "--server-side", "-n", ns, "-f", "-"], yaml);
      const got = (await kubectlOk(cp, ["get", "kafkaclusters,kafkatopics", "-n", ns, "-o", "name"])).trim();
      assert.equal(got.split("\n").length, objs.length);
    });
  }

  test("the GitOps examples pass a server-side dry run, then apply", async () => {
    await applyInOrder(cp, [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "argocd" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "flux-system" } },
      schemalessCrd("argoproj.io", "Application", "applications", "v1alpha1"),
      schemalessCrd("source.toolkit.fluxcd.io", "GitRepository", "gitrepositories"),
      schemalessCrd("kustomize.toolkit.fluxcd.io", "Kustomization", "kustomizations"),
    ]);
    for (const dir of GITOPS_DIRS) await applyInOrder(cp, load(dir));
    const cm = JSON.parse(
      await kubectlOk(cp, ["get", "configmap", "argocd-cm", "-n", "argocd", "-o", "json"]),
    );
    assert.equal(Object.keys(cm.data).length, 2);
  });
});
