// `npm run crds`: writes crds/*.yaml from the resource types; `-- --check` only checks.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { buildCrds } from "./crds.ts";

export const CRD_DIR = new URL("../../crds", import.meta.url).pathname;

export function staleCrds(files = buildCrds()): string[] {
  return [...files]
    .filter(([f, text]) => !existsSync(join(CRD_DIR, f)) || readFileSync(join(CRD_DIR, f), "utf8") !== text)
    .map(([f]) => f);
}

if (import.meta.main) {
  const files = buildCrds();
  if (process.argv.includes("--check")) {
    const stale = staleCrds(files);
    if (stale.length > 0) {
      console.error(`crds/ is stale (run npm run crds): ${stale.join(", ")}`);
      process.exitCode = 1;
    }
  } else {
    mkdirSync(CRD_DIR, { recursive: true });
    for (const [f, text] of files) writeFileSync(join(CRD_DIR, f), text);
    console.log(`wrote ${[...files.keys()].map((f) => `crds/${f}`).join(", ")}`);
  }
}
