// The operator's consumer-lag exporter: one LagCollector per KafkaCluster it manages, all
// feeding one LagMetrics on the operator's own /metrics. It is a reconciler of KafkaCluster
// (a second one, beside the cluster reconciler): level-triggered like the others, it keeps
// "a collector runs for every live cluster, with that cluster's bootstrap address" true.
// Only the leader reconciles, so only the leader exports lag: a standby replica scraped by
// the same ServiceMonitor adds no duplicate series.
import type { KafkaCluster, TopicConsumerLag } from "../api/types.ts";
import { bootstrapAddress } from "../cluster/kafka-admin.ts";
import type { ObjectKey, ReconcileContext, Reconciler } from "../runtime/manager.ts";
import { KAFKA_CLUSTER } from "../runtime/resources.ts";
import type { LagCollectorOptions } from "./collector.ts";
import { LagCollector } from "./collector.ts";
import type { LagMetrics } from "./metrics.ts";
import { topicLagSummary } from "./snapshot.ts";

/** Annotation on a KafkaCluster: "false" turns its lag exporter off. */
export const CONSUMER_LAG_ANNOTATION = "kafka.capstan.dev/consumer-lag";

/** Collector settings shared by every cluster (operator flags). */
export type SharedCollectorOptions = Omit<LagCollectorOptions, "cluster" | "namespace" | "bootstrap" | "log">;

export interface LagReconcilerOptions {
  metrics: LagMetrics;
  /** The brokers to poll; the cluster's bootstrap Service by default (tests: a local broker). */
  bootstrap?: (kc: KafkaCluster) => string[];
  collector?: SharedCollectorOptions;
}

interface Running {
  collector: LagCollector;
  /** What the collector was built from; a change replaces it. */
  fingerprint: string;
}

/** Whether a cluster should have a collector, and with which bootstrap address (pure). */
export function desiredLagTarget(
  kc: KafkaCluster | undefined,
  bootstrap: (kc: KafkaCluster) => string[],
): string[] | null {
  if (!kc || kc.metadata.deletionTimestamp) return null;
  if (kc.metadata.annotations?.[CONSUMER_LAG_ANNOTATION] === "false") return null;
  if ((kc.spec?.replicas ?? 0) < 1) return null;
  return bootstrap(kc);
}

export class LagExporterReconciler implements Reconciler {
  readonly kind = "ConsumerLag";
  readonly primary = KAFKA_CLUSTER;
  private readonly opts: LagReconcilerOptions;
  private readonly running = new Map<string, Running>();

  constructor(opts: LagReconcilerOptions) {
    this.opts = opts;
  }

  async reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<void> {
    const id = `${key.namespace}/${key.name}`;
    const kc = ctx.cache<KafkaCluster>(KAFKA_CLUSTER).get(key.namespace, key.name);
    const target = desiredLagTarget(kc, this.opts.bootstrap ?? ((c) => [bootstrapAddress(c)]));
    const fingerprint = target ? target.join(",") : "";
    const current = this.running.get(id);
    if (current && current.fingerprint === fingerprint) return;
    if (current) {
      this.running.delete(id);
      this.opts.metrics.remove(current.collector);
      await current.collector.stop();
      ctx.log.info("lag exporter stopped", { cluster: id });
    }
    if (!target) return;
    const collector = new LagCollector({
      ...this.opts.collector,
      cluster: key.name,
      namespace: key.namespace,
      bootstrap: target,
      log: ctx.log.child("lag"),
    });
    this.running.set(id, { collector, fingerprint });
    this.opts.metrics.add(collector);
    collector.start();
    ctx.log.info("lag exporter started", { cluster: id, bootstrap: fingerprint });
  }

  /** The collector of a cluster, if one runs (KafkaTopic status reads its snapshot). */
  collectorOf(namespace: string, name: string): LagCollector | undefined {
    return this.running.get(`${namespace}/${name}`)?.collector;
  }

  /** A topic's lag from its cluster's latest snapshot (KafkaTopic status.consumerLag), or null. */
  topicLag(namespace: string, cluster: string, topic: string): TopicConsumerLag | null {
    const snapshot = this.collectorOf(namespace, cluster)?.snapshot;
    const summary = snapshot ? topicLagSummary(snapshot, topic) : null;
    if (!snapshot || !summary) return null;
    return {
      maxLag: summary.maxLag,
      ...(summary.maxLagSeconds !== null ? { maxLagSeconds: Math.round(summary.maxLagSeconds) } : {}),
      slowestGroup: summary.slowestGroup,
      groups: summary.groups,
      observedAt: new Date(snapshot.takenAt).toISOString(),
    };
  }

  /** Stops every collector (operator shutdown). */
  async stop(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    for (const r of all) this.opts.metrics.remove(r.collector);
    await Promise.all(all.map((r) => r.collector.stop()));
  }
}
