// The broker process: rebuilds the metadata image from what its metadata log holds
// committed, opens the logs, joins the metadata quorum (a voter when it is one of
// controller.quorum.voters, an observer otherwise; alone, with no voters configured, a
// single-node cluster of its own), registers with the active controller and serves the
// Kafka protocol on its listeners, and the quorum's APIs on its CONTROLLER listener.
// Shutdown is controlled: leaderships move to other brokers first, then the broker
// stops accepting requests, wakes long polls, and closes the logs cleanly.
import { createHash } from "node:crypto";
import { uuidFromBytes } from "../protocol/wire/index.ts";
import type { ApiDefinition } from "../protocol/generated/apis.ts";
import type { MetadataResponseBroker } from "../protocol/generated/messages/MetadataResponse.ts";
import type { Logger } from "../lib/logger.ts";
import type { BrokerConfig } from "./config.ts";
import { BrokerLifecycle } from "./broker-lifecycle.ts";
import { ControllerChannel } from "./controller-channel.ts";
import { Controller, type ControllerDefaults, type TopicResult } from "./metadata/controller.ts";
import { ActiveController } from "./metadata/active-controller.ts";
import { ClusterControl } from "./metadata/cluster-control.ts";
import { ReplicationControl } from "./metadata/replication-control.ts";
import { MetadataImage } from "./metadata/image.ts";
import { imageRecords } from "./metadata/image-records.ts";
import { MetadataLoader } from "./metadata/metadata-loader.ts";
import { RaftJournal } from "./metadata/raft-journal.ts";
import { encodeMetadataRecord } from "./metadata/records.ts";
import { LogManager } from "./log/log-manager.ts";
import { ReplicaManager, logConfigForTopic } from "./replica-manager.ts";
import { RequestRouter } from "./request-router.ts";
import { SocketServer } from "./network/server.ts";
import type { NodeAddress } from "./network/node-client.ts";
import { BrokerMetrics } from "./metrics.ts";
import { CONTROLLER_HANDLERS, HANDLERS } from "./handlers/index.ts";
import type { Handler, RequestContext } from "./handlers/handler.ts";
import { loadTopicPolicy, topicPolicyHook } from "./topic-policy.ts";
import { GroupCoordinator } from "./group/coordinator.ts";
import { ReplicaOffsetsLog } from "./group/offsets-log.ts";
import { OffsetsTopicManager } from "./group/offsets-topic.ts";
import { groupCoordinatorConfig } from "./group/settings.ts";
import { RaftClient } from "./raft/raft-client.ts";
import { RaftLog } from "./raft/raft-log.ts";
import { replayCommitted } from "./raft/replay.ts";
import { parseVoters, type VoterSet } from "./raft/voters.ts";
import { IsrUpdates } from "./replication/isr-updates.ts";
import { ReplicaFetcherManager } from "./replication/replica-fetcher.ts";

/** How long start-up waits for this broker's metadata to catch up with the quorum. */
const CATCH_UP_TIMEOUT_MS = 60_000;

export class Broker {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly nodeId: number;
  readonly clusterId: string;
  readonly image: MetadataImage;
  /** The controller's logic, acting only while this process is the active controller. */
  readonly localController: Controller;
  /** The controller's operations from this broker: run here if active, forwarded otherwise. */
  readonly controller: ActiveController;
  readonly clusterControl: ClusterControl;
  readonly replicationControl: ReplicationControl;
  readonly replicas: ReplicaManager;
  readonly metrics: BrokerMetrics;
  /** The group coordinator: consumer groups and their committed offsets (broker/group). */
  readonly groups: GroupCoordinator;
  /** Creates __consumer_offsets on demand and loads the partitions this broker leads. */
  readonly offsetsTopic: OffsetsTopicManager;
  /** The controller quorum voters (just this node when none are configured). */
  readonly voters: VoterSet;
  /** This node's replica of the metadata log (a voter or an observer). */
  raft?: RaftClient;
  private readonly raftLog: RaftLog;
  private readonly loader: MetadataLoader;
  private readonly logs: LogManager;
  private readonly router: RequestRouter<Broker>;
  private readonly controllerRouter: RequestRouter<Broker>;
  private readonly controllerHandlers = new Map<number, Handler<unknown, unknown, Broker>>();
  private channel?: ControllerChannel;
  private lifecycle?: BrokerLifecycle;
  private server?: SocketServer;
  private controllerServer?: SocketServer;
  private readonly stoppingListeners = new Set<() => void>();
  private controllerTimers: Array<ReturnType<typeof setInterval>> = [];
  private activeEpoch = -1;
  private snapshotBytes = 0;
  stopping = false;

