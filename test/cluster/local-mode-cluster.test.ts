// capstan local with a 3-broker KafkaCluster: three broker processes form the controller
// quorum, a KafkaTopic with replication factor 3 is created across them, and a Ctrl-C
// (SIGINT to the whole process group, as a terminal sends it) stops every broker cleanly,
// each after its controlled shutdown, none restarted on the way out.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { kcat, kcatConsume, kcatProduce, waitUntil } from "../interop/helpers.ts";
import { freePort } from "../setup/kafka.ts";

const BIN = new URL("../../bin/capstan.ts", import.meta.url).pathname;

const CLUSTER = `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaCluster
metadata: {name: trio}
spec:
  replicas: 3
`;
const TOPIC = `apiVersion: kafka.capstan.dev/v1alpha1
kind: KafkaTopic
metadata:
  name: orders
  labels: {kafka.capstan.dev/cluster: trio}
spec: {topicName: orders, partitions: 3, replicationFactor: 3}
`;

test(
  "capstan local runs a 3-broker cluster with replicated topics and stops it cleanly",
  { timeout: 180_000 },
  async (t) => {
    const root = await mkdtemp(join(tmpdir(), "capstan-local-trio-"));
    const manifests = join(root, "manifests");
    const data = join(root, "data");
    await mkdir(manifests);
    await writeFile(join(manifests, "cluster.yaml"), CLUSTER);
    await writeFile(join(manifests, "orders.yaml"), TOPIC);
    const port = await freePort();
    // Its own process group, so the test can send the group a Ctrl-C.
    const proc = spawn(
      process.execPath,
      [BIN, "local", "--manifests", manifests, "--data-dir", data, "--port-base", String(port)],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    let output = "";
    proc.stdout.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    t.after(async () => {
      if (proc.exitCode === null) process.kill(-proc.pid!, "SIGKILL");
      await rm(root, { recursive: true, force: true });
    });
    const bootstrap = [0, 1, 2].map((i) => `127.0.0.1:${port + i}`).join(",");

    let last = "";
    const metadata = await waitUntil(
      async () => {
        // All topics: asking for "orders" by name before local mode creates it would
        // auto-create it with the broker defaults.
        const r = await kcat(bootstrap, ["-L"]);
        last = r.stdout + r.stderr;
        return /3 brokers/.test(r.stdout) &&
          /topic "orders" with 3 partitions/.test(r.stdout) &&
          (r.stdout.match(/isrs: \d,\d,\d/g) ?? []).length === 3
          ? r.stdout
          : null;
      },
      90_000,
      "orders replicated on three brokers",
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\n--- kcat -L ---\n${last}\n--- capstan local ---\n${output}`);
    });
    assert.match(metadata!, /partition 0, leader \d, replicas: \d,\d,\d/);
    await kcatProduce(bootstrap, "orders", ["a", "b", "c"]);
    const read = await kcatConsume(bootstrap, "orders");
    assert.deepEqual(read.map((r) => r.payload).sort(), ["a", "b", "c"]);

    process.kill(-proc.pid!, "SIGINT");
    assert.equal(await exited, 0, output);
    assert.doesNotMatch(output, /restarting in/, "no broker was restarted while stopping");
    for (const id of [0, 1, 2]) {
      const log = await readFile(join(data, `broker-${id}`, "broker.log"), "utf8");
      assert.match(log, new RegExp(`Capstan broker ${id} shut down cleanly`));
    }
  },
);
