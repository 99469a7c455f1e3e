import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lint } from "./lint.ts";

const CLUSTER = `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaCluster
metadata:
  name: demo
spec:
  replicas: 3
  topicPolicy:
    mode: MODE
    naming:
      template: "{env}.{team}.{app}.{type}"
      segments:
        env: {values: [dev, stg, prd]}
        type: {values: [json, avro]}
    replicationFactor: {min: 2, max: 3}
`;

const TOPICS = `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaTopic
metadata:
  name: good
  labels: {kafka.capstan.dev/cluster: demo}
spec:
  topicName: prd.marketing-team.sms-platform.json
  partitions: 6
---
apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaTopic
metadata:
  name: bad
  labels: {kafka.capstan.dev/cluster: demo}
spec:
  topicName: prod.marketing-team.sms-platform.json
  partitions: 6
  replicationFactor: 4
---
apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaTopic
metadata:
  name: typo
  labels: {kafka.capstan.dev/cluster: demo}
spec:
  partitions: six
---
apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaTopic
metadata:
  name: twin
  labels: {kafka.capstan.dev/cluster: demo}
spec:
  topicName: prd.marketing-team.sms-platform.json
  partitions: 6
`;

async function withDir(mode: string, fn: (dir: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-lint-"));
  try {
    await writeFile(join(dir, "cluster.yaml"), CLUSTER.replace("MODE", mode));
    await writeFile(join(dir, "topics.yaml"), TOPICS);
    fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("lint: one finding per problem with file and line; policy violations are errors in Enforce mode", async () => {
  await withDir("Enforce", (dir) => {
    const f = lint(dir).map((x) => `${x.file.replace(/.*\//, "")}:${x.line}:${x.severity}:${x.message}`);
    assert.equal(f.length, 4, f.join("\n"));
    assert.match(
      f[0],
      /^topics\.yaml:16:error:.*\[naming\].*segment env is "prod".*"prd\.marketing-team\.sms-platform\.json"/,
    );
    assert.match(
      f[1],
      /^topics\.yaml:18:error:.*\[replication-factor\] replication factor 4 is above the 3 brokers/,
    );
    assert.match(f[2], /^topics\.yaml:26:error:.*spec\.partitions: must be integer/);
    assert.match(f[3], /^topics\.yaml:28:error:.*already declared in .*topics\.yaml:1/);
  });
});

test("lint: Warn mode reports policy violations as warnings, Kafka's own rules stay errors", async () => {
  await withDir("Warn", (dir) => {
    const f = lint(dir);
    assert.deepEqual(
      f.map((x) => x.severity),
      ["warning", "warning", "error", "error"],
    );
  });
});
