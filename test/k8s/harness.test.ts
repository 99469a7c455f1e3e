// Proves the test control plane (test/k8s/harness.ts) behaves like a real cluster for what the
// operator relies on: CRDs with CEL validation, controllers (Deployment/StatefulSet → Pods,
// garbage collection), scheduling + kwok (Pods Running/Ready), server-side dry run, and RBAC
// for a ServiceAccount-scoped kubeconfig. Skipped when test/setup/k8s.sh has not built the
// binaries, except on CI, where that is a failure.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { K8S_VERSION, k8sUnavailable, startControlPlane, waitFor } from "./harness.ts";
import type { ControlPlane } from "./harness.ts";

const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

describe("kubernetes test control plane", { skip: unavailable ?? false, timeout: 300_000 }, () => {
  let cp: ControlPlane;

  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  /** kubectl that must succeed; returns stdout. */
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await cp.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed:\n${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await ok([...args, "-o", "json"]));

  test("the API server answers with the pinned version", async () => {
    const version = JSON.parse(await ok(["version", "-o", "json"]));
    assert.equal(version.serverVersion.gitVersion, `v${K8S_VERSION}`);
    assert.equal(version.clientVersion.gitVersion, `v${K8S_VERSION}`);
    assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await ok(["get", "--raw", "/readyz"])).trim(), "ok");
    const nodes = await json(["get", "nodes"]);
    assert.deepEqual(
      nodes.items.map((n: { metadata: { name: string } }) => n.metadata.name),
      cp.nodes,
    );
  });

  test("a CRD with a CEL rule refuses invalid objects with its message", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.test.capstan.dev" },
      spec: {
        group: "test.capstan.dev",
        names: { kind: "Widget", plural: "widgets", singular: "widget", shortNames: ["wd"] },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    required: ["size"],
                    properties: { size: { type: "integer", minimum: 1 }, name: { type: "string" } },
                    "x-kubernetes-validations": [
                      { rule: "self.size <= 10", message: "size must be at most 10" },
                      {
                        rule: "!has(oldSelf.name) || self.name == oldSelf.name",
                        message: "name is immutable",
                      },
                    ],
                  },
                },
              },
            },
          },
        ],
      },
    };
    await ok(["apply", "-f", "-"], JSON.stringify(crd));
    await ok(["wait", "--for=condition=Established", "crd/widgets.test.capstan.dev", "--timeout=60s"]);

    const widget = (name: string, size: number, label = "a") => ({
      apiVersion: "test.capstan.dev/v1",
      kind: "Widget",
      metadata: { name, namespace: "default" },
      spec: { size, name: label },
    });
    // The discovery cache may lag the Established condition for a moment.
    await waitFor("the Widget kind to be served", async () => {
      const r = await cp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(widget("small", 3)) });
      return r.code === 0;
    });
    const big = await cp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(widget("big", 11)) });
    assert.notEqual(big.code, 0);
    assert.match(big.stderr, /size must be at most 10/);
    const renamed = await cp.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify(widget("small", 3, "b")),
    });
    assert.notEqual(renamed.code, 0);
    assert.match(renamed.stderr, /name is immutable/);
    assert.equal((await json(["get", "wd", "small"])).spec.size, 3);
  });

  test("Deployment and StatefulSet replicas become Running and Ready Pods on the fake node", async () => {
    const labels = (app: string) => ({ selector: { matchLabels: { app } }, metadata: { labels: { app } } });
    const podSpec = { containers: [{ name: "main", image: "example.invalid/none:1" }] };
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 2,
        selector: labels("web").selector,
        template: { metadata: labels("web").metadata, spec: podSpec },
      },
    };
    const statefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: {
        replicas: 2,
        serviceName: "db",
        selector: labels("db").selector,
        template: { metadata: labels("db").metadata, spec: podSpec },
      },
    };
    await ok(
      ["apply", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: [deployment, statefulSet] }),
    );
    for (const [kind, name] of [
      ["deployment", "web"],
      ["statefulset", "db"],
    ]) {
      await waitFor(
        `${kind}/${name} to have 2 ready replicas`,
        async () => (await json(["get", kind, name])).status?.readyReplicas === 2,
        { timeoutMs: 90_000 },
      );
    }
    const pods = await json(["get", "pods", "-l", "app in (web,db)"]);
    assert.equal(pods.items.length, 4);
    for (const pod of pods.items) {
      assert.equal(pod.status.phase, "Running", pod.metadata.name);
      assert.equal(pod.spec.nodeName, cp.nodes[0], pod.metadata.name);
      const ready = pod.status.conditions.find((c: { type: string }) => c.type === "Ready");
      assert.equal(ready?.status, "True", pod.metadata.name);
    }
    assert.deepEqual(
      pods.items
        .filter((p: { metadata: { labels: { app: string } } }) => p.metadata.labels.app === "db")
        .map((p: { metadata: { name: string } }) => p.metadata.name)
        .sort(),
      ["db-0", "db-1"],
    );
  });

  test("deleting an owner garbage-collects what it owns", async () => {
    await ok(["create", "configmap", "owner", "--from-literal=k=v"]);
    const owner = await json(["get", "configmap", "owner"]);
    const owned = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "owned",
        namespace: "default",
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid }],
      },
      data: { k: "v" },
    };
    await ok(["apply", "-f", "-"], JSON.stringify(owned));
    await ok(["delete", "configmap", "owner", "--wait=true"]);
    await waitFor(
      "configmap/owned to be garbage-collected",
      async () => (await cp.kubectl(["get", "configmap", "owned"])).stderr.includes("NotFound"),
      { timeoutMs: 60_000 },
    );
  });

  test("server-side dry run validates without persisting", async () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dry", namespace: "default" } };
    const out = await ok(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(cm));
    assert.match(out, /configmap\/dry (created|serverside-applied) \(server dry run\)/);
    const get = await cp.kubectl(["get", "configmap", "dry"]);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /NotFound/);
    const invalid = await cp.kubectl(["apply", "--dry-run=server", "-f", "-"], {
      input: JSON.stringify({ ...cm, metadata: { ...cm.metadata, name: "Not_A_Name" } }),
    });
    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stderr, /Invalid value/);
  });

  test("a ServiceAccount kubeconfig gets only what its Role grants", async () => {
    const kubeconfig = await cp.kubeconfigFor("reader", "scoped");
    const rbac = [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "configmap-reader", namespace: "scoped" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "reader", namespace: "scoped" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "scoped" }],
      },
    ];
    await ok(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: rbac }));
    await ok(["create", "configmap", "visible", "-n", "scoped", "--from-literal=k=v"]);

    const as = (args: string[]) => cp.kubectl(args, { kubeconfig });
    const whoami = await as(["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    assert.equal(whoami.stdout, "system:serviceaccount:scoped:reader", whoami.stderr);
    const list = await as(["get", "configmaps", "-o", "name"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /configmap\/visible/);
    for (const args of [
      ["create", "configmap", "nope"],
      ["get", "secrets"],
      ["get", "configmaps", "-n", "default"],
      ["get", "nodes"],
    ]) {
      const r = await as(args);
      assert.notEqual(r.code, 0, `kubectl ${args.join(" ")} should be denied`);
      assert.match(r.stderr, /Forbidden|forbidden/, args.join(" "));
    }
  });
});
