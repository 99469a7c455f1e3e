// What can be checked of broker/Dockerfile and operator/Dockerfile without a Docker engine:
// the base image, the stages, production dependencies only, the non-root user the
// StatefulSet and Deployment run as, tini as PID 1 and the entrypoint, that every COPY
// source exists and is not excluded by .dockerignore, and that the runtime import graph of
// bin/capstan.ts stays inside the copied directories and needs only production dependencies.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { describe, test } from "node:test";
import { buildProgram } from "../../cli/main.ts";
import { CAPSTAN_UID, installManifests } from "../../charts/install.ts";
import { desiredObjects } from "../../operator/cluster/desired.ts";

const REPO = path.resolve(import.meta.dirname, "../..");

interface Instruction {
  cmd: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into stages (continuation lines joined, comments dropped, ARG defaults substituted). */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, " ").split("\n");
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    assert.ok(m, `cannot parse Dockerfile line: ${line}`);
    const cmd = m[1].toUpperCase();
    const rest = m[2].trim();
    if (cmd === "ARG" && stages.length === 0) {
      const [k, v] = rest.split("=");
      args[k] = v ?? "";
      continue;
    }
    if (cmd === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(f, `bad FROM: ${rest}`);
      const from = f[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? "");
      stages.push({ from, name: f[2], instructions: [] });
      continue;
    }
    assert.ok(stages.length > 0, `${cmd} before FROM`);
    stages[stages.length - 1].instructions.push({ cmd, args: rest });
  }
  return { args, stages };
}

const get = (s: Stage, cmd: string) => s.instructions.filter((i) => i.cmd === cmd);