  private constructor(opts: {
    config: BrokerConfig;
    log: Logger;
    clusterId: string;
    logs: LogManager;
    raftLog: RaftLog;
    image: MetadataImage;
    loader: MetadataLoader;
    voters: VoterSet;
  }) {
    this.config = opts.config;
    this.log = opts.log;
    this.nodeId = opts.config.nodeId;
    this.clusterId = opts.clusterId;
    this.logs = opts.logs;
    this.raftLog = opts.raftLog;
    this.image = opts.image;
    this.loader = opts.loader;
    this.voters = opts.voters;
    const fetchers = new ReplicaFetcherManager({
      nodeId: this.nodeId,
      logger: opts.log.child("replica-fetcher"),
      maxWaitMs: this.config.int("replica.fetch.wait.max.ms"),
      partitionMaxBytes: this.config.int("replica.fetch.max.bytes"),
      responseMaxBytes: this.config.int("replica.fetch.response.max.bytes"),
      backoffMs: this.config.int("replica.fetch.backoff.ms"),
    });
    const isrUpdates = new IsrUpdates({
      nodeId: this.nodeId,
      channel: () => this.channel,
      brokerEpoch: () => this.lifecycle?.brokerEpoch ?? -1n,
      epochOf: (id) => this.image.brokers.get(id)?.epoch ?? -1n,
      logger: opts.log.child("isr"),
    });
    this.replicas = new ReplicaManager({
      nodeId: this.nodeId,
      config: this.config,
      logs: this.logs,
      log: opts.log,
      fetchers,
      isrUpdates,
      addressOf: (id) => this.interBrokerAddress(id),
      canJoinIsr: (id) => {
        const b = this.image.brokers.get(id);
        return b !== undefined && !b.fenced && !b.inControlledShutdown;
      },
    });
    this.metrics = new BrokerMetrics(
      () => this.replicas.stats(),
      () => {
        const active = this.raft?.isLeader ?? false;
        let offline = 0;
        if (active) {
          for (const t of this.image.topicsById.values())
            for (const p of t.partitions) if (p && p.leader < 0) offline++;
        }
        return {
          ...this.replicas.replicationStats(),
          activeController: active ? 1 : 0,
          offlinePartitions: offline,
        };
      },
    );
    this.replicas.setMetrics(this.metrics);
    const groupLog = opts.log.child("group-coordinator");
    this.groups = new GroupCoordinator({
      config: groupCoordinatorConfig(this.config),
      log: new ReplicaOffsetsLog(this.replicas),
      logger: groupLog,
      numPartitions: this.config.int("offsets.topic.num.partitions"),
    });
    this.offsetsTopic = new OffsetsTopicManager(this, this.groups, groupLog);
    // The coordinator follows the leadership of __consumer_offsets partitions.
    this.replicas.onApplied(() => void this.offsetsTopic.syncLeadership());
    this.localController = new Controller({
      image: this.image,
      journal: new RaftJournal(() => this.raft!),
      defaults: () => this.controllerDefaults(),
    });
    const policy = loadTopicPolicy(this.config);
    if (policy) {
      this.localController.policy = topicPolicyHook(
        policy,
        this.config,
        () => this.image.liveBrokerIds().length,
        opts.log.child("topic-policy"),
      );
    }
    const uncleanAllowed = (t: { configs: Map<string, string> }) =>
      (t.configs.get("unclean.leader.election.enable") ??
        String(this.config.bool("unclean.leader.election.enable"))) === "true";
    this.clusterControl = new ClusterControl({
      controller: this.localController,
      selfId: this.nodeId,
      sessionTimeoutMs: this.config.int("broker.session.timeout.ms"),
      nextBrokerEpoch: () => BigInt(this.raftLog.endOffset),
      uncleanAllowed,
      logger: opts.log.child("controller"),
    });
    this.replicationControl = new ReplicationControl({
      controller: this.localController,
      cluster: this.clusterControl,
      uncleanAllowed,
      logger: opts.log.child("controller"),
    });
    this.controller = new ActiveController({
      nodeId: this.nodeId,
      local: this.localController,
      raft: () => this.raft,
      channel: () => this.channel,
      image: this.image,
      brokerEpoch: () => this.lifecycle?.brokerEpoch ?? -1n,
    });
    this.router = new RequestRouter<Broker>(this, HANDLERS, {
      onRequest: (api, version, seconds) => this.metrics.onRequest(api, version, seconds),
    });
    this.controllerRouter = new RequestRouter<Broker>(this, CONTROLLER_HANDLERS);
    for (const h of CONTROLLER_HANDLERS) {
      this.controllerHandlers.set(h.api.apiKey, h as unknown as Handler<unknown, unknown, Broker>);
    }
  }

