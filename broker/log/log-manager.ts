// The broker's partition logs across its log dirs (log.dirs), as Kafka's LogManager
// runs them: at start it checks each dir's meta.properties, notes whether the last
// shutdown was clean (the .kafka_cleanshutdown marker) and loads every <topic>-<p>
// directory, a bounded number at a time per dir; while running it applies retention,
// writes the recovery-point and log-start-offset checkpoints, flushes per flush.ms and
// runs the log cleaner (compaction, log-cleaner.ts); at shutdown it closes every log,
// writes the checkpoints and leaves the marker, so the next start skips recovery.
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { createLogger, type Logger } from "../../lib/logger.ts";
import { randomUuid } from "../../protocol/wire/uuid.ts";
import { KafkaError } from "../errors.ts";
import { fsyncDir, readFileIfExists, writeFileAtomically } from "./atomic-file.ts";
import {
  MalformedCheckpointError,
  readMetaProperties,
  readOffsetCheckpoint,
  writeMetaProperties,
  writeOffsetCheckpoint,
  type OffsetCheckpointEntry,
} from "./checkpoints.ts";
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  RECOVERY_POINT_CHECKPOINT_FILE,
  deleteDirName,
  isDeleteDirName,
  parsePartitionDirName,
  partitionDirName,
} from "./file-names.ts";
import { Log } from "./log.ts";
import { LogCleaner } from "./log-cleaner.ts";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log-config.ts";
import { mapLimit } from "./serial-queue.ts";

/** The KRaft metadata log lives in a log dir too, but is not a partition this manager owns. */
export const METADATA_TOPIC = "__cluster_metadata";

export interface LogManagerOptions {
  /** log.dirs */
  logDirs: readonly string[];
  /** node.id, checked against (or written to) each dir's meta.properties. */
  nodeId: number;
  /** The cluster id the dirs must belong to; if unset, the one in meta.properties (or a new one). */
  clusterId?: string;
  logger?: Logger;
  /** Settings for logs loaded at start whose topic configConfigFor does not know; default Kafka's. */
  defaultConfig?: LogConfig;
  /** A topic's settings (its overrides over the broker defaults), for logs loaded at start. */
  configFor?: (topic: string) => LogConfig | undefined;
  /** The high watermark of a partition: retention never deletes past it. Default: the log end. */
  highWatermarkOf?: (topic: string, partition: number) => number | undefined;
  /** log.retention.check.interval.ms (default 300000). */
  retentionCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms (default 60000). */
  recoveryPointCheckpointIntervalMs?: number;
  /** log.flush.start.offset.checkpoint.interval.ms (default 60000). */
  logStartOffsetCheckpointIntervalMs?: number;
  /** log.flush.scheduler.interval.ms: how often flush.ms is checked (default never, as Kafka's). */
  flushCheckIntervalMs?: number;
  /** producer.id.expiration.ms (default 86400000) and its check interval (default 600000). */
  producerIdExpirationMs?: number;
  producerIdExpirationCheckIntervalMs?: number;
  /** num.recovery.threads.per.data.dir: logs loaded at once per dir (default 2). */
  recoveryThreadsPerDataDir?: number;
  /** log.cleaner.enable: compact logs whose cleanup.policy includes "compact" (default true). */
  cleanerEnable?: boolean;
  /** log.cleaner.backoff.ms: the cleaner's wait when no log needs cleaning (default 15000). */
  cleanerBackoffMs?: number;
  /** log.cleaner.dedupe.buffer.size: the cleaner's offset map memory, 24 bytes a key (default 128 MiB). */
  cleanerDedupeBufferSize?: number;
  /** log.cleaner.io.buffer.load.factor: how full the offset map may get (default 0.9). */
  cleanerDedupeBufferLoadFactor?: number;
  /**
   * log.cleaner.min.cleanable.ratio: min.cleanable.dirty.ratio for logs whose topic
   * config is not known (no configFor answer, no defaultConfig). Topic configs carry
   * their own value (with this broker property as its default; see topic-config.ts).
   */
  cleanerMinCleanableRatio?: number;
  /** Start the periodic tasks (default true; tests drive them by hand). */
  scheduler?: boolean;
  time?: () => number;
}

