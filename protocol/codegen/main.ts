// `npm run codegen`: regenerates protocol/generated from the Kafka definitions.
// `npm run codegen -- --check` fails (exit 1) when the committed files are stale.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { generate } from "./generate.ts";
import { specRoot } from "./spec.ts";

export const GENERATED_DIR = new URL("../generated", import.meta.url).pathname;

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** The generated files that differ from (or are missing in, or extra in) the committed tree. */
export function staleFiles(files: Map<string, string>, dir = GENERATED_DIR): string[] {
  const stale: string[] = [];
  for (const [path, content] of files) {
    const full = join(dir, path);
    if (!existsSync(full) || readFileSync(full, "utf8") !== content) stale.push(path);
  }
  for (const path of listFiles(dir)) if (!files.has(path)) stale.push(path);
  return stale.sort();
}

function main(args: string[]): number {
  const files = generate(specRoot());
  if (args.includes("--check")) {
    const stale = staleFiles(files);
    if (stale.length > 0) {
      console.error(`protocol/generated is stale (run npm run codegen): ${stale.join(", ")}`);
      return 1;
    }
    console.log(`protocol/generated is up to date (${files.size} files)`);
    return 0;
  }
  rmSync(GENERATED_DIR, { recursive: true, force: true });
  for (const [path, content] of files) {
    const full = join(GENERATED_DIR, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  console.log(`wrote ${files.size} files to ${relative(process.cwd(), GENERATED_DIR) || "."}`);
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