/** Relative files and bare package names reachable from entry through runtime (non-type) imports. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const builtins = new Set(builtinModules);
  const queue = [path.resolve(REPO, entry)];
  const re =
    /(?:^|[\n;])\s*(?:import|export)\s+(type\s+)?(?:[^;"']*?\s+from\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;
  while (queue.length) {
    const file = queue.pop() as string;
    const rel = path.relative(REPO, file);
    if (files.has(rel)) continue;
    files.add(rel);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(re)) {
      if (m[1]) continue; // import type / export type: erased
      const spec = m[2] ?? m[3];
      if (spec.startsWith(".")) queue.push(path.resolve(path.dirname(file), spec));
      else if (spec.startsWith("node:") || builtins.has(spec)) continue;
      else packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  }
  return { files, packages };
}

const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerignore = readFileSync(path.join(REPO, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

for (const image of ["broker", "operator"] as const) {
  describe(`${image}/Dockerfile`, () => {
    const { stages } = parseDockerfile(readFileSync(path.join(REPO, image, "Dockerfile"), "utf8"));
    const final = stages[stages.length - 1];
    const build = stages[0];

    test("is multi-stage on node:24-slim", () => {
      assert.ok(stages.length >= 2, "a build stage and a final stage");
      for (const s of stages) assert.equal(s.from, "node:24-slim");
      assert.equal(build.name, "build");
    });

    test("installs production dependencies only, in the build stage", () => {
      const runs = get(build, "RUN").map((i) => i.args);
      assert.ok(
        runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev\b/.test(r)),
        "npm ci --omit=dev",
      );
      assert.ok(!runs.some((r) => /\bnpm (install|i)\b/.test(r)), "no npm install");
      for (const s of stages.slice(1))
        assert.ok(!get(s, "RUN").some((i) => /\bnpm\b/.test(i.args)), "no npm in the final stage");
      assert.ok(
        get(final, "COPY").some((c) => /--from=build\b.*\s\/app\s+\/app$/.test(c.args)),
        "the final stage copies /app from the build stage",
      );
    });

    test(`runs as the non-root uid ${CAPSTAN_UID} (numeric, for runAsNonRoot)`, () => {
      const users = get(final, "USER").map((i) => i.args);
      assert.deepEqual(users.slice(-1), [`${CAPSTAN_UID}:${CAPSTAN_UID}`]);
      const sts = desiredObjects(sampleCluster(), "0.1.0").find((o) => o.kind === "StatefulSet") as {
        spec: { template: { spec: { securityContext: { runAsUser: number; runAsGroup: number } } } };
      };
      assert.equal(sts.spec.template.spec.securityContext.runAsUser, CAPSTAN_UID);
      assert.equal(sts.spec.template.spec.securityContext.runAsGroup, CAPSTAN_UID);
    });

    test("tini is PID 1 and runs node /app/bin/capstan.ts", () => {
      const [entry] = get(final, "ENTRYPOINT").map((i) => JSON.parse(i.args) as string[]);
      assert.deepEqual(entry, ["/usr/bin/tini", "--", "node", "/app/bin/capstan.ts"]);
      assert.ok(
        get(final, "COPY").some((c) =>
          /--from=build\s+\/usr\/bin\/tini-static\s+\/usr\/bin\/tini$/.test(c.args),
        ),
        "tini copied from the build stage",
      );
      assert.ok(
        get(build, "RUN").some((r) => /apt-get install .*\btini\b/.test(r.args)),
        "tini installed from Debian",
      );
      const env = get(final, "ENV")
        .map((i) => i.args)
        .join(" ");
      assert.match(env, /HOME=\/tmp/, "HOME on the /tmp emptyDir (read-only root filesystem)");
    });

    test("every COPY source exists and is not excluded by .dockerignore", () => {
      const sources = get(build, "COPY").flatMap((c) => {
        const parts = c.args.split(/\s+/).filter((p) => !p.startsWith("--"));
        return parts.slice(0, -1);
      });
      assert.ok(sources.length > 0);
      for (const src of sources) {
        assert.ok(existsSync(path.join(REPO, src)), `${src} exists`);
        const top = src.replace(/\/$/, "").split("/")[0];
        assert.ok(!dockerignore.includes(top), `${src} is not in .dockerignore`);
      }
    });

    test("the runtime import graph is copied and needs production dependencies only", () => {
      const copied = get(build, "COPY")
        .flatMap((c) =>
          c.args
            .split(/\s+/)
            .filter((p) => !p.startsWith("--"))
            .slice(0, -1),
        )
        .map((s) => s.replace(/\/$/, ""));
      const { files, packages } = importGraph("bin/capstan.ts");
      assert.ok(
        files.size > 50 && packages.has("commander") && packages.has("express"),
        "the graph was walked",
      );
      for (const f of files) {
        assert.ok(
          copied.some((c) => f === c || f.startsWith(`${c}/`)),
          `${f} is imported at runtime but not copied`,
        );
        assert.ok(!f.endsWith(".test.ts"), `${f}: a test file is imported at runtime (the image drops them)`);
        assert.ok(!f.startsWith("protocol/codegen/"), `${f}: the image drops protocol/codegen`);
      }
      for (const p of packages) {
        assert.ok(p in pkg.dependencies, `${p} is imported at runtime but is not a production dependency`);
      }
    });
  });
}

describe("entrypoint arguments", async () => {
  const program = await buildProgram();
  const optionsOf = (name: string) => {
    const cmd = program.commands.find((c) => c.name() === name);
    assert.ok(cmd, `capstan ${name} exists`);
    return cmd.options.map((o) => o.long);
  };

  test("the StatefulSet's broker args name the broker command and its options", () => {
    const sts = desiredObjects(sampleCluster(), "0.1.0").find((o) => o.kind === "StatefulSet") as {
      spec: { template: { spec: { containers: Array<{ args: string[]; command?: string[] }> } } };
    };
    const c = sts.spec.template.spec.containers[0];
    assert.equal(c.command, undefined, "the image's ENTRYPOINT runs capstan");
    assert.equal(c.args[0], "broker");
    const opts = optionsOf("broker");
    for (const a of c.args.slice(1).filter((a) => a.startsWith("--")))
      assert.ok(opts.includes(a.split("=")[0]), a);
  });

  test("the install Deployment's operator args are options of capstan operator", () => {
    const dep = installManifests({ watchNamespaces: ["a"] }).find(
      (o) => o.kind === "Deployment",
    ) as unknown as {
      spec: { template: { spec: { containers: Array<{ args: string[]; command?: string[] }> } } };
    };
    const c = dep.spec.template.spec.containers[0];
    assert.equal(c.command, undefined);
    assert.equal(c.args[0], "operator");
    const opts = optionsOf("operator");
    for (const a of c.args.slice(1)) assert.ok(opts.includes(a.split("=")[0]), a);
  });
});

function sampleCluster(): Parameters<typeof desiredObjects>[0] {
  return {
    apiVersion: "kafka.capstan.dev/v1alpha1",
    kind: "KafkaCluster",
    metadata: { name: "demo", namespace: "kafka" },
    spec: { replicas: 3, storage: { size: "1Gi" } },
  } as Parameters<typeof desiredObjects>[0];
}
