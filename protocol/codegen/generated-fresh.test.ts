// The committed protocol/generated must be exactly what the generator makes from
// the definitions: a stale file fails here with the command that fixes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generate } from "./generate.ts";
import { staleFiles } from "./main.ts";
import { specRoot } from "./spec.ts";

test("protocol/generated is up to date with the definitions (npm run codegen)", () => {
  assert.deepEqual(staleFiles(generate(specRoot())), []);
});
