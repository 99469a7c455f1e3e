import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { buildCrds } from "./crds.ts";
import { staleCrds } from "./crds-main.ts";

const crds = buildCrds();

test("crds/ matches what the resource types generate (npm run crds)", () => {
  assert.deepEqual(staleCrds(crds), []);
});

/** Walks a schema and checks the structural-schema rules the API server enforces. */
function checkStructural(node: Record<string, unknown>, path: string): void {
  assert.ok(node.type !== undefined || node["x-kubernetes-int-or-string"], `${path} has a type`);
  assert.equal(node.$ref, undefined, `${path} has no $ref`);
  assert.notEqual(node.additionalProperties, false, `${path}: no additionalProperties: false`);
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
    checkStructural(v, `${path}.${k}`);
  }
  if (node.items) checkStructural(node.items as Record<string, unknown>, `${path}[]`);
  if (typeof node.additionalProperties === "object") {
    checkStructural(node.additionalProperties as Record<string, unknown>, `${path}{}`);
  }
  if (
    node.type === "string" &&
    (node.pattern || JSON.stringify(node["x-kubernetes-validations"] ?? "").includes("matches"))
  ) {
    assert.ok(node.maxLength !== undefined, `${path}: strings under a regex need maxLength (CEL cost)`);
  }
}

test("CRDs are structural, with the scale subresource, short names, category and printer columns", () => {
  for (const [file, text] of crds) {
    const crd = parse(text);
    const v = crd.spec.versions[0];
    checkStructural(v.schema.openAPIV3Schema.properties.spec, `${file}:spec`);
    checkStructural(v.schema.openAPIV3Schema.properties.status, `${file}:status`);
    assert.deepEqual(crd.spec.names.categories, ["kafka"]);
    assert.ok(v.subresources.status);
    assert.ok(v.additionalPrinterColumns.some((c: { name: string }) => c.name === "Ready"));
  }
  const kc = parse(crds.get("kafkaclusters.kafka.capstan.dev.yaml")!);
  assert.deepEqual(kc.spec.names.shortNames, ["kc"]);
  assert.equal(kc.spec.versions[0].subresources.scale.specReplicasPath, ".spec.replicas");
  const spec = kc.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  assert.equal(spec.properties.replicas.type, "integer");
  assert.equal(spec.properties.replicas.default, 3);
  assert.deepEqual(spec.properties.config.additionalProperties, { type: "string" });
  const kt = parse(crds.get("kafkatopics.kafka.capstan.dev.yaml")!);
  assert.deepEqual(kt.spec.names.shortNames, ["kt"]);
  const tspec = kt.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  assert.equal(tspec.properties.topicName.maxLength, 249);
  assert.ok(
    tspec.properties.partitions["x-kubernetes-validations"].some(
      (r: { rule: string }) => r.rule === "self >= oldSelf",
    ),
  );
});
