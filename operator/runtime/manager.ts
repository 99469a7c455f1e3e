// The controller runtime: one manager per operator process runs the informers, the work
// queue and leader election, and calls reconcilers (KafkaCluster today, KafkaTopic next)
// with the key of the object to converge. Reconcilers are level-triggered: they get a
// key, never an event, read the current state from the caches, and make the world match;
// an event only says "look again".
//
// Every instance keeps its caches warm, leader or not, so a standby is ready and takes
// over without relisting; only the leader runs reconciles. A periodic resync queues
// every object again, which repairs anything a missed event or an external system
// (the brokers) let drift.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../../lib/logger.ts";
import { createLogger } from "../../lib/logger.ts";
import { EventRecorder } from "./events.ts";
import { Informer } from "./informer.ts";
import type { KubeObject } from "./kube-client.ts";
import { KubeClient } from "./kube-client.ts";
import { LeaderElector } from "./leader-election.ts";
import { OperatorMetrics } from "./metrics.ts";
import type { ResourceType } from "./resources.ts";
import { StatusWriter } from "./status-writer.ts";
import type { WorkResult } from "./work-queue.ts";
import { WorkQueue } from "./work-queue.ts";

export interface ObjectKey {
  namespace: string;
  name: string;
}

/** Read access to the manager's caches (for mapping a watched object to primary keys). */
export interface CacheReader {
  cache<T extends KubeObject>(type: ResourceType, labelSelector?: string): Informer<T>;
}

/**
 * A secondary resource a reconciler watches, and which primary objects its changes
 * concern: e.g. a StatefulSet → its KafkaCluster by label, or (for a topic reconciler) a
 * KafkaCluster → every KafkaTopic labelled with it, looked up in the caches.
 */
export interface WatchSpec {
  type: ResourceType;
  labelSelector?: string;
  map: (obj: KubeObject, caches: CacheReader) => ObjectKey[];
}

/** What a reconcile gets besides the key. */
export interface ReconcileContext {
  client: KubeClient;
  events: EventRecorder;
  status: StatusWriter;
  metrics: OperatorMetrics;
  log: Logger;
  /** The cache of a type the reconciler declared (primary or watched). */
  cache<T extends KubeObject>(type: ResourceType, labelSelector?: string): Informer<T>;
}

export interface Reconciler {
  /** The primary kind, e.g. KafkaCluster (metrics and log label). */
  readonly kind: string;
  readonly primary: ResourceType;
  readonly watches?: readonly WatchSpec[];
  /** Converges one object; throw to retry with backoff, return requeueAfterMs to look again later. */
  reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<WorkResult | void>;
}

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  /** Watched namespaces; all when empty or unset. */
  namespaces?: readonly string[];
  /** This instance's name in the lease and in Events (the pod name in a cluster). */
  identity: string;
  /** false: reconcile without electing a leader (a single replica). */
  leaderElection: LeaderElectionConfig | false;
  concurrency?: number;
  /** Every object is queued again this often. */
  resyncPeriodMs?: number;
  log?: Logger;
  metrics?: OperatorMetrics;
  /**
   * Called when leadership is lost: another instance may be reconciling already, so the
   * process should exit and start over as a candidate (what controller-runtime does).
   */
  onLeadershipLost?: () => void;
}

const SEP = "\t";

