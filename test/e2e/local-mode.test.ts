// capstan local end to end: a real process running real brokers from a directory of
// manifests; topics follow file edits, a policy violation shows in status, a broker
// killed with -9 comes back with every acknowledged record, and Ctrl-C stops it all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { freePort } from "../setup/kafka.ts";

const BIN = new URL("../../bin/capstan.ts", import.meta.url).pathname;

const CLUSTER = `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaCluster
metadata: {name: e2e}
spec:
  replicas: 1
  topicPolicy:
    naming: {pattern: "[a-z]+\\\\.[a-z-]+"}
`;
const topic = (name: string, topicName: string, partitions: number) => `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaTopic
metadata:
  name: ${name}
  labels: {kafka.capstan.dev/cluster: e2e}
spec: {topicName: ${topicName}, partitions: ${partitions}}
`;

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

test(
  "capstan local: manifests to topics, edits followed, policy in status, kill -9 survived, clean stop",
  { timeout: 180_000 },
  async (t) => {
    const root = await mkdtemp(join(tmpdir(), "capstan-local-"));
    const manifests = join(root, "manifests");
    const data = join(root, "data");
    await (await import("node:fs/promises")).mkdir(manifests);
    await writeFile(join(manifests, "cluster.yaml"), CLUSTER);
    await writeFile(join(manifests, "orders.yaml"), topic("orders", "shop.orders", 2));
    // Leave room for the controller port (+100) above the client port.
    const port = await freePort();
    const proc = spawn(
      process.execPath,
      [BIN, "local", "--manifests", manifests, "--data-dir", data, "--port-base", String(port)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    proc.stdout.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    t.after(async () => {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      spawnSync("pkill", ["-9", "-f", data]);
      await rm(root, { recursive: true, force: true });
    });
    const status = async () => JSON.parse(await readFile(join(data, "status.json"), "utf8"));
    const topicStatus = async (name: string) =>
      (await status()).topics.find((x: { resource: string }) => x.resource === name);

    await until("orders Ready", async () => (await topicStatus("orders"))?.ready, 60_000).catch((err) => {
      throw new Error(`${err}\n${output}`);
    });
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    t.after(() => admin.disconnect());
    assert.equal(
      (await admin.fetchTopicMetadata({ topics: ["shop.orders"] })).topics[0].partitions.length,
      2,
    );

    // A new file, an edit, a violation, a removal.
    await writeFile(join(manifests, "payments.yaml"), topic("payments", "shop.payments", 1));
    await until("payments created", async () => (await admin.listTopics()).includes("shop.payments"));
    await writeFile(join(manifests, "orders.yaml"), topic("orders", "shop.orders", 4));
    await until("orders grown to 4", async () =>
      (await admin.fetchTopicMetadata({ topics: ["shop.orders"] })).topics[0].partitions.length === 4
        ? true
        : undefined,
    );
    await writeFile(join(manifests, "bad.yaml"), topic("bad", "Shop_Bad", 1));
    const bad = await until("bad refused in status", async () => {
      const s = await topicStatus("bad");
      return s && s.reason === "PolicyViolation" ? s : undefined;
    });
    assert.match(bad.message, /\[naming\].*does not match the naming pattern/);
    assert.ok(!(await admin.listTopics()).includes("Shop_Bad"));
    // A client creating the topic directly meets the same policy in the broker (error 44).
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: "Shop_Direct" }] }),
      (err: Error & { errors?: Array<{ type?: string }> }) => {
        assert.equal(err.errors?.[0]?.type, "POLICY_VIOLATION", String(err));
        return true;
      },
    );
    await rm(join(manifests, "payments.yaml"));
    await until("payments deleted", async () =>
      (await admin.listTopics()).includes("shop.payments") ? undefined : true,
    );
    // deletionPolicy: Retain keeps the topic when its manifest goes, as on Kubernetes.
    await writeFile(
      join(manifests, "audit.yaml"),
      topic("audit", "shop.audit", 1).replace("partitions: 1}", "partitions: 1, deletionPolicy: Retain}"),
    );
    await until("audit created", async () => (await admin.listTopics()).includes("shop.audit"));
    await rm(join(manifests, "audit.yaml"));
    await until("audit forgotten", async () => ((await topicStatus("audit")) ? undefined : true));
    assert.ok((await admin.listTopics()).includes("shop.audit"), "a Retain topic was deleted");

    // Acknowledged records survive a kill -9 of the broker, which local mode restarts.
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const sent = await producer.send({
      topic: "shop.orders",
      acks: -1,
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })),
    });
    await producer.disconnect();
    const pid = (await status()).brokers[0].pid as number;
    process.kill(pid, "SIGKILL");
    await until("broker restarted", () =>
      /broker 0 killed by SIGKILL; restarting/.test(output) ? true : undefined,
    );
    const offsets = await until("broker back", async () => {
      const admin2 = kafka.admin();
      await admin2.connect();
      try {
        return await admin2.fetchTopicOffsets("shop.orders");
      } finally {
        await admin2.disconnect();
      }
    });
    assert.equal(offsets.find((o) => o.partition === 0)?.high, String(Number(sent[0].baseOffset) + 20));

    // The lag exporter runs beside the brokers, as in the operator.
    const url = /consumer-lag metrics: (http:\/\/\S+)/.exec(output)?.[1];
    assert.ok(url, output);
    const metrics = await until("lag metrics served", async () => {
      const text = await (await fetch(url)).text();
      return /kafka_topic_partitions\{[^}]*topic="shop\.orders"[^}]*\} 4/.test(text) ? text : undefined;
    });
    assert.match(metrics, /kafka_brokers\{[^}]*cluster="e2e"[^}]*\} 1/);

    proc.kill("SIGINT");
    assert.equal(await exited, 0, output);
    assert.ok(existsSync(join(data, "status.json")));
  },
);