  static async start(config: BrokerConfig, log: Logger): Promise<Broker> {
    const started = Date.now();
    const configured = parseVoters(config.list("controller.quorum.voters"));
    const roles = config.list("process.roles");
    const singleNode = configured.size === 0;
    // Alone, this node is the whole quorum; it never needs its own address.
    const voters: VoterSet = singleNode
      ? new Map([[config.nodeId, { host: "127.0.0.1", port: 0 }]])
      : configured;
    const metadataDir = config.string("metadata.log.dir") ?? config.logDirs()[0];
    const raftLog = await RaftLog.open(metadataDir, log.child("metadata"));
    const image = new MetadataImage();
    const ref: { broker?: Broker } = {};
    const loader = new MetadataLoader({
      image,
      publish: async (changes) => {
        if (ref.broker) await ref.broker.replicas.apply(changes);
      },
      logger: log.child("metadata"),
      afterBatch: (bytes) => ref.broker?.maybeSnapshot(bytes),
      onLeaderChange: (leader) => ref.broker?.onQuorumLeaderChange(leader.leaderId, leader.epoch),
    });
    // What this node knows is committed: everything, for a quorum of one; else up to
    // the high watermark it last recorded. The rest comes from the quorum.
    const committed =
      voters.size === 1 && voters.has(config.nodeId) ? raftLog.endOffset : await raftLog.readHighWatermark();
    const replayed = await replayCommitted(raftLog, committed, loader);
    const logs = await LogManager.open({
      logDirs: config.logDirs(),
      nodeId: config.nodeId,
      clusterId: singleNode ? undefined : clusterIdFor(configured),
      logger: log.child("log"),
      configFor: (topic) => {
        const t = image.topicsByName.get(topic);
        return t ? logConfigForTopic(config, t) : undefined;
      },
      highWatermarkOf: (topic, partition) => ref.broker?.replicas.get(topic, partition)?.highWatermark,
      retentionCheckIntervalMs: config.int("log.retention.check.interval.ms"),
      producerIdExpirationMs: config.int("producer.id.expiration.ms"),
      cleanerEnable: config.bool("log.cleaner.enable"),
      cleanerBackoffMs: config.int("log.cleaner.backoff.ms"),
      cleanerDedupeBufferSize: config.int("log.cleaner.dedupe.buffer.size"),
      cleanerMinCleanableRatio: config.get("log.cleaner.min.cleanable.ratio") as number,
    });
    const broker = new Broker({
      config,
      log,
      clusterId: logs.clusterId,
      logs,
      raftLog,
      image,
      loader,
      voters,
    });
    ref.broker = broker;
    await broker.replicas.start();
    // Everything replayed so far, as if it had just been applied.
    await broker.replicas.apply(
      [...image.topicsById.values()].flatMap((topic) =>
        topic.partitions
          .filter((p) => p)
          .map((partition) => ({ kind: "partition-changed" as const, topic, partition })),
      ),
    );
    // Voters must answer the quorum before this node can catch up: the controller listener comes first.
    await broker.listenController();
    broker.raft = await RaftClient.start({
      nodeId: config.nodeId,
      voters,
      log: raftLog,
      logger: log.child("raft"),
      listener: loader,
      appliedOffset: replayed,
      clusterId: null,
      electionTimeoutMs: config.int("controller.quorum.election.timeout.ms"),
      electionBackoffMaxMs: config.int("controller.quorum.election.backoff.max.ms"),
      fetchTimeoutMs: config.int("controller.quorum.fetch.timeout.ms"),
      requestTimeoutMs: config.int("controller.quorum.request.timeout.ms"),
      idleIntervalMs: config.int("metadata.max.idle.interval.ms"),
    });
    broker.channel = new ControllerChannel({
      nodeId: config.nodeId,
      voters,
      activeId: () => broker.raft?.leaderAndEpoch.leaderId ?? -1,
      local: (api, version, body) => broker.dispatchLocally(api, version, body),
      logger: log.child("controller-channel"),
      requestTimeoutMs: config.int("controller.quorum.request.timeout.ms"),
    });
    if (!(await broker.raft.waitForCatchUp(CATCH_UP_TIMEOUT_MS))) {
      log.warn("the metadata log has not caught up with the quorum yet; starting anyway", {
        applied: broker.raft.appliedOffset,
        highWatermark: broker.raft.highWatermark,
      });
    }
    await broker.deleteStrayLogs();
    if (roles.includes("broker")) {
      // Listen first: a listener on port 0 is advertised with the port it actually got.
      await broker.listen();
      await broker.register();
    }
    const listeners = [...(broker.server?.boundPorts ?? []), ...(broker.controllerServer?.boundPorts ?? [])]
      .map(([name, port]) => {
        const l = config.allListeners().find((x) => x.name === name);
        return `${name}://${l?.host || "0.0.0.0"}:${port}`;
      })
      .join(", ");
    log.info(
      `Capstan broker ${broker.nodeId} started in ${Date.now() - started} ms, listening on ${listeners}`,
      {
        clusterId: broker.clusterId,
        logDirs: config.logDirs().join(","),
        topics: broker.image.topicsByName.size,
        voters: [...voters.keys()].join(","),
        activeController: broker.raft.leaderAndEpoch.leaderId,
      },
    );
    return broker;
  }

