// A real Kubernetes control plane on loopback for the operator's integration tests, no Docker:
// etcd, kube-apiserver, kube-controller-manager (garbage collection, Deployment/StatefulSet →
// Pods, namespaces, service accounts), kube-scheduler, and kwok, which plays the kubelet of fake
// Nodes so scheduled Pods become Running and Ready (no container runs). The binaries are built
// from the pinned Go modules in tools/ by test/setup/k8s.sh into
// $CAPSTAN_CACHE/k8s-<version>/bin (CAPSTAN_K8S_BIN overrides the directory).
//
//   const cp = await startControlPlane();
//   const r = await cp.kubectl(["get", "nodes", "-o", "json"]);   // as cluster-admin
//   const kc = await cp.kubeconfigFor("operator", "kafka");        // as a ServiceAccount
//   await cp.stop();
//
// Importing this module starts nothing. By hand: `node test/k8s/harness.ts` starts one, prints
// its kubeconfig path and keeps it up until Ctrl-C (the logs are in the printed directory).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "../..");

/** The Kubernetes release pinned in tools/k8s/go.mod (e.g. "1.35.4"). */
export const K8S_VERSION: string = (() => {
  const mod = readFileSync(path.join(REPO, "tools/k8s/go.mod"), "utf8");
  const m = /^\s*(?:require\s+)?k8s\.io\/kubernetes v(\S+)/m.exec(mod);
  if (!m) throw new Error("tools/k8s/go.mod does not require k8s.io/kubernetes");
  return m[1];
})();

/** Binaries test/setup/k8s.sh builds. */
export const K8S_BINARIES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubectl",
  "kwok",
  "helm",
] as const;
export type K8sBinary = (typeof K8S_BINARIES)[number];

function cacheDir(): string {
  return process.env.CAPSTAN_CACHE || path.join(os.homedir(), ".cache", "capstan");
}

/** Directory holding the binaries: $CAPSTAN_K8S_BIN, else $CAPSTAN_CACHE/k8s-<version>/bin. */
export function k8sBinDir(): string {
  return process.env.CAPSTAN_K8S_BIN || path.join(cacheDir(), `k8s-${K8S_VERSION}`, "bin");
}

/** Absolute path of one of the built binaries (kubectl, helm, ...). */
export function k8sBinary(name: K8sBinary): string {
  return path.join(k8sBinDir(), name);
}

/** kwok's Stages (node initialize/heartbeat, pod ready/complete/delete), written by k8s.sh. */
export function kwokStagesFile(): string {
  return path.join(k8sBinDir(), "kwok-stages.yaml");
}

/** Why the control plane cannot start here (a binary is missing), or undefined when it can. */
export function k8sUnavailable(): string | undefined {
  const missing: string[] = K8S_BINARIES.filter((b) => !existsSync(k8sBinary(b)));
  if (!existsSync(kwokStagesFile())) missing.push(path.basename(kwokStagesFile()));
  if (missing.length === 0) return undefined;
  return `Kubernetes ${K8S_VERSION} binaries missing in ${k8sBinDir()} (${missing.join(", ")}): run 'bash test/setup/k8s.sh'`;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's standard input (for `-f -`). */
  input?: string;
  /** Kubeconfig to use instead of the admin one (e.g. from kubeconfigFor). */
  kubeconfig?: string;
  /** Kill kubectl after this many milliseconds; default 60 s. */
  timeoutMs?: number;
}

export interface ControlPlaneOptions {
  /** Fake Nodes kwok manages (named kwok-node-0, kwok-node-1, ...); default 1. */
  nodes?: number;
  /** Milliseconds to wait for everything to be ready; default 120 s. */
  startTimeoutMs?: number;
  /** Keep the temp dir (certs, kubeconfigs, etcd data, one log per component) after stop(). */
  keepDir?: boolean;
  /** klog verbosity of the Kubernetes components; default 1 (env CAPSTAN_K8S_V overrides). */
  verbosity?: number;
  /** Extra kube-apiserver flags (e.g. "--feature-gates=..."), appended last. */
  apiServerArgs?: string[];
}

