// The topic policy inside a real broker: CreateTopics, CreatePartitions and
// AlterConfigs from a client are refused with POLICY_VIOLATION (44) and the engine's
// message; compliant requests pass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "./broker.ts";
import { BrokerConfig } from "./config.ts";
import { createLogger } from "../lib/logger.ts";
import { RawClient } from "../test/setup/raw-client.ts";
import * as apis from "../protocol/generated/apis.ts";
import { ErrorCode } from "./errors.ts";

const POLICY = `
naming:
  template: "{env}.{team}.{app}.{type}"
  segments:
    env: {values: [dev, stg, prd]}
    type: {values: [json, avro]}
maxPartitions: 4
requiredConfigs: {retention.ms: {min: 60000}}
`;

test("the broker enforces the topic policy on CreateTopics, CreatePartitions and AlterConfigs", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "capstan-policy-"));
  await writeFile(join(dir, "policy.yaml"), POLICY);
  const broker = await Broker.start(
    BrokerConfig.load(undefined, [
      "listeners=PLAINTEXT://127.0.0.1:0",
      `log.dirs=${join(dir, "data")}`,
      `capstan.topic.policy.file=${join(dir, "policy.yaml")}`,
    ]),
    createLogger("policy-test"),
  );
  const c = await RawClient.connect(broker.boundPorts().get("PLAINTEXT")!);
  t.after(async () => {
    c.close();
    await broker.shutdown();
    await rm(dir, { recursive: true, force: true });
  });
  const create = (name: string, partitions = 2) =>
    c.request(apis.CreateTopics, 7, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });

  const refused = (await create("prod.team.app.json")).topics[0];
  assert.equal(refused.errorCode, ErrorCode.POLICY_VIOLATION);
  assert.match(refused.errorMessage ?? "", /\[naming\].*segment env is "prod".*"prd\.team\.app\.json"/);
  assert.equal((await create("prd.team.app.json", 8)).topics[0].errorCode, ErrorCode.POLICY_VIOLATION);

  const ok = (await create("prd.team.app.json")).topics[0];
  assert.equal(ok.errorCode, ErrorCode.NONE, ok.errorMessage ?? "");

  const grow = await c.request(apis.CreatePartitions, 3, {
    topics: [{ name: "prd.team.app.json", count: 6, assignments: null }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  assert.equal(grow.results[0].errorCode, ErrorCode.POLICY_VIOLATION);
  assert.match(grow.results[0].errorMessage ?? "", /6 partitions is above the policy maximum of 4/);

  const alter = await c.request(apis.IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: 2,
        resourceName: "prd.team.app.json",
        configs: [{ name: "retention.ms", configOperation: 0, value: "1000" }],
      },
    ],
    validateOnly: false,
  });
  assert.equal(alter.responses[0].errorCode, ErrorCode.POLICY_VIOLATION);
  assert.match(
    alter.responses[0].errorMessage ?? "",
    /retention\.ms is 1000; the policy requires at least 60000/,
  );
});