export class Manager {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly status: StatusWriter;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  private readonly opts: ManagerOptions;
  private readonly reconcilers = new Map<string, Reconciler>();
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly queue: WorkQueue;
  private readonly elector: LeaderElector | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private working = false;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.log = opts.log ?? createLogger("operator");
    this.metrics = opts.metrics ?? new OperatorMetrics();
    this.client = new KubeClient(opts.kubeConfig);
    this.events = new EventRecorder(this.client, opts.identity, this.log);
    this.status = new StatusWriter(this.client);
    this.queue = new WorkQueue({
      concurrency: opts.concurrency ?? 4,
      handler: (key) => this.handle(key),
      onError: (key, err, retryInMs) => {
        const { kind, namespace, name } = decode(key);
        this.metrics.reconcileErrors.inc({ kind });
        this.log.error("reconcile failed", { kind, namespace, name, error: err, retryInMs });
      },
      onDone: (key, result, seconds) => {
        const { kind, namespace, name } = decode(key);
        this.log.debug("reconciled", { kind, namespace, name, result, seconds });
        this.metrics.reconciles.inc({ kind, result });
        this.metrics.reconcileSeconds.observe({ kind }, seconds);
      },
    });
    this.metrics.bindQueue(() => ({ depth: this.queue.depth, active: this.queue.active }));
    this.metrics.bindInformers(() =>
      [...this.informers.values()].map((i) => ({
        resource: i.type.plural + (i.labelSelector ? `{${i.labelSelector}}` : ""),
        synced: i.synced,
      })),
    );
    if (opts.leaderElection) {
      const le = opts.leaderElection;
      // Lease requests must answer well within the renew deadline.
      const leaseClient = new KubeClient(opts.kubeConfig, { timeoutMs: (le.renewDeadlineMs ?? 10_000) / 2 });
      this.elector = new LeaderElector({
        client: leaseClient,
        namespace: le.namespace,
        name: le.name,
        identity: opts.identity,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        log: this.log.child("leader"),
        onStartedLeading: () => void this.startWorking(),
        onStoppedLeading: () => this.lostLeadership(),
      });
    }
    this.metrics.leader.set(0);
  }

  /** Adds a reconciler; all must be registered before start(). */
  register(r: Reconciler): void {
    if (this.started) throw new Error("register reconcilers before start()");
    if (this.reconcilers.has(r.kind)) throw new Error(`a reconciler for ${r.kind} is registered already`);
    this.reconcilers.set(r.kind, r);
    this.informer(r.primary).on((_event, obj) => {
      const m = obj.metadata ?? {};
      if (m.name) this.enqueue(r.kind, { namespace: m.namespace ?? "", name: m.name });
    });
    for (const w of r.watches ?? []) {
      this.informer(w.type, w.labelSelector).on((_event, obj) => {
        if (!this.working) return;
        for (const key of w.map(obj, this.reader)) this.enqueue(r.kind, key);
      });
    }
  }

  /** Queues a reconcile of one object (ignored while this instance is not the leader). */
  enqueue(kind: string, key: ObjectKey, afterMs = 0): void {
    if (!this.working) return;
    const k = [kind, key.namespace, key.name].join(SEP);
    if (afterMs > 0) this.queue.addAfter(k, afterMs);
    else this.queue.add(k);
  }

  /** Starts the informers and campaigns for leadership (or starts reconciling without it). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all([...this.informers.values()].map((i) => i.start()));
    if (this.elector) this.elector.start();
    else void this.startWorking();
  }

  /** True when every cache is complete: the instance can serve, as leader or standby. */
  get ready(): boolean {
    return [...this.informers.values()].every((i) => i.synced);
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.working;
  }

  /** Resolves once every cache is complete (or rejects after timeoutMs). */
  async waitForSync(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (this.stopping) throw new Error("the manager is stopping");
      if (Date.now() > deadline) {
        const pending = [...this.informers.values()].filter((i) => !i.synced).map((i) => i.type.plural);
        throw new Error(`caches not synced after ${timeoutMs} ms: ${pending.join(", ")}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Graceful shutdown: stop watching, let running reconciles finish (queued ones are
   * dropped; the next leader relists), then release the lease so a standby takes over
   * at once.
   */
  stop(timeoutMs = 30_000): Promise<void> {
    this.stopping ??= (async () => {
      this.working = false;
      clearInterval(this.resyncTimer);
      await Promise.all([...this.informers.values()].map((i) => i.stop()));
      await this.queue.shutdown(timeoutMs);
      if (this.elector) await this.elector.stop();
      this.metrics.leader.set(0);
      this.log.info("operator stopped");
    })();
    return this.stopping;
  }

  /** Only caches some reconciler declared: they are the ones started and kept in sync. */
  private readonly reader: CacheReader = {
    cache: <T extends KubeObject>(type: ResourceType, labelSelector?: string) => {
      const inf = this.informers.get(`${type.group}/${type.plural}?${labelSelector ?? ""}`);
      if (!inf)
        throw new Error(`no reconciler watches ${type.plural}${labelSelector ? ` {${labelSelector}}` : ""}`);
      return inf as unknown as Informer<T>;
    },
  };

  private informer(type: ResourceType, labelSelector?: string): Informer<KubeObject> {
    const id = `${type.group}/${type.plural}?${labelSelector ?? ""}`;
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer<KubeObject>(this.opts.kubeConfig, this.client, type, {
        namespaces: this.opts.namespaces,
        labelSelector,
        log: this.log,
      });
      this.informers.set(id, inf);
    }
    return inf;
  }

  private context(r: Reconciler, key: ObjectKey): ReconcileContext {
    const declared = new Set([r.primary, ...(r.watches ?? []).map((w) => w.type)]);
    return {
      client: this.client,
      events: this.events,
      status: this.status,
      metrics: this.metrics,
      log: this.log.child(r.kind.toLowerCase(), { namespace: key.namespace, name: key.name }),
      cache: <T extends KubeObject>(type: ResourceType, labelSelector?: string) => {
        if (!declared.has(type)) throw new Error(`${r.kind} does not watch ${type.plural}`);
        const sel = labelSelector ?? (r.watches ?? []).find((w) => w.type === type)?.labelSelector;
        return this.informer(type, type === r.primary ? undefined : sel) as unknown as Informer<T>;
      },
    };
  }

  private async handle(k: string): Promise<WorkResult | void> {
    const { kind, namespace, name } = decode(k);
    const r = this.reconcilers.get(kind);
    if (!r || !this.working) return;
    return r.reconcile({ namespace, name }, this.context(r, { namespace, name }));
  }

  private async startWorking(): Promise<void> {
    if (this.working || this.stopping) return;
    try {
      await this.waitForSync(Number.MAX_SAFE_INTEGER);
    } catch {
      return; // stopping
    }
    if (this.stopping || (this.elector && !this.elector.isLeader)) return;
    this.working = true;
    this.metrics.leader.set(1);
    this.log.info("reconciling", { reconcilers: [...this.reconcilers.keys()] });
    this.queue.start();
    this.resyncAll();
    const period = this.opts.resyncPeriodMs ?? 10 * 60_000;
    this.resyncTimer = setInterval(() => this.resyncAll(), period);
    this.resyncTimer.unref();
  }

  private resyncAll(): void {
    for (const r of this.reconcilers.values()) {
      for (const obj of this.informer(r.primary).list()) {
        const m = obj.metadata ?? {};
        if (m.name) this.enqueue(r.kind, { namespace: m.namespace ?? "", name: m.name });
      }
    }
  }

  private lostLeadership(): void {
    this.working = false;
    this.metrics.leader.set(0);
    clearInterval(this.resyncTimer);
    void this.queue.shutdown(0);
    if (this.opts.onLeadershipLost) this.opts.onLeadershipLost();
    else void this.stop();
  }
}

function decode(key: string): { kind: string; namespace: string; name: string } {
  const [kind, namespace, name] = key.split(SEP);
  return { kind, namespace, name };
}
