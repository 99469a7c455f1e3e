// The Argo CD health checks in examples/gitops/argocd/argocd-cm-health.yaml, run by a real Lua
// (Debian lua5.4; Argo CD runs the same scripts in gopher-lua, Lua 5.1 syntax, which these
// scripts keep to). Each case builds `obj` as Argo CD does (the resource as a Lua table),
// runs the script as a function and reads back hs.status and hs.message.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";

const REPO = path.resolve(import.meta.dirname, "../..");
const lua = spawnSync("lua5.4", ["-v"]).status === 0 ? "lua5.4" : undefined;
if (!lua && process.env.CI) throw new Error("lua5.4 is not installed (Debian lua5.4; .ci/run installs it)");

const cm = parse(readFileSync(path.join(REPO, "examples/gitops/argocd/argocd-cm-health.yaml"), "utf8")) as {
  data: Record<string, string>;
};

/** A JSON value as a Lua table constructor (objects keyed by ["name"], arrays 1-based). */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(", ")}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `[${JSON.stringify(k)}] = ${toLua(x)}`)
    .join(", ")}}`;
}

function health(kind: string, obj: unknown): { status: string; message: string } {
  const script = cm.data[`resource.customizations.health.kafka.capstan.dev_${kind}`];
  assert.ok(script, `no health check for ${kind}`);
  const program = `local obj = ${toLua(obj)}\nlocal hs = (function()\n${script}\nend)()\nio.write(hs.status, "\\n", hs.message)`;
  const r = spawnSync(lua!, ["-"], { input: program, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const [status, ...message] = r.stdout.split("\n");
  return { status, message: message.join("\n") };
}

const cond = (type: string, status: string, reason = "Reason", message = "details") => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: "2026-01-01T00:00:00Z",
});

describe(
  "Argo CD health checks for KafkaCluster and KafkaTopic",
  { skip: lua ? false : "lua5.4 is not installed" },
  () => {
    for (const kind of ["KafkaCluster", "KafkaTopic"]) {
      test(`${kind}: Progressing, Healthy and Degraded from the conditions`, () => {
        const meta = { name: "x", namespace: "ns", generation: 3 };
        assert.equal(health(kind, { metadata: meta }).status, "Progressing");
        const stale = health(kind, {
          metadata: meta,
          status: { observedGeneration: 2, conditions: [cond("Ready", "True")] },
        });
        assert.deepEqual(stale, {
          status: "Progressing",
          message: "Waiting for the Capstan operator to observe generation 3",
        });
        assert.deepEqual(
          health(kind, {
            metadata: meta,
            status: { observedGeneration: 3, conditions: [cond("Ready", "True", "Ready", "all good")] },
          }),
          { status: "Healthy", message: "all good" },
        );
        assert.deepEqual(
          health(kind, {
            metadata: meta,
            status: {
              observedGeneration: 3,
              conditions: [
                cond("Ready", "False", "PolicyViolation", "name breaks the policy"),
                cond("Stalled", "True", "PolicyViolation", "name breaks the policy"),
              ],
            },
          }),
          { status: "Degraded", message: "PolicyViolation: name breaks the policy" },
        );
        assert.deepEqual(
          health(kind, {
            metadata: meta,
            status: {
              observedGeneration: 3,
              conditions: [cond("Ready", "False", "Creating", "waiting for brokers")],
            },
          }),
          { status: "Progressing", message: "Creating: waiting for brokers" },
        );
      });
    }
  },
);
