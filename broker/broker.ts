// The broker process: opens the logs, replays the metadata log into the image,
// registers itself, and serves the Kafka protocol on its listeners. With no
// controller.quorum.voters it is a single-node cluster of its own, and its own
// controller. Shutdown stops accepting requests, wakes long polls, and closes the
// logs cleanly so the next start needs no recovery.
import { randomUuid } from "../protocol/wire/index.ts";
import type { MetadataResponseBroker } from "../protocol/generated/messages/MetadataResponse.ts";
import type { Logger } from "../lib/logger.ts";
import type { BrokerConfig } from "./config.ts";
import { Controller, type ControllerDefaults, type TopicResult } from "./metadata/controller.ts";
import { type MetadataChange, MetadataImage } from "./metadata/image.ts";
import { MetadataLogJournal } from "./metadata/log-journal.ts";
import { LogManager } from "./log/log-manager.ts";
import { ReplicaManager, logConfigForTopic } from "./replica-manager.ts";
import { RequestRouter } from "./request-router.ts";
import { SocketServer } from "./network/server.ts";
import { BrokerMetrics } from "./metrics.ts";
import { HANDLERS } from "./handlers/index.ts";
import { loadTopicPolicy, topicPolicyHook } from "./topic-policy.ts";
import { GroupCoordinator } from "./group/coordinator.ts";
import { ReplicaOffsetsLog } from "./group/offsets-log.ts";
import { OffsetsTopicManager } from "./group/offsets-topic.ts";
import { groupCoordinatorConfig } from "./group/settings.ts";

export class Broker {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly nodeId: number;
  readonly clusterId: string;
  readonly image: MetadataImage;
  readonly controller: Controller;
  readonly replicas: ReplicaManager;
  readonly metrics: BrokerMetrics;
  /** The group coordinator: consumer groups and their committed offsets (broker/group). */
  readonly groups: GroupCoordinator;
  /** Creates __consumer_offsets on demand and loads the partitions this broker leads. */
  readonly offsetsTopic: OffsetsTopicManager;
  private readonly logs: LogManager;
  private readonly journal: MetadataLogJournal;
  private readonly router: RequestRouter<Broker>;
  private server?: SocketServer;
  private readonly stoppingListeners = new Set<() => void>();
  stopping = false;

  private constructor(opts: {
    config: BrokerConfig;
    log: Logger;
    logs: LogManager;
    journal: MetadataLogJournal;
    image: MetadataImage;
  }) {
    this.config = opts.config;
    this.log = opts.log;
    this.nodeId = opts.config.nodeId;
    this.clusterId = opts.logs.clusterId;
    this.logs = opts.logs;
    this.journal = opts.journal;
    this.image = opts.image;
    this.replicas = new ReplicaManager({
      nodeId: this.nodeId,
      config: this.config,
      logs: this.logs,
      log: opts.log,
    });
    this.metrics = new BrokerMetrics(() => this.replicas.stats());
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
    this.controller = new Controller({
      image: this.image,
      journal: this.journal,
      defaults: () => this.controllerDefaults(),
      onChange: (changes) => this.replicas.apply(changes),
    });
    const policy = loadTopicPolicy(this.config);
    if (policy) {
      this.controller.policy = topicPolicyHook(
        policy,
        this.config,
        () => this.image.liveBrokerIds().length,
        opts.log.child("topic-policy"),
      );
    }
    this.router = new RequestRouter<Broker>(this, HANDLERS, {
      onRequest: (api, version, seconds) => this.metrics.onRequest(api, version, seconds),
    });
  }

  static async start(config: BrokerConfig, log: Logger): Promise<Broker> {
    const started = Date.now();
    const metadataDir = config.string("metadata.log.dir") ?? config.logDirs()[0];
    const journal = await MetadataLogJournal.open(metadataDir, log.child("metadata"));
    // The image comes first: the log manager needs each topic's configs to load its logs.
    const image = new MetadataImage();
    // Retention asks for high watermarks, which live in the replica manager built below.
    const ref: { broker?: Broker } = {};
    const changes: MetadataChange[] = [];
    await journal.replay((rec, offset) => changes.push(...image.apply(rec, offset)));
    const logs = await LogManager.open({
      logDirs: config.logDirs(),
      nodeId: config.nodeId,
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
    const broker = new Broker({ config, log, logs, journal, image });
    ref.broker = broker;
    await broker.replicas.apply(changes);
    await broker.deleteStrayLogs();
    // Listen first: a listener on port 0 is advertised with the port it actually got.
    await broker.listen();
    await broker.register();
    const listeners = [...(broker.server?.boundPorts ?? [])]
      .map(
        ([name, port]) =>
          `${name}://${config.listeners().find((l) => l.name === name)?.host || "0.0.0.0"}:${port}`,
      )
      .join(", ");
    log.info(
      `Capstan broker ${broker.nodeId} started in ${Date.now() - started} ms, listening on ${listeners}`,
      {
        clusterId: broker.clusterId,
        logDirs: config.logDirs().join(","),
        topics: broker.image.topicsByName.size,
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

  private async register(): Promise<void> {
    await this.controller.registerBroker({
      type: "RegisterBroker",
      value: {
        brokerId: this.nodeId,
        isMigratingZkBroker: false,
        incarnationId: randomUuid(),
        brokerEpoch: 0n,
        endPoints: this.config
          .advertisedListeners()
          .map((l) => ({
            ...l,
            port: l.port === 0 ? (this.boundPorts().get(l.name) ?? 0) : l.port,
          }))
          .map((l) => ({
            name: l.name,
            host: l.host,
            port: l.port,
            securityProtocol: 0,
          })),
        features: [],
        rack: this.config.string("broker.rack"),
        fenced: false,
        inControlledShutdown: false,
        logDirs: [],
      },
    });
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

  /** The ports actually bound, by listener name. */
  boundPorts(): ReadonlyMap<string, number> {
    return this.server?.boundPorts ?? new Map();
  }

  advertisedApis(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return this.router.advertised();
  }

  controllerDefaults(): ControllerDefaults {
    return {
      numPartitions: this.config.int("num.partitions"),
      defaultReplicationFactor: this.config.int("default.replication.factor"),
      deleteTopicEnable: this.config.bool("delete.topic.enable"),
    };
  }

  /** The broker the Metadata response names as controller: the active controller, here this node. */
  controllerId(): number {
    return this.nodeId;
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
    this.stopping = true;
    for (const fn of this.stoppingListeners) fn();
    // Held JoinGroup/SyncGroup requests are answered NOT_COORDINATOR; group timers stop.
    this.groups.shutdown();
    await this.server?.close();
    await this.metrics.close();
    await this.replicas.apply([]);
    await this.journal.close();
    await this.logs.shutdown();
    this.log.info(`Capstan broker ${this.nodeId} shut down cleanly`);
  }
}