  /** Logs on disk for partitions the metadata no longer has (deleted while this broker was down). */
  private async deleteStrayLogs(): Promise<void> {
    for (const l of this.logs.allLogs()) {
      if (this.replicas.get(l.topic, l.partition)) continue;
      this.log.warn("deleting a stray partition log the metadata does not know", {
        partition: `${l.topic}-${l.partition}`,
        dir: l.dir,
      });
      await this.logs.deleteLog(l.topic, l.partition);
    }
  }

  /** Registers with the active controller and waits (a while) to be unfenced. */
  private async register(): Promise<void> {
    const lifecycle = new BrokerLifecycle({
      nodeId: this.nodeId,
      clusterId: this.clusterId,
      channel: this.channel!,
      listeners: () =>
        this.config.advertisedListeners().map((l) => ({
          name: l.name,
          host: l.host,
          port: l.port === 0 ? (this.boundPorts().get(l.name) ?? 0) : l.port,
          securityProtocol: 0,
        })),
      rack: this.config.string("broker.rack"),
      heartbeatIntervalMs: this.config.int("broker.heartbeat.interval.ms"),
      metadataOffset: () => this.raft?.appliedOffset ?? 0,
      logger: this.log.child("lifecycle"),
    });
    this.lifecycle = lifecycle;
    lifecycle.start();
    if (!(await lifecycle.waitUnfenced(CATCH_UP_TIMEOUT_MS))) {
      this.log.warn("not unfenced by the controller yet; serving anyway");
    }
  }

  private async listen(): Promise<void> {
    const server = new SocketServer({
      maxRequestSize: this.config.int("socket.request.max.bytes"),
      idleMs: this.config.int("connections.max.idle.ms"),
      dispatch: (frame, conn) => this.router.dispatch(frame, conn),
      log: this.log.child("network"),
      onConnectionCountChange: (listener, delta) => this.metrics.connections.inc({ listener }, delta),
    });
    await server.listen(this.config.listeners());
    this.server = server;
    const metricsListener = this.config.string("capstan.metrics.listener");
    if (metricsListener) {
      const m = /^https?:\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(metricsListener);
      if (!m) throw new Error(`capstan.metrics.listener: ${metricsListener} is not http://host:port`);
      const port = await this.metrics.listen(m[1], Number(m[2]), this.log);
      this.log.info(`metrics on http://${m[1] || "0.0.0.0"}:${port}/metrics`);
    }
  }