export interface ControlPlane {
  /** "https://127.0.0.1:<port>" */
  server: string;
  /** Kubeconfig of a cluster-admin user (client certificate in group system:masters). */
  kubeconfigPath: string;
  /** CA that signed the API server's serving certificate (and the client certificates). */
  caFile: string;
  /** Temp dir: pki/, kubeconfigs, etcd/ data, <component>.log. */
  dir: string;
  /** Names of the fake Nodes kwok keeps Ready. */
  nodes: string[];
  /** Runs the built kubectl against this cluster (as admin unless opts.kubeconfig). */
  kubectl(args: string[], opts?: KubectlOptions): Promise<CommandResult>;
  /**
   * Ensures the namespace and ServiceAccount exist and writes a kubeconfig that authenticates
   * as that ServiceAccount with a token from the TokenRequest API (`kubectl create token`), so
   * a component runs with the RBAC it is granted instead of cluster-admin. Returns its path.
   */
  kubeconfigFor(serviceAccount: string, namespace: string, opts?: { duration?: string }): Promise<string>;
  /** Stops every process (SIGTERM, SIGKILL after 3 s) and removes dir unless keepDir. */
  stop(): Promise<void>;
}

interface Component {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  logFile: string;
}

/** Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok; see the top. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const unavailable = k8sUnavailable();
  if (unavailable) throw new Error(unavailable);
  const started = Date.now();
  const deadline = started + (opts.startTimeoutMs ?? 120_000);
  const verbosity = String(opts.verbosity ?? process.env.CAPSTAN_K8S_V ?? 1);
  const dir = await mkdtemp(path.join(os.tmpdir(), "capstan-k8s-"));
  const pki = path.join(dir, "pki");
  await mkdir(pki);
  await mkdir(path.join(dir, "etcd"), { mode: 0o700 });

  const components: Component[] = [];
  const pidsFile = path.join(dir, "pids");
  const killAll = () => {
    for (const c of components) if (running(c)) c.child.kill("SIGKILL");
  };
  process.on("exit", killAll);
  // If this process dies without running "exit" handlers (SIGKILL, an unhandled signal), a
  // detached watchdog kills the components it recorded and removes the temp dir.
  const watchdog = spawn(
    "sh",
    [
      "-c",
      'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -9 $(cat "$1" 2>/dev/null) 2>/dev/null; [ "$2" = keep ] || rm -rf "$3"',
      String(process.pid),
      pidsFile,
      opts.keepDir ? "keep" : "remove",
      dir,
    ],
    { detached: true, stdio: "ignore" },
  );
  watchdog.unref();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Clients first, then the API server, then etcd: each tier shuts down while what it talks
    // to is still there. SIGKILL whatever takes longer than 3 s.
    const tiers: string[][] = [
      ["kwok", "kube-scheduler", "kube-controller-manager"],
      ["kube-apiserver"],
      ["etcd"],
    ];
    for (const tier of tiers) {
      const group = components.filter((c) => tier.includes(c.name));
      for (const c of group) if (running(c)) c.child.kill("SIGTERM");
      const timer = setTimeout(() => group.forEach((c) => running(c) && c.child.kill("SIGKILL")), 3000);
      await Promise.all(group.map((c) => c.exited));
      clearTimeout(timer);
    }
    process.off("exit", killAll);
    if (watchdog.exitCode === null) watchdog.kill("SIGKILL");
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  };

  const launch = async (name: K8sBinary, args: string[]): Promise<Component> => {
    const logFile = path.join(dir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: "a" });
    const child = spawn(k8sBinary(name), args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const exited = new Promise<void>((resolve) =>
      child.once("close", () => {
        log.end();
        resolve();
      }),
    );
    child.once("error", (err) => log.write(`spawn failed: ${err.message}\n`));
    const c = { name, child, exited, logFile };
    components.push(c);
    await writeFile(pidsFile, components.map((x) => x.child.pid ?? "").join(" ") + "\n");
    return c;
  };

  const failure = async (what: string, cause?: unknown): Promise<Error> => {
    const logs = components
      .map((c) => {
        const state = running(c) ? "running" : `exited ${c.child.exitCode ?? c.child.signalCode}`;
        return `--- ${c.name} (${state}), last lines of ${c.logFile}:\n${tailOf(c.logFile)}`;
      })
      .join("\n");
    opts.keepDir = true; // keep the logs for whoever reads the error
    await stop();
    return new Error(`${what}${cause ? `: ${String(cause)}` : ""} (logs kept in ${dir})\n${logs}`);
  };
  /** Polls check() until it returns a value other than undefined, or fails when a component died. */
  const until = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
    let last: unknown;
    while (true) {
      const dead = components.find((c) => !running(c));
      if (dead) throw await failure(`${dead.name} exited while waiting for ${what}`);
      if (Date.now() > deadline) throw await failure(`timed out waiting for ${what}`, last);
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      await sleep(200);
    }
  };

  try {
    // --- certificates: a CA, the API server's serving cert, client certs, the SA signing key.
    const f = (name: string) => path.join(pki, name);
    await openssl([
      "req",
      "-x509",
      ...newKey(f("ca.key")),
      "-out",
      f("ca.crt"),
      "-days",
      "30",
      "-subj",
      "/CN=capstan-test-ca",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    ]);
    const sans = [
      "IP:127.0.0.1",
      "IP:10.0.0.1",
      "DNS:localhost",
      "DNS:kubernetes",
      "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc",
      "DNS:kubernetes.default.svc.cluster.local",
    ];
    await Promise.all([
      issue(pki, "apiserver", "/CN=kube-apiserver", "serverAuth", sans),
      issue(pki, "admin", "/O=system:masters/CN=capstan-admin", "clientAuth"),
      issue(pki, "controller-manager", "/CN=system:kube-controller-manager", "clientAuth"),
      issue(pki, "scheduler", "/CN=system:kube-scheduler", "clientAuth"),
      openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f("sa.key")]),
    ]);
    await openssl(["pkey", "-in", f("sa.key"), "-pubout", "-out", f("sa.pub")]);

    // --- etcd
    const [etcdPort, peerPort, apiPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    await launch("etcd", [
      "--name=capstan",
      `--data-dir=${path.join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=capstan=${peerUrl}`,
      "--initial-cluster-state=new",
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ]);
    await until("etcd /health", async () =>
      (await httpGet(`${etcdUrl}/health`)).includes('"health":"true"') ? true : undefined,
    );

    // --- kube-apiserver (envtest's flags, plus a loopback advertise address and real authn)
    const server = `https://127.0.0.1:${apiPort}`;
    await launch("kube-apiserver", [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${pki}`,
      `--tls-cert-file=${f("apiserver.crt")}`,
      `--tls-private-key-file=${f("apiserver.key")}`,
      `--client-ca-file=${f("ca.crt")}`,
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=true",
      "--service-cluster-ip-range=10.0.0.0/24",
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${f("sa.pub")}`,
      `--service-account-signing-key-file=${f("sa.key")}`,
      // Loopback addresses are not valid Endpoints, so don't publish the "kubernetes" Service's.
      "--endpoint-reconciler-type=none",
      "--enable-priority-and-fairness=false",
      "--profiling=false",
      `--v=${verbosity}`,
      ...(opts.apiServerArgs ?? []),
    ]);
    const tls = {
      ca: readFileSync(f("ca.crt")),
      cert: readFileSync(f("admin.crt")),
      key: readFileSync(f("admin.key")),
    };
    await until("kube-apiserver /readyz", async () =>
      (await httpsGet(`${server}/readyz`, tls)) === "ok" ? true : undefined,
    );

    // --- kubeconfigs with embedded credentials, one per identity
    const kubeconfigPath = path.join(dir, "admin.kubeconfig");
    const kubeconfigOf = async (user: string, file: string) => {
      await writeFile(
        file,
        kubeconfig(server, tls.ca, user, {
          "client-certificate-data": readFileSync(f(`${user}.crt`)).toString("base64"),
          "client-key-data": readFileSync(f(`${user}.key`)).toString("base64"),
        }),
        { mode: 0o600 },
      );
      return file;
    };
    await kubeconfigOf("admin", kubeconfigPath);
    const kcmKubeconfig = await kubeconfigOf(
      "controller-manager",
      path.join(dir, "controller-manager.kubeconfig"),
    );
    const schedKubeconfig = await kubeconfigOf("scheduler", path.join(dir, "scheduler.kubeconfig"));

    // --- controllers, scheduler, kwok. Their HTTPS (metrics/health) ports are not needed.
    await launch("kube-controller-manager", [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      "--controllers=*",
      "--use-service-account-credentials=true",
      `--root-ca-file=${f("ca.crt")}`,
      `--service-account-private-key-file=${f("sa.key")}`,
      `--cluster-signing-cert-file=${f("ca.crt")}`,
      `--cluster-signing-key-file=${f("ca.key")}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      "--leader-elect=false",
      "--secure-port=0",
      `--v=${verbosity}`,
    ]);
    await launch("kube-scheduler", [
      `--kubeconfig=${schedKubeconfig}`,
      `--authentication-kubeconfig=${schedKubeconfig}`,
      `--authorization-kubeconfig=${schedKubeconfig}`,
      "--leader-elect=false",
      "--secure-port=0",
      `--v=${verbosity}`,
    ]);
    const [kwokPort] = await freePorts(1);
    await launch("kwok", [
      `--kubeconfig=${kubeconfigPath}`,
      `--config=${kwokStagesFile()}`,
      "--node-lease-duration-seconds=40",
      "--manage-all-nodes=false",
      "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
      "--cidr=10.244.0.0/16",
      "--node-ip=10.244.0.1",
      `--server-address=127.0.0.1:${kwokPort}`,
      `--v=${verbosity}`,
    ]);

    const kubectl = (args: string[], kopts: KubectlOptions = {}) =>
      run(k8sBinary("kubectl"), args, {
        input: kopts.input,
        timeoutMs: kopts.timeoutMs ?? 60_000,
        env: { ...process.env, KUBECONFIG: kopts.kubeconfig ?? kubeconfigPath },
      });

    const nodes = Array.from({ length: opts.nodes ?? 1 }, (_, i) => `kwok-node-${i}`);
    const created = await kubectl(["create", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes.map(fakeNode) }),
    });
    if (created.code !== 0) throw await failure("creating the fake Nodes", created.stderr);
    // Ready Nodes (kwok works) and the default ServiceAccount (the controller manager works).
    for (const node of nodes) {
      await until(`Node ${node} Ready`, async () => {
        const r = await kubectl([
          "get",
          "node",
          node,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]);
        return r.stdout === "True" ? true : undefined;
      });
    }
    await until("ServiceAccount default/default", async () =>
      (await kubectl(["get", "serviceaccount", "default", "-n", "default"])).code === 0 ? true : undefined,
    );

    const kubeconfigFor = async (
      serviceAccount: string,
      namespace: string,
      o: { duration?: string } = {},
    ) => {
      const objects = [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: serviceAccount, namespace } },
      ];
      const applied = await kubectl(["apply", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
      });
      if (applied.code !== 0)
        throw new Error(`creating ServiceAccount ${namespace}/${serviceAccount}: ${applied.stderr}`);
      const token = await kubectl([
        "create",
        "token",
        serviceAccount,
        "-n",
        namespace,
        `--duration=${o.duration ?? "24h"}`,
      ]);
      if (token.code !== 0) throw new Error(`kubectl create token ${serviceAccount}: ${token.stderr}`);
      const file = path.join(dir, `sa-${namespace}-${serviceAccount}.kubeconfig`);
      await writeFile(
        file,
        kubeconfig(
          server,
          tls.ca,
          `system:serviceaccount:${namespace}:${serviceAccount}`,
          {
            token: token.stdout.trim(),
          },
          namespace,
        ),
        { mode: 0o600 },
      );
      return file;
    };

    return { server, kubeconfigPath, caFile: f("ca.crt"), dir, nodes, kubectl, kubeconfigFor, stop };
  } catch (err) {
    if (!stopped) throw await failure("control plane failed to start", err);
    throw err;
  }
}

/** Polls check() every intervalMs until it returns something other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  while (true) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

function running(c: Component): boolean {
  return c.child.exitCode === null && c.child.signalCode === null;
}

function fakeNode(name: string) {
  const resources = { cpu: "32", memory: "256Gi", pods: "110", "ephemeral-storage": "1Ti" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/agent": "",
        type: "kwok",
      },
    },
    status: { allocatable: resources, capacity: resources },
  };
}

function kubeconfig(
  server: string,
  ca: Buffer,
  user: string,
  credentials: Record<string, string>,
  namespace = "default",
): string {
  return (
    JSON.stringify(
      {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "capstan-test", cluster: { server, "certificate-authority-data": ca.toString("base64") } },
        ],
        users: [{ name: user, user: credentials }],
        contexts: [{ name: "capstan-test", context: { cluster: "capstan-test", user, namespace } }],
        "current-context": "capstan-test",
      },
      null,
      2,
    ) + "\n"
  );
}

function newKey(keyFile: string): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile];
}

/** A P-256 key and a certificate signed by pki/ca for the subject, with the given usage. */
async function issue(pki: string, name: string, subject: string, usage: string, sans: string[] = []) {
  const f = (ext: string) => path.join(pki, `${name}.${ext}`);
  await openssl(["req", "-new", ...newKey(f("key")), "-out", f("csr"), "-subj", subject]);
  const ext = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${usage}`,
    ...(sans.length ? [`subjectAltName=${sans.join(",")}`] : []),
  ];
  await writeFile(f("ext"), ext.join("\n") + "\n");
  const serial = "0x" + randomBytes(16).toString("hex");
  await openssl([
    "x509",
    "-req",
    "-in",
    f("csr"),
    "-CA",
    path.join(pki, "ca.crt"),
    "-CAkey",
    path.join(pki, "ca.key"),
    "-set_serial",
    serial,
    "-days",
    "30",
    "-extfile",
    f("ext"),
    "-out",
    f("crt"),
  ]);
}

async function openssl(args: string[]): Promise<void> {
  const r = await run("openssl", args, { timeoutMs: 30_000 }).catch((err: Error) => {
    throw new Error(`openssl is required to generate the test cluster's certificates: ${err.message}`);
  });
  if (r.code !== 0) throw new Error(`openssl ${args.slice(0, 2).join(" ")} failed: ${r.stderr}`);
}

/** Runs a program to completion, collecting its output; rejects only when it cannot be spawned. */
export function run(
  file: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: opts.env,
      cwd: opts.cwd,
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 60_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) {
      child.stdin!.on("error", () => {}); // the program may exit before reading everything
      child.stdin!.end(opts.input);
    }
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

function httpsGet(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...tls, timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

/** Distinct TCP ports on 127.0.0.1 that were free a moment ago. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// `node test/k8s/harness.ts`: start one and keep it up until Ctrl-C.
if (import.meta.main) {
  const cp = await startControlPlane({ keepDir: true });
  console.log(
    `control plane up at ${cp.server}\n  export KUBECONFIG=${cp.kubeconfigPath}\n  logs: ${cp.dir}`,
  );
  const shutdown = () => void cp.stop().then(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
