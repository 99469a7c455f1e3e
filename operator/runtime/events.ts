// Kubernetes Events (events.k8s.io/v1) saying what the operator did and why, shown by
// `kubectl describe` and `kubectl events`. As client-go's recorder does, a repeat of the
// same event on the same object bumps the first one's series count instead of creating
// a new object. Events are best effort: a failure is logged, never thrown into a reconcile.
import { randomBytes } from "node:crypto";
import type { Logger } from "../../lib/logger.ts";
import type { KubeClient, KubeObject } from "./kube-client.ts";
import { isNotFound } from "./kube-client.ts";
import { EVENT } from "./resources.ts";
import { microTime } from "./time.ts";

export const REPORTING_CONTROLLER = "kafka.capstan.dev/operator";

export interface EventInput {
  type: "Normal" | "Warning";
  /** CamelCase, why: e.g. ScaleDownBlocked. */
  reason: string;
  /** CamelCase, what the operator did or failed to do: e.g. RestartPod. */
  action: string;
  /** Human-readable, at most 1 kB. */
  note: string;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
}

const MAX_REMEMBERED = 4096;
/** The API server drops events after an hour by default: start a new one before that. */
const SERIES_WINDOW_MS = 30 * 60_000;

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly instance: string;
  private readonly log: Logger;
  private readonly series = new Map<string, Series & { firstSeen: number }>();

  constructor(client: KubeClient, reportingInstance: string, log: Logger) {
    this.client = client;
    this.instance = reportingInstance.slice(0, 128);
    this.log = log.child("events");
  }

  /** Records an event about `regarding`; resolves when written (or when writing failed). */
  async record(regarding: KubeObject, event: EventInput): Promise<void> {
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace ?? "default";
    const key = [
      meta.uid ?? `${namespace}/${meta.name}`,
      event.type,
      event.reason,
      event.action,
      event.note,
    ].join("\0");
    const now = new Date();
    this.log.info(event.note, {
      object: `${regarding.kind}/${namespace}/${meta.name}`,
      reason: event.reason,
      type: event.type,
    });
    try {
      const prev = this.series.get(key);
      if (prev && now.getTime() - prev.firstSeen < SERIES_WINDOW_MS) {
        prev.count++;
        try {
          await this.client.mergePatch(EVENT, prev.namespace, prev.name, {
            series: { count: prev.count, lastObservedTime: microTime(now) },
          });
          return;
        } catch (err) {
          if (!isNotFound(err)) throw err;
          this.series.delete(key);
        }
      }
      const name = `${meta.name}.${now.getTime().toString(16)}${randomBytes(3).toString("hex")}`;
      await this.client.create({
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.instance,
        action: event.action,
        reason: event.reason,
        type: event.type,
        note: event.note.length > 1024 ? event.note.slice(0, 1023) + "…" : event.note,
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: meta.name,
          namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
      } as KubeObject);
      if (this.series.size >= MAX_REMEMBERED) this.series.delete(this.series.keys().next().value as string);
      this.series.set(key, { name, namespace, count: 1, firstSeen: now.getTime() });
    } catch (err) {
      this.log.warn("could not record event", { reason: event.reason, error: err });
    }
  }
}
