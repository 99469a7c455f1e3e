// The operator's Prometheus metrics (prom-client), in their own registry so that several
// operators can run in one process (the tests do). Per-resource readiness is a gauge
// (capstan_resource_ready) so alerts and dashboards need no kube-state-metrics recipe
// (what Strimzi's proposal 087 had to add later).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<"kind" | "result">;
  readonly reconcileErrors: Counter<"kind">;
  readonly reconcileSeconds: Histogram<"kind">;
  readonly queueDepth: Gauge;
  readonly queueActive: Gauge;
  readonly leader: Gauge;
  readonly resourceReady: Gauge<"kind" | "namespace" | "name">;
  readonly informerSynced: Gauge<"resource">;
  private queueSource: () => { depth: number; active: number } = () => ({ depth: 0, active: 0 });
  private syncSource: () => Array<{ resource: string; synced: boolean }> = () => [];

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: "capstan_operator_" });
    this.reconciles = new Counter({
      name: "capstan_reconcile_total",
      help: "Reconciles by resource kind and result (success, requeue, error).",
      labelNames: ["kind", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "capstan_reconcile_errors_total",
      help: "Reconciles that failed and will be retried with backoff.",
      labelNames: ["kind"],
      registers,
    });
    this.reconcileSeconds = new Histogram({
      name: "capstan_reconcile_duration_seconds",
      help: "Time taken by one reconcile.",
      labelNames: ["kind"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    // Read at scrape time from what the manager binds, so they are never stale.
    const source = () => this.queueSource();
    this.queueDepth = new Gauge({
      name: "capstan_workqueue_depth",
      help: "Keys waiting in the work queue.",
      registers,
      collect() {
        this.set(source().depth);
      },
    });
    this.queueActive = new Gauge({
      name: "capstan_workqueue_active",
      help: "Reconciles running now.",
      registers,
      collect() {
        this.set(source().active);
      },
    });
    this.leader = new Gauge({
      name: "capstan_leader",
      help: "1 when this operator instance is the leader (reconciles), 0 when it is a standby.",
      registers,
    });
    this.resourceReady = new Gauge({
      name: "capstan_resource_ready",
      help: "1 when the custom resource's Ready condition is True, 0 otherwise.",
      labelNames: ["kind", "namespace", "name"],
      registers,
    });
    const syncs = () => this.syncSource();
    this.informerSynced = new Gauge({
      name: "capstan_informer_synced",
      help: "1 when the informer of a resource has listed it (its cache is complete).",
      labelNames: ["resource"],
      registers,
      collect() {
        for (const s of syncs()) this.set({ resource: s.resource }, s.synced ? 1 : 0);
      },
    });
  }

  /** Where the queue gauges read from. */
  bindQueue(source: () => { depth: number; active: number }): void {
    this.queueSource = source;
  }

  /** Where the informer gauge reads from. */
  bindInformers(source: () => Array<{ resource: string; synced: boolean }>): void {
    this.syncSource = source;
  }
}
