// Every shell script users or CI run passes shellcheck (Debian shellcheck): the kind scripts
// cannot run on a machine without Docker, so static analysis is what guards them here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const REPO = path.resolve(import.meta.dirname, "../..");
const available = spawnSync("shellcheck", ["--version"]).status === 0;
if (!available && process.env.CI)
  throw new Error("shellcheck is not installed (Debian shellcheck; .ci/run installs it)");

const scripts = [
  ".ci/run",
  ...["tools/kind", "test/setup"].flatMap((dir) =>
    readdirSync(path.join(REPO, dir))
      .filter((f) => f.endsWith(".sh"))
      .map((f) => path.join(dir, f)),
  ),
];

test("shell scripts pass shellcheck", { skip: available ? false : "shellcheck is not installed" }, () => {
  assert.ok(scripts.length > 3, `found only ${scripts.join(", ")}`);
  const r = spawnSync("shellcheck", ["-x", "-S", "warning", ...scripts], { cwd: REPO, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