  /** The CONTROLLER listener: the quorum's APIs and the controller's, for the other nodes. */
  private async listenController(): Promise<void> {
    const listeners = this.config.controllerListeners();
    if (listeners.length === 0) return;
    const server = new SocketServer({
      maxRequestSize: this.config.int("socket.request.max.bytes"),
      idleMs: 0,
      dispatch: (frame, conn) => this.controllerRouter.dispatch(frame, conn),
      log: this.log.child("controller-network"),
    });
    await server.listen(listeners);
    this.controllerServer = server;
  }

  /** Runs a controller API here, as if it had come in on the controller listener. */
  private async dispatchLocally(api: ApiDefinition, version: number, body: unknown): Promise<unknown> {
    const handler = this.controllerHandlers.get(api.apiKey);
    if (!handler) throw new Error(`no local handler for ${api.name}`);
    const ctx: RequestContext<Broker> = {
      header: { requestApiKey: api.apiKey, requestApiVersion: version, correlationId: 0, clientId: "local" },
      apiVersion: version,
      connection: { id: "local", remoteAddress: "local", listener: "CONTROLLER" },
      broker: this,
    };
    return handler.handle(ctx, body);
  }

  /** Sends a request to the active controller (handled here if this process is it). */
  forwardToController<Req, Res>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: Req,
    notController: (res: Res) => boolean,
  ): Promise<Res> {
    if (!this.channel) throw new Error("the controller channel is not open yet");
    return this.channel.send(api, version, body, { deadlineMs: Date.now() + 30_000, notController });
  }

  /** Whether this process is the active controller, with every earlier change applied. */
  async isActiveController(): Promise<boolean> {
    const raft = this.raft;
    if (!raft?.isLeader) return false;
    try {
      await raft.leaderCaughtUp();
      return raft.isLeader;
    } catch {
      return false;
    }
  }

  /** The metadata quorum elected a leader: the active controller's duties start or stop here. */
  private onQuorumLeaderChange(leaderId: number, epoch: number): void {
    for (const t of this.controllerTimers) clearInterval(t);
    this.controllerTimers = [];
    if (leaderId !== this.nodeId) return;
    this.activeEpoch = epoch;
    void (async () => {
      const raft = this.raft;
      if (!raft) return;
      try {
        await raft.leaderCaughtUp();
      } catch {
        return;
      }
      if (this.activeEpoch !== epoch || !raft.isLeader || this.stopping) return;
      this.log.info("this node is the active controller", { epoch });
      this.clusterControl.activate(Date.now());
      const session = this.config.int("broker.session.timeout.ms");
      this.controllerTimers.push(
        setInterval(
          () => {
            void this.clusterControl.fenceExpired().catch(() => undefined);
          },
          Math.max(100, Math.min(1000, Math.floor(session / 4))),
        ),
      );
      if (this.config.bool("auto.leader.rebalance.enable")) {
        this.controllerTimers.push(
          setInterval(
            () => void this.clusterControl.rebalanceLeaders().catch(() => undefined),
            this.config.int("leader.imbalance.check.interval.seconds") * 1000,
          ),
        );
      }
    })();
  }

  /** Takes a snapshot of the image once enough has been written since the last one. */
  private maybeSnapshot(bytes: number): void {
    this.snapshotBytes += bytes;
    if (this.snapshotBytes < this.config.int("metadata.log.max.record.bytes.between.snapshots")) return;
    this.snapshotBytes = 0;
    const endOffset = this.loader.nextOffset;
    const values = imageRecords(this.image).map(encodeMetadataRecord);
    setImmediate(() => {
      this.raft?.createSnapshot(endOffset, values).catch((e: unknown) => {
        this.log.warn("metadata snapshot failed", { error: e instanceof Error ? e.message : String(e) });
      });
    });
  }

  /** Where broker `id` takes replica fetches: its inter-broker listener. */
  private interBrokerAddress(id: number): NodeAddress | undefined {
    const b = this.image.brokers.get(id);
    if (!b) return undefined;
    const name = this.config.string("inter.broker.listener.name") ?? this.config.listeners()[0]?.name;
    const ep = b.endpoints.find((e) => e.name === name) ?? b.endpoints[0];
    return ep ? { host: ep.host, port: ep.port } : undefined;
  }

  /** The ports actually bound, by listener name. */
  boundPorts(): ReadonlyMap<string, number> {
    return this.server?.boundPorts ?? new Map();
  }

  advertisedApis(listener?: string): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    const controller = this.config.controllerListeners().some((l) => l.name === listener);
    return (controller ? this.controllerRouter : this.router).advertised();
  }

  controllerDefaults(): ControllerDefaults {
    return {
      numPartitions: this.config.int("num.partitions"),
      defaultReplicationFactor: this.config.int("default.replication.factor"),
      deleteTopicEnable: this.config.bool("delete.topic.enable"),
    };
  }

  /**
   * The broker the Metadata response names as controller: the active controller when it
   * is a live broker clients can reach (combined mode), else some live broker, which
   * forwards controller requests (as KRaft brokers do).
   */
  controllerId(): number {
    const active = this.raft?.leaderAndEpoch.leaderId ?? -1;
    const live = this.image.liveBrokerIds();
    if (live.includes(active)) return active;
    return live[0] ?? -1;
  }

  /** Live brokers with their address on the listener the client came in on. */
  brokersFor(listener: string): MetadataResponseBroker[] {
    const out: MetadataResponseBroker[] = [];
    for (const b of this.image.brokers.values()) {
      if (b.fenced) continue;
      const ep = b.endpoints.find((e) => e.name === listener) ?? b.endpoints[0];
      if (ep) out.push({ nodeId: b.id, host: ep.host, port: ep.port, rack: b.rack });
    }
    return out.sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Topics created because a client asked for them in Metadata (auto.create.topics.enable). */
  async autoCreateTopics(names: string[]): Promise<TopicResult[]> {
    const results = await this.controller.createTopics(
      names.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] })),
      false,
    );
    for (const r of results) {
      if (r.topic)
        this.log.info("auto-created topic", { topic: r.name, partitions: r.topic.partitions.length });
    }
    await this.replicas.apply([]);
    return results;
  }

  /** Calls `fn` once when shutdown starts (long polls end early). */
  onStopping(fn: () => void): () => void {
    this.stoppingListeners.add(fn);
    return () => this.stoppingListeners.delete(fn);
  }

  async shutdown(): Promise<void> {
    if (this.stopping) return;
    // Controlled shutdown: the controller moves this broker's leaderships away first
    // (pointless when no other broker is there to take them).
    if (this.image.liveBrokerIds().some((id) => id !== this.nodeId)) {
      await this.lifecycle?.controlledShutdown(this.config.int("controlled.shutdown.timeout.ms"));
    }
    this.stopping = true;
    for (const fn of this.stoppingListeners) fn();
    for (const t of this.controllerTimers) clearInterval(t);
    // Held JoinGroup/SyncGroup requests are answered NOT_COORDINATOR; group timers stop.
    this.groups.shutdown();
    await this.lifecycle?.stop();
    await this.server?.close();
    await this.metrics.close();
    await this.replicas.apply([]);
    await this.replicas.stop();
    // A leader hands the quorum over before it goes.
    await this.raft?.close();
    this.channel?.close();
    await this.controllerServer?.close();
    await this.logs.shutdown();
    this.log.info(`Capstan broker ${this.nodeId} shut down cleanly`);
  }
}

/**
 * The cluster id of a multi-node cluster whose log dirs are not formatted yet: derived
 * from the voter set, so every broker of the cluster arrives at the same one.
 */
export function clusterIdFor(voters: VoterSet): string {
  const text = [...voters]
    .sort(([a], [b]) => a - b)
    .map(([id, a]) => `${id}@${a.host}:${a.port}`)
    .join(",");
  return uuidFromBytes(createHash("sha256").update(`capstan:${text}`).digest(), 0);
}
