// kind-config.yaml and the kind scripts (tools/kind/, npm run kind:up / kind:e2e / kind:down)
// cannot run without a Docker engine, so this checks what they rely on: the cluster shape,
// that every node port the dev example's EXTERNAL listener gets (bootstrap and brokers, as
// the operator renders them) is published on the host address it advertises, that the scripts
// parse, name files that exist, build the images the install manifests run, and wait for and
// use what examples/dev defines (its topics, and a topic its policy refuses at admission);
// and that a missing tool stops them before they do anything.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { VERSION, installManifests } from "../../charts/install.ts";
import type { KafkaCluster, KafkaTopic } from "../../operator/api/types.ts";
import { configFiles, desiredObjects } from "../../operator/cluster/desired.ts";
import { checkTopic } from "../../policy/topic-policy.ts";
import { parseStream } from "./fixtures.ts";

const REPO = path.resolve(import.meta.dirname, "../..");
const read = (f: string) => readFileSync(path.join(REPO, f), "utf8");
const sh = promisify(execFile);

interface PortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress?: string;
  protocol?: string;
}
const config = parseYaml(read("kind-config.yaml")) as {
  kind: string;
  apiVersion: string;
  name: string;
  nodes: Array<{ role: string; extraPortMappings?: PortMapping[] }>;
};
const devObjects = ["examples/dev/kafka-cluster.yaml", "examples/dev/topics.yaml"].flatMap((f) =>
  parseStream(read(f)),
);
const dev = devObjects.find((o) => o.kind === "KafkaCluster") as unknown as KafkaCluster;
const devTopics = devObjects.filter((o) => o.kind === "KafkaTopic") as unknown as KafkaTopic[];
const SCRIPTS = ["tools/kind/common.sh", "tools/kind/up.sh", "tools/kind/e2e.sh", "tools/kind/down.sh"];
const scriptText = (f: string) => read(f).replace(/^\s*#.*$/gm, "");
/** A shell variable's literal value in a script: NAME=value. */
const shellVar = (f: string, name: string) => {
  const m = new RegExp(`^${name}=(\\S+)$`, "m").exec(read(f));
  assert.ok(m, `${name}= in ${f}`);
  return m[1];
};

describe("kind-config.yaml", () => {
  test("is a kind v1alpha4 Cluster with one control plane and two workers", () => {
    assert.equal(config.kind, "Cluster");
    assert.equal(config.apiVersion, "kind.x-k8s.io/v1alpha4");
    assert.deepEqual(
      config.nodes.map((n) => n.role),
      ["control-plane", "worker", "worker"],
    );
    assert.equal(config.name, "capstan");
  });

  test("publishes every node port of the dev example's EXTERNAL listener on the address it advertises", () => {
    const mappings = config.nodes.flatMap((n) => n.extraPortMappings ?? []);
    for (const m of mappings) {
      assert.equal(m.containerPort, m.hostPort, "node ports keep their number on the host");
      assert.equal(m.protocol, "TCP");
      assert.ok(m.containerPort >= 30000 && m.containerPort <= 32767, "in the NodePort range");
    }
    const external = (dev.spec.listeners ?? []).find((l) => l.type === "nodeport");
    assert.ok(external, "examples/dev has a nodeport listener");
    const objs = desiredObjects(
      { ...dev, metadata: { ...dev.metadata, namespace: "kafka" } },
      VERSION,
    ) as Array<{
      kind: string;
      spec?: { type?: string; ports?: Array<{ nodePort?: number }> };
    }>;
    const nodePorts = objs
      .filter((o) => o.kind === "Service" && o.spec?.type === "NodePort")
      .flatMap((o) => (o.spec?.ports ?? []).map((p) => p.nodePort));
    assert.equal(nodePorts.length, dev.spec.replicas + 1, "a bootstrap node port and one per broker");
    for (const port of nodePorts) {
      const m = mappings.find((x) => x.containerPort === port);
      assert.ok(m, `node port ${port} is published`);
      assert.equal(
        m.listenAddress,
        external.advertisedHost,
        `node port ${port} listens where it is advertised`,
      );
    }
    // What each broker advertises is a published host address and port.
    const files = configFiles({ ...dev, metadata: { ...dev.metadata, namespace: "kafka" } });
    for (let id = 0; id < dev.spec.replicas; id++) {
      const advertised = /^advertised\.listeners=(.*)$/m.exec(files[`broker-${id}.properties`])?.[1] ?? "";
      const m = new RegExp(`${external.name}://([^:,\\s]+):(\\d+)`).exec(advertised);
      assert.ok(m, `broker ${id} advertises ${external.name}`);
      assert.ok(
        mappings.some((x) => x.listenAddress === m[1] && x.hostPort === Number(m[2])),
        `${m[1]}:${m[2]} is published`,
      );
    }
    // Room for the production example's broker count on the same ports.
    assert.ok(mappings.length >= 4);
  });
});

describe("tools/kind scripts", () => {
  test("npm run kind:up, kind:e2e and kind:down run them", () => {
    const { scripts } = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    assert.equal(scripts["kind:up"], "bash tools/kind/up.sh");
    assert.equal(scripts["kind:e2e"], "bash tools/kind/e2e.sh");
    assert.equal(scripts["kind:down"], "bash tools/kind/down.sh");
  });

  test("parse (bash -n), are strict, and every repository path they name exists", async () => {
    for (const f of SCRIPTS) {
      await sh("bash", ["-n", path.join(REPO, f)]);
      const text = scriptText(f);
      if (f !== "tools/kind/common.sh")
        assert.match(text, /^source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/common\.sh"$/m);
      const paths =
        text.match(/(?<![\w$/.-])(?:[a-z][\w-]*\/)+[\w.-]*[\w]|kind-config\.yaml|package\.json/g) ?? [];
      for (const p of paths.filter(
        (x) => !x.startsWith("dist/") && !/^(capstan|crd|deployment|kafkacluster)\//.test(x),
      )) {
        assert.ok(existsSync(path.join(REPO, p)), `${f} names ${p}, which does not exist`);
      }
    }
    assert.match(read("tools/kind/common.sh"), /^set -euo pipefail$/m);
  });

  test("build and load the images the install manifests and the operator run", () => {
    const up = scriptText("tools/kind/up.sh");
    assert.match(up, /docker build -f broker\/Dockerfile -t "\$BROKER_IMAGE" \./);
    assert.match(up, /docker build -f operator\/Dockerfile -t "\$OPERATOR_IMAGE" \./);
    assert.match(up, /kind load docker-image --name "\$CLUSTER" "\$BROKER_IMAGE" "\$OPERATOR_IMAGE"/);
    assert.match(up, /kind create cluster --name "\$CLUSTER" --config kind-config\.yaml/);
    assert.match(up, /apply --server-side --force-conflicts -f dist\/install\.yaml/);
    // With the default tag, the images are the ones dist/install.yaml runs.
    const common = read("tools/kind/common.sh");
    assert.equal(shellVar("tools/kind/common.sh", "BROKER_IMAGE"), '"capstan/broker:$TAG"');
    assert.equal(shellVar("tools/kind/common.sh", "OPERATOR_IMAGE"), '"capstan/operator:$TAG"');
    assert.match(common, /^TAG=\$\{CAPSTAN_IMAGE_TAG:-\$VERSION\}$/m);
    assert.match(common, /^CLUSTER=\$\{CAPSTAN_KIND_CLUSTER:-capstan\}$/m);
    const dep = installManifests().find((o) => o.kind === "Deployment") as unknown as {
      spec: { template: { spec: { containers: Array<{ image: string; args: string[] }> } } };
    };
    const c = dep.spec.template.spec.containers[0];
    assert.equal(c.image, `capstan/operator:${VERSION}`);
    assert.ok(c.args.includes("--broker-image=capstan/broker"));
    assert.ok(c.args.includes(`--broker-version=${VERSION}`));
    assert.match(up, /rollout status deployment\/capstan-operator/);
  });

  test("kind:e2e applies examples/dev and uses its bootstrap node port and a topic it defines", () => {
    const e2e = read("tools/kind/e2e.sh");
    assert.equal(shellVar("tools/kind/e2e.sh", "EXAMPLES"), "examples/dev");
    const external = (dev.spec.listeners ?? []).find((l) => l.type === "nodeport")!;
    assert.equal(
      shellVar("tools/kind/e2e.sh", "BOOTSTRAP"),
      `${external.advertisedHost}:${external.nodePort}`,
    );
    const topic = shellVar("tools/kind/e2e.sh", "TOPIC");
    assert.ok(
      devTopics.some((t) => t.spec.topicName === topic),
      `${topic} is a KafkaTopic of examples/dev`,
    );
    assert.match(e2e, new RegExp(`wait kafkacluster/${dev.metadata.name} --for=condition=Ready`));
    assert.match(e2e, /wait kafkatopic --all --for=condition=Ready/);
    // The topic it expects the admission policy to refuse breaks the dev policy's naming, and the
    // policy whose name it greps for is installed by default.
    const bad = JSON.parse(/^BAD_TOPIC='(.*)'$/m.exec(e2e)?.[1] ?? "null") as KafkaTopic;
    assert.equal(bad.metadata.labels?.["kafka.capstan.dev/cluster"], dev.metadata.name);
    assert.equal(dev.spec.topicPolicy?.mode, "Enforce");
    const violations = checkTopic(
      dev.spec.topicPolicy,
      { name: bad.spec.topicName!, partitions: bad.spec.partitions, configs: new Map() },
      { brokerCount: dev.spec.replicas! },
    );
    assert.deepEqual(
      violations.map((v) => v.rule),
      ["naming"],
    );
    assert.match(e2e, /grep -q "capstan-topic-policy-enforce\.\*denied request: \\\[naming\\\]"/);
    assert.ok(
      installManifests().some(
        (o) =>
          o.kind === "ValidatingAdmissionPolicyBinding" && o.metadata.name === "capstan-topic-policy-enforce",
      ),
    );
    assert.match(e2e, /kcat -b "\$BOOTSTRAP" -P -t "\$TOPIC"/);
    assert.match(e2e, /kcat -b "\$BOOTSTRAP" -C -t "\$TOPIC" -o beginning -e/);
  });

  test("docs/install.md's five kind commands use the scripts, examples/dev and its bootstrap node port", () => {
    const doc = read("docs/install.md");
    const section = doc.slice(doc.indexOf("## On kind, in five commands"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const commands = block
      .split("\n")
      .map((l) => l.replace(/\s+#.*$/, "").trim())
      .filter(Boolean);
    assert.equal(commands.length, 5, block);
    const external = (dev.spec.listeners ?? []).find((l) => l.type === "nodeport")!;
    assert.deepEqual(commands, [
      "npm run kind:up",
      "kubectl create namespace kafka",
      "kubectl apply --server-side -n kafka -f examples/dev/",
      `kubectl wait -n kafka kafkacluster/${dev.metadata.name} --for=condition=Ready --timeout=5m`,
      `kcat -b ${external.advertisedHost}:${external.nodePort} -L`,
    ]);
  });

  test("stop with a clear message, before doing anything, when a tool is missing", async () => {
    // A PATH with only what common.sh itself uses: no docker, kind, kubectl or kcat.
    const bin = mkdtempSync(path.join(os.tmpdir(), "capstan-kind-path-"));
    try {
      for (const tool of ["sed", "dirname"]) {
        const { stdout } = await sh("bash", ["-c", `command -v ${tool}`]);
        symlinkSync(stdout.trim(), path.join(bin, tool));
      }
      const env = { PATH: bin, HOME: os.tmpdir() };
      for (const [script, missing] of [
        ["up.sh", "docker"],
        ["e2e.sh", "kcat"],
        ["down.sh", "kind"],
      ]) {
        const r = await sh("/bin/bash", [path.join(REPO, "tools/kind", script)], { env }).then(
          () => assert.fail(`${script} succeeded without ${missing}`),
          (err: { code: number; stderr: string }) => err,
        );
        assert.equal(r.code, 1, script);
        assert.match(r.stderr, new RegExp(`^error: ${missing} is needed`, "m"), script);
      }
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