interface ManagedLog {
  log: Log;
  logDir: string;
}

/** Kafka's Long.MAX_VALUE "never" as a timer interval: anything this large disables the task. */
const NEVER = Number.MAX_SAFE_INTEGER;
/** setInterval's ceiling (about 24.8 days); longer intervals are treated as "never". */
const MAX_TIMER_MS = 0x7fffffff;

export class LogManager {
  readonly logDirs: readonly string[];
  readonly clusterId: string;
  readonly nodeId: number;
  private readonly logger: Logger;
  private readonly options: LogManagerOptions;
  private readonly time: () => number;
  private readonly logs = new Map<string, ManagedLog>();
  private readonly creating = new Map<string, Promise<Log>>();
  private readonly cleanShutdown = new Map<string, boolean>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly running = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();
  private _cleaner: LogCleaner | null = null;
  private shuttingDown = false;

  private constructor(options: LogManagerOptions, clusterId: string, logger: Logger) {
    this.options = options;
    this.logDirs = options.logDirs.map((d) => path.resolve(d));
    this.clusterId = clusterId;
    this.nodeId = options.nodeId;
    this.logger = logger;
    this.time = options.time ?? Date.now;
  }

  /** Checks the log dirs, loads every partition log in them and starts the periodic tasks. */
  static async open(options: LogManagerOptions): Promise<LogManager> {
    if (options.logDirs.length === 0)
      throw new Error("log.dirs is empty: at least one log directory is needed");
    const logger = options.logger ?? createLogger("log-manager");
    const dirs = options.logDirs.map((d) => path.resolve(d));
    if (new Set(dirs).size !== dirs.length)
      throw new Error(`log.dirs lists a directory twice: ${dirs.join(", ")}`);
    const clusterId = await ensureMetaProperties(dirs, options.nodeId, options.clusterId, logger);
    const manager = new LogManager(options, clusterId, logger);
    await manager.loadLogs();
    if (options.cleanerEnable ?? true) {
      manager._cleaner = await LogCleaner.open({
        logDirs: manager.logDirs,
        logs: () => manager.allLogs(),
        highWatermarkOf: options.highWatermarkOf,
        dedupeBufferSize: options.cleanerDedupeBufferSize,
        dedupeBufferLoadFactor: options.cleanerDedupeBufferLoadFactor,
        backoffMs: options.cleanerBackoffMs,
        logger,
        time: options.time,
      });
    }
    if (options.scheduler ?? true) manager.startScheduler();
    return manager;
  }

  /** The log cleaner (compaction), or null when log.cleaner.enable is false. */
  get cleaner(): LogCleaner | null {
    return this._cleaner;
  }

  /** Whether `dir` (one of logDirs) was shut down cleanly last time. */
  hadCleanShutdown(dir: string): boolean {
    return this.cleanShutdown.get(path.resolve(dir)) ?? false;
  }

  getLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(partitionDirName(topic, partition))?.log;
  }

  allLogs(): Log[] {
    return [...this.logs.values()].map((m) => m.log);
  }

  /** The log dir holding a partition, if it is here. */
  logDirOf(topic: string, partition: number): string | undefined {
    return this.logs.get(partitionDirName(topic, partition))?.logDir;
  }

  /**
   * The partition's log, created in the log dir with the fewest partitions if it does
   * not exist yet. The topic id is recorded in (or checked against) partition.metadata;
   * the config replaces the log's current settings.
   */
  async getOrCreateLog(topic: string, partition: number, topicId?: string, config?: LogConfig): Promise<Log> {
    if (this.shuttingDown) throw new KafkaError("KAFKA_STORAGE_ERROR", "the log manager is shutting down");
    if (topic === METADATA_TOPIC)
      throw new KafkaError("INVALID_TOPIC_EXCEPTION", `${topic} is the metadata log`);
    const key = partitionDirName(topic, partition);
    const existing = this.logs.get(key);
    if (existing !== undefined) {
      if (topicId !== undefined) await existing.log.assignTopicId(topicId);
      if (config !== undefined) existing.log.updateConfig(config);
      return existing.log;
    }
    let pending = this.creating.get(key);
    if (pending === undefined) {
      pending = this.createLog(topic, partition, topicId, config).finally(() => this.creating.delete(key));
      this.creating.set(key, pending);
    }
    return pending;
  }

  private async createLog(
    topic: string,
    partition: number,
    topicId?: string,
    config?: LogConfig,
  ): Promise<Log> {
    const logDir = this.leastLoadedDir();
    const log = await Log.open(
      path.join(logDir, partitionDirName(topic, partition)),
      config ?? this.configFor(topic),
      {
        logger: this.logger,
        topicId,
        hadCleanShutdown: true,
        time: this.time,
      },
    );
    this.logs.set(partitionDirName(topic, partition), { log, logDir });
    this.logger.info("created log", { topic, partition, dir: log.dir });
    return log;
  }

  /** Kafka's placement: the log dir holding the fewest partitions (ties: the first listed). */
  private leastLoadedDir(): string {
    const counts = new Map(this.logDirs.map((d) => [d, 0]));
    for (const { logDir } of this.logs.values()) counts.set(logDir, (counts.get(logDir) ?? 0) + 1);
    let best = this.logDirs[0];
    for (const d of this.logDirs) if ((counts.get(d) ?? 0) < (counts.get(best) ?? 0)) best = d;
    return best;
  }

  private configFor(topic: string): LogConfig {
    const known = this.options.configFor?.(topic) ?? this.options.defaultConfig;
    if (known !== undefined) return known;
    const ratio = this.options.cleanerMinCleanableRatio;
    return ratio === undefined
      ? { ...DEFAULT_LOG_CONFIG }
      : { ...DEFAULT_LOG_CONFIG, "min.cleanable.dirty.ratio": ratio };
  }

  /** New settings for every partition of a topic. */
  updateTopicConfig(topic: string, config: LogConfig): void {
    for (const { log } of this.logs.values()) if (log.topic === topic) log.updateConfig(config);
  }

  /**
   * Deletes a partition's log as Kafka does: the directory is renamed to
   * <topic>-<partition>.<uuid>-delete (so a crash cannot bring it back) and removed
   * in the background. Does nothing if the partition is not here.
   */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const key = partitionDirName(topic, partition);
    await this.creating.get(key)?.catch(() => undefined);
    const managed = this.logs.get(key);
    if (managed === undefined) return;
    this.logs.delete(key);
    await this._cleaner?.abortCleaning(managed.log);
    await managed.log.closeHandlers();
    await this._cleaner?.forget(managed.log);
    const renamed = path.join(managed.logDir, deleteDirName(topic, partition));
    await rename(managed.log.dir, renamed);
    await fsyncDir(managed.logDir);
    this.logger.info("deleted log", { topic, partition, dir: renamed });
    this.inBackground(rm(renamed, { recursive: true, force: true }), "removing a deleted log directory");
  }

  // ---- loading ----

  private async loadLogs(): Promise<void> {
    const threads = Math.max(1, this.options.recoveryThreadsPerDataDir ?? 2);
    const plans: { logDir: string; clean: boolean; names: string[] }[] = [];
    const seen = new Map<string, string>();
    for (const logDir of this.logDirs) {
      const marker = path.join(logDir, CLEAN_SHUTDOWN_FILE);
      const clean = (await readFileIfExists(marker)) !== null;
      // Deleted before loading, so a crash while loading counts as unclean next time (KAFKA-10471).
      if (clean) {
        await rm(marker, { force: true });
        await fsyncDir(logDir);
      }
      this.cleanShutdown.set(logDir, clean);
      const names: string[] = [];
      for (const entry of await readdir(logDir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        if (isDeleteDirName(entry.name)) {
          this.inBackground(
            rm(path.join(logDir, entry.name), { recursive: true, force: true }),
            "removing a deleted log",
          );
          continue;
        }
        const tp = parsePartitionDirName(entry.name);
        if (tp === null || tp.topic === METADATA_TOPIC) continue;
        const other = seen.get(entry.name);
        if (other !== undefined)
          throw new Error(`duplicate log directories for ${entry.name}: in ${other} and ${logDir}`);
        seen.set(entry.name, logDir);
        names.push(entry.name);
      }
      plans.push({ logDir, clean, names });
    }

    await Promise.all(
      plans.map(async ({ logDir, clean, names }) => {
        const recoveryPoints = await this.readCheckpoint(logDir, RECOVERY_POINT_CHECKPOINT_FILE);
        const logStartOffsets = await this.readCheckpoint(logDir, LOG_START_OFFSET_CHECKPOINT_FILE);
        const started = this.time();
        await mapLimit(names, threads, async (name) => {
          const tp = parsePartitionDirName(name)!;
          const log = await Log.open(path.join(logDir, name), this.configFor(tp.topic), {
            logger: this.logger,
            recoveryPoint: recoveryPoints.get(name),
            logStartOffset: logStartOffsets.get(name),
            hadCleanShutdown: clean,
            time: this.time,
          });
          this.logs.set(name, { log, logDir });
        });
        this.logger.info("loaded logs", {
          dir: logDir,
          logs: names.length,
          cleanShutdown: clean,
          ms: this.time() - started,
        });
      }),
    );
  }

  private async readCheckpoint(logDir: string, file: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    try {
      for (const e of await readOffsetCheckpoint(path.join(logDir, file))) {
        out.set(partitionDirName(e.topic, e.partition), e.offset);
      }
    } catch (e) {
      if (!(e instanceof MalformedCheckpointError)) throw e;
      // Kafka resets to 0 (full recovery) or the first segment; so do we.
      this.logger.warn("ignoring an unreadable checkpoint file", { problem: e.message });
    }
    return out;
  }

  // ---- periodic tasks ----

  private startScheduler(): void {
    const o = this.options;
    this.schedule("retention", o.retentionCheckIntervalMs ?? 300000, () => this.cleanupLogs());
    this.schedule("recovery-point checkpoint", o.recoveryPointCheckpointIntervalMs ?? 60000, () =>
      this.checkpointRecoveryPoints(),
    );
    this.schedule("log-start-offset checkpoint", o.logStartOffsetCheckpointIntervalMs ?? 60000, () =>
      this.checkpointLogStartOffsets(),
    );
    this.schedule("flush", o.flushCheckIntervalMs ?? NEVER, () => this.flushDirtyLogs());
    this.schedule("producer expiration", o.producerIdExpirationCheckIntervalMs ?? 600000, () =>
      this.removeExpiredProducers(),
    );
    this._cleaner?.start();
  }

  /** Runs `task` every `intervalMs`, never overlapping itself; errors are logged. */
  private schedule(name: string, intervalMs: number, task: () => Promise<unknown>): void {
    if (!(intervalMs > 0) || intervalMs > MAX_TIMER_MS) return;
    const timer = setInterval(() => {
      if (this.running.has(name) || this.shuttingDown) return;
      this.running.add(name);
      this.inBackground(
        task().finally(() => this.running.delete(name)),
        name,
      );
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  private inBackground(task: Promise<unknown>, what: string): void {
    const tracked = task.catch((e: unknown) => {
      this.logger.error(`${what} failed`, { error: e instanceof Error ? e.message : String(e) });
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  /** One retention pass over every log (log.retention.check.interval.ms); returns segments deleted. */
  async cleanupLogs(now: number = this.time()): Promise<number> {
    let deleted = 0;
    for (const { log } of [...this.logs.values()]) {
      try {
        deleted += await log.applyRetention(now, this.options.highWatermarkOf?.(log.topic, log.partition));
      } catch (e) {
        this.logger.error("retention failed", {
          log: log.dir,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
    return deleted;
  }

  /** fsyncs logs whose flush.ms has passed (log.flush.scheduler.interval.ms). */
  async flushDirtyLogs(now: number = this.time()): Promise<void> {
    for (const { log } of [...this.logs.values()]) await log.flushIfDue(now);
  }

  async removeExpiredProducers(now: number = this.time()): Promise<void> {
    const expiration = this.options.producerIdExpirationMs ?? 86400000;
    for (const { log } of [...this.logs.values()]) await log.removeExpiredProducers(now, expiration);
  }

  /** Writes recovery-point-offset-checkpoint in every log dir. */
  async checkpointRecoveryPoints(): Promise<void> {
    await this.writeCheckpoints(RECOVERY_POINT_CHECKPOINT_FILE, (log) => log.recoveryPoint);
  }

  /**
   * Writes log-start-offset-checkpoint in every log dir. As in Kafka, only logs whose
   * start is past their first segment's base offset (after DeleteRecords) are listed;
   * for the others the first segment says it.
   */
  async checkpointLogStartOffsets(): Promise<void> {
    await this.writeCheckpoints(LOG_START_OFFSET_CHECKPOINT_FILE, (log) =>
      log.logStartOffset > log.firstSegmentBaseOffset ? log.logStartOffset : null,
    );
  }

  private async writeCheckpoints(file: string, offsetOf: (log: Log) => number | null): Promise<void> {
    await Promise.all(
      this.logDirs.map(async (logDir) => {
        const entries: OffsetCheckpointEntry[] = [];
        for (const m of this.logs.values()) {
          const offset = m.logDir === logDir ? offsetOf(m.log) : null;
          if (offset !== null) entries.push({ topic: m.log.topic, partition: m.log.partition, offset });
        }
        entries.sort((a, b) =>
          a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
        );
        await writeOffsetCheckpoint(path.join(logDir, file), entries);
      }),
    );
  }

  /**
   * Clean shutdown: stops the periodic tasks, closes every log (fsynced, producer
   * snapshots written), writes both checkpoints and then the clean-shutdown marker.
   */
  async shutdown(brokerEpoch = -1): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const t of this.timers) clearInterval(t);
    await this._cleaner?.shutdown();
    await Promise.allSettled([...this.creating.values()]);
    await Promise.all([...this.background]);
    const failures: string[] = [];
    await mapLimit([...this.logs.values()], 8, async ({ log }) => {
      try {
        await log.close();
      } catch (e) {
        failures.push(`${log.dir}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    await this.checkpointRecoveryPoints();
    await this.checkpointLogStartOffsets();
    if (failures.length > 0) {
      // Without the marker the next start recovers, which is what a failed close needs.
      this.logger.error("some logs did not close cleanly; the next start will recover them", { failures });
      return;
    }
    for (const logDir of this.logDirs) {
      await writeFileAtomically(
        path.join(logDir, CLEAN_SHUTDOWN_FILE),
        JSON.stringify({ version: 0, brokerEpoch }),
      );
    }
    this.logger.info("log manager shut down cleanly", { logs: this.logs.size });
  }
}

/**
 * Every log dir gets a meta.properties (version 1) naming the cluster, this node and
 * the dir itself; existing ones must agree on the cluster and node. Kafka requires
 * `kafka-storage.sh format` first; Capstan formats empty dirs itself. Returns the
 * cluster id.
 */
async function ensureMetaProperties(
  dirs: readonly string[],
  nodeId: number,
  expectedClusterId: string | undefined,
  logger: Logger,
): Promise<string> {
  const found = new Map<string, Awaited<ReturnType<typeof readMetaProperties>>>();
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true });
    if (!(await stat(dir)).isDirectory()) throw new Error(`log dir ${dir} is not a directory`);
    found.set(dir, await readMetaProperties(dir));
  }
  const clusterIds = new Set<string>();
  for (const [dir, meta] of found) {
    if (meta === null) continue;
    if (meta.clusterId !== undefined) clusterIds.add(meta.clusterId);
    if (meta.nodeId !== undefined && meta.nodeId !== nodeId) {
      throw new Error(
        `${dir}/meta.properties has node.id ${meta.nodeId}, but this broker is node.id ${nodeId}`,
      );
    }
  }
  if (expectedClusterId !== undefined) clusterIds.add(expectedClusterId);
  if (clusterIds.size > 1) {
    throw new KafkaError(
      "INCONSISTENT_CLUSTER_ID",
      `the log dirs belong to different clusters: ${[...clusterIds].join(", ")}`,
    );
  }
  const clusterId = [...clusterIds][0] ?? randomUuid();
  for (const [dir, meta] of found) {
    if (
      meta !== null &&
      meta.clusterId !== undefined &&
      meta.nodeId !== undefined &&
      meta.directoryId !== undefined
    ) {
      continue;
    }
    await writeMetaProperties(dir, {
      version: 1,
      clusterId,
      nodeId,
      directoryId: meta?.directoryId ?? randomUuid(),
      other: meta?.other ?? {},
    });
    logger.info("formatted log dir", { dir, clusterId, nodeId });
  }
  return clusterId;
}
