// The committed outputs of `npm run synth`: the Helm chart (charts/capstan/) and the kustomize
// base (charts/kustomize/), by repository-relative path. dist/install.yaml is not among them:
// it is built on demand (and by the tests) and gitignored.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { helmChartFiles } from "./helm.ts";
import { kustomizeFiles } from "./kustomize.ts";

export const REPO = path.resolve(import.meta.dirname, "..");
const ROOTS = { "charts/capstan": helmChartFiles, "charts/kustomize": kustomizeFiles } as const;

/** Generated file contents by repository-relative path. */
export function generatedFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [root, make] of Object.entries(ROOTS)) {
    for (const [f, content] of Object.entries(make())) out[`${root}/${f}`] = content;
  }
  return out;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** Paths that differ from what synth would write: changed, missing, or no longer generated. */
export function outOfDate(files = generatedFiles()): string[] {
  const problems: string[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(REPO, rel);
    if (!existsSync(abs)) problems.push(`${rel} (missing)`);
    else if (readFileSync(abs, "utf8") !== content) problems.push(`${rel} (differs)`);
  }
  for (const root of Object.keys(ROOTS)) {
    for (const abs of walk(path.join(REPO, root))) {
      const rel = path.relative(REPO, abs);
      if (!(rel in files)) problems.push(`${rel} (not generated)`);
    }
  }
  return problems;
}
