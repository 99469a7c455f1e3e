// Helpers for this folder's tests (named so the test runner does not run it): quorum
// replicas in this process, each with its own metadata log dir and a real TCP
// listener on loopback serving the Raft APIs, a toy state machine (the list of
// committed "kv:" values), and a network that tests can cut around a node.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createLogger, type Logger } from "../../lib/logger.ts";
import { peekRequestHeader } from "../../protocol/frame.ts";
import { ProtocolError } from "../../protocol/wire/index.ts";
import { SocketServer } from "../network/server.ts";
import { RequestRouter } from "../request-router.ts";
import { RAFT_HANDLERS, type RaftHost } from "./handlers.ts";
import { type RaftListener, RaftClient, type RaftOptions } from "./raft-client.ts";
import { RaftLog } from "./raft-log.ts";
import type { NodeAddress } from "../network/node-client.ts";

/** Fast timings so elections finish in well under a second. */
export const FAST: Partial<RaftOptions> = {
  electionTimeoutMs: 300,
  electionBackoffMaxMs: 200,
  fetchTimeoutMs: 600,
  fetchMaxWaitMs: 100,
  requestTimeoutMs: 500,
  idleIntervalMs: 100,
  tickMs: 10,
};

function quietLogger(name: string): Logger {
  if (process.env.RAFT_TEST_DEBUG) return createLogger(name);
  const silent: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (msg, fields) => console.error(name, msg, fields),
    child: () => silent,
  };
  return silent;
}

const PREFIX = "kv:";

/** The toy state machine: the committed "kv:" values in order. */
export class ListStateMachine implements RaftListener {
  values: string[] = [];
  snapshotsLoaded = 0;
  handleCommit(batch: { values: Buffer[] }): void {
    for (const v of batch.values) {
      const s = v.toString("utf8");
      if (s.startsWith(PREFIX)) this.values.push(s.slice(PREFIX.length));
    }
  }
  handleLoadSnapshot(snapshot: { values: Buffer[] }): void {
    this.snapshotsLoaded++;
    this.values = [];
    this.handleCommit(snapshot);
  }
  snapshotValues(): Buffer[] {
    return this.values.map((v) => Buffer.from(PREFIX + v));
  }
}

export function kv(...values: string[]): Buffer[] {
  return values.map((v) => Buffer.from(PREFIX + v));
}

export class TestNode implements RaftHost {
  readonly id: number;
  readonly dir: string;
  readonly cluster: TestCluster;
  port = 0;
  raft?: RaftClient;
  state = new ListStateMachine();
  private server?: SocketServer;

  constructor(cluster: TestCluster, id: number, dir: string) {
    this.cluster = cluster;
    this.id = id;
    this.dir = dir;
  }

  async listen(): Promise<void> {
    const router = new RequestRouter<RaftHost>(this, RAFT_HANDLERS);
    this.server = new SocketServer({
      maxRequestSize: 100 << 20,
      idleMs: 0,
      log: quietLogger(`net-${this.id}`),
      dispatch: async (frame, conn) => {
        // A cut network: requests to or from an isolated node go nowhere.
        const from = /^raft-(\d+)$/.exec(peekRequestHeader(frame).clientId ?? "");
        const blocked = () =>
          this.cluster.isolated.has(this.id) || (from && this.cluster.isolated.has(Number(from[1])));
        if (blocked()) throw new ProtocolError("invalid-value", "network cut", 0);
        if (!this.raft) throw new ProtocolError("invalid-value", "node stopped", 0);
        const out = await router.dispatch(frame, conn);
        if (blocked()) throw new ProtocolError("invalid-value", "network cut", 0);
        return out;
      },
    });
    await this.server.listen([{ name: "CONTROLLER", host: "127.0.0.1", port: this.port }]);
    this.port = this.server.boundPorts.get("CONTROLLER")!;
  }

  async start(opts: Partial<RaftOptions> = {}): Promise<void> {
    if (!this.server) await this.listen();
    this.state = new ListStateMachine();
    // Small segments, so moving the log start after a snapshot deletes whole ones.
    const log = await RaftLog.open(this.dir, quietLogger(`log-${this.id}`), { segmentBytes: 4096 });
    this.raft = await RaftClient.start({
      ...FAST,
      ...opts,
      nodeId: this.id,
      voters: this.cluster.voters,
      log,
      logger: quietLogger(`raft-${this.id}`),
      listener: this.state,
      isReachable: (peer) => !this.cluster.isolated.has(peer) && !this.cluster.isolated.has(this.id),
    });
  }

  /** Graceful stop (a leader hands over); the listener stays bound unless `close`. */
  async stop(): Promise<void> {
    await this.raft?.close();
    this.raft = undefined;
  }

  /** Stops with no handover, as a crash would (the log is closed but nothing is said). */
  async crash(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
    await this.raft?.crash();
    this.raft = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.server?.close();
    this.server = undefined;
  }
}

export class TestCluster {
  readonly root: string;
  readonly nodes: TestNode[] = [];
  readonly voters = new Map<number, NodeAddress>();
  readonly isolated = new Set<number>();

  private constructor(root: string) {
    this.root = root;
  }

  /** `voterCount` voters with ids 0.., plus observers with the next ids. */
  static async create(voterCount: number, observerCount = 0): Promise<TestCluster> {
    const c = new TestCluster(await mkdtemp(path.join(os.tmpdir(), "capstan-raft-")));
    for (let id = 0; id < voterCount + observerCount; id++) {
      const node = new TestNode(c, id, path.join(c.root, `node-${id}`));
      await node.listen();
      c.nodes.push(node);
      if (id < voterCount) c.voters.set(id, { host: "127.0.0.1", port: node.port });
    }
    return c;
  }

  async startAll(opts: Partial<RaftOptions> = {}): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start(opts)));
  }

  running(): TestNode[] {
    return this.nodes.filter((n) => n.raft);
  }

  /** The single running leader of the highest epoch, once there is one everyone reachable agrees on. */
  async waitForLeader(timeoutMs = 10_000, exclude: number[] = []): Promise<TestNode> {
    return waitFor(
      () => {
        const leaders = this.running().filter((n) => n.raft!.isLeader && !exclude.includes(n.id));
        const top = leaders.sort((a, b) => b.raft!.epoch - a.raft!.epoch)[0];
        if (!top) return undefined;
        const others = this.running().filter((n) => n !== top && !this.isolated.has(n.id));
        return others.every((n) => n.raft!.leaderAndEpoch.leaderId === top.id) ? top : undefined;
      },
      timeoutMs,
      () =>
        `a leader (${this.running()
          .map((n) => `${n.id}:${n.raft!.roleName}@${n.raft!.epoch}`)
          .join(" ")})`,
    );
  }

  /** Waits until every running, connected node has applied exactly `expected`. */
  async waitForValues(expected: string[], nodes = this.running(), timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => nodes.every((n) => JSON.stringify(n.state.values) === JSON.stringify(expected)) || undefined,
      timeoutMs,
      () =>
        `${expected.length} values on nodes ${nodes.map((n) => n.id).join(",")} (they have ${nodes
          .map((n) => `${n.id}:${n.state.values.length}`)
          .join(" ")})`,
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.close()));
    await rm(this.root, { recursive: true, force: true });
  }
}

export async function waitFor<T>(
  fn: () => T | undefined,
  timeoutMs: number,
  what: string | (() => string),
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
