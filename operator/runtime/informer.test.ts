// The informer against a scripted API server: it lists, follows the watch, reconnects
// where the watch ended, restarts after a failed watch, and relists when its
// resourceVersion has expired (410 Gone), reporting objects that vanished as deletes.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "../../lib/logger.ts";
import { Informer } from "./informer.ts";
import { KubeClient } from "./kube-client.ts";
import { POD } from "./resources.ts";

process.env.CAPSTAN_LOG_LEVEL ??= "error"; // the restarts log warnings, expected here

const pod = (name: string, rv: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns", resourceVersion: rv, labels: { app: "x" } },
});

type Script = (res: http.ServerResponse, query: URLSearchParams) => void;

const servers: http.Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function fakeApiServer(lists: unknown[][], watches: Script[]) {
  const seen = { lists: 0, watches: [] as string[] };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    assert.equal(url.pathname, "/api/v1/pods");
    assert.equal(url.searchParams.get("labelSelector"), "app=x");
    if (url.searchParams.get("watch") !== "true") {
      const items = lists[Math.min(seen.lists, lists.length - 1)];
      seen.lists++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ metadata: { resourceVersion: String(10 * seen.lists) }, items }));
      return;
    }
    seen.watches.push(url.searchParams.get("resourceVersion") ?? "");
    const script = watches[seen.watches.length - 1];
    if (script) script(res, url.searchParams);
    else res.writeHead(200).write(""); // hold the watch open
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "c",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return { kc, seen, server };
}

const event = (type: string, object: unknown) => JSON.stringify({ type, object }) + "\n";

test("lists, watches, resumes, restarts after errors, relists after 410 Gone", async () => {
  const { kc, seen } = await fakeApiServer(
    [[pod("a", "10")], [pod("b", "12"), pod("c", "30")]],
    [
      // 1: one change, then the server ends the watch: resume from its resourceVersion.
      (res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(event("ADDED", pod("b", "12")));
      },
      // 2: the API server fails: the informer gives up, the wrapper restarts it.
      (res) => {
        res.writeHead(500).end("{}");
      },
      // 3: the resourceVersion is too old: relist.
      (res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(event("ERROR", { kind: "Status", code: 410, reason: "Expired" }));
      },
    ],
  );
  const informer = new Informer(kc, new KubeClient(kc), POD, {
    labelSelector: "app=x",
    log: createLogger("test"),
  });
  const events: string[] = [];
  informer.on((e, obj) => events.push(`${e} ${obj.metadata!.name}`));
  assert.equal(informer.synced, false);
  await informer.start();
  const deadline = Date.now() + 10_000;
  while (seen.lists < 2 || seen.watches.length < 4) {
    assert.ok(Date.now() < deadline, `stuck: ${JSON.stringify(seen)} ${events.join(", ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(informer.synced, true);
  assert.deepEqual(
    seen.watches,
    ["10", "12", "12", "20"],
    "resumed after the end and the error, relisted after 410",
  );
  assert.deepEqual(events, ["add a", "add b", "delete a", "add c"]);
  assert.deepEqual(
    informer
      .list()
      .map((p) => p.metadata!.name)
      .sort(),
    ["b", "c"],
  );
  assert.equal(informer.get("ns", "c")?.metadata?.resourceVersion, "30");
  await informer.stop();
});

test("not synced while the list fails; synced once it succeeds", async () => {
  let fail = true;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.searchParams.get("watch") === "true") return void res.writeHead(200).write("");
    if (fail)
      return void res.writeHead(403, { "content-type": "application/json" }).end('{"message":"forbidden"}');
    res.end(JSON.stringify({ metadata: { resourceVersion: "5" }, items: [] }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "c",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  const informer = new Informer(kc, new KubeClient(kc), POD, { log: createLogger("test") });
  await informer.start();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(informer.synced, false);
  fail = false;
  const deadline = Date.now() + 5000;
  while (!informer.synced) {
    assert.ok(Date.now() < deadline, "never synced after the API server recovered");
    await new Promise((r) => setTimeout(r, 20));
  }
  await informer.stop();
});
