// A cache of one resource type, kept current by @kubernetes/client-node's informers
// (list, then watch). client-node relists by itself when a watch expires (410 Gone) and
// reconnects after idle timeouts, but gives up on any other error: this wrapper restarts
// it with a capped backoff, resuming from the last resourceVersion (a relist when that is
// too old). One informer per watched namespace, or one for all namespaces.
import type { KubeConfig, KubernetesObject, ListWatch } from "@kubernetes/client-node";
import { makeInformer } from "@kubernetes/client-node";
import type { Logger } from "../../lib/logger.ts";
import type { KubeClient, KubeList, KubeObject } from "./kube-client.ts";
import type { ResourceType } from "./resources.ts";
import { collectionPath } from "./resources.ts";

export type InformerEvent = "add" | "update" | "delete";
export type InformerHandler<T> = (event: InformerEvent, obj: T) => void;

const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;

export interface InformerOptions {
  /** Watched namespaces; all namespaces when empty. */
  namespaces?: readonly string[];
  labelSelector?: string;
  log: Logger;
}

// client-node types objects with Date timestamps, but the cache holds the JSON as sent
// (strings): its typed view stays inside this module.
interface Watcher {
  namespace: string | undefined;
  informer: ListWatch<KubernetesObject>;
  synced: boolean;
  failures: number;
  restartTimer?: NodeJS.Timeout;
}

export class Informer<T extends KubeObject> {
  readonly type: ResourceType;
  readonly labelSelector: string | undefined;
  private readonly watchers: Watcher[];
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly log: Logger;
  private stopped = false;

  constructor(kubeConfig: KubeConfig, client: KubeClient, type: ResourceType, opts: InformerOptions) {
    this.type = type;
    this.labelSelector = opts.labelSelector;
    this.log = opts.log.child("informer", { resource: type.plural });
    const namespaces: Array<string | undefined> = opts.namespaces?.length
      ? [...opts.namespaces]
      : [undefined];
    this.watchers = namespaces.map((namespace) => {
      const watcher = { namespace, synced: false, failures: 0 } as Watcher;
      const list = async (): Promise<KubeList<KubeObject>> => {
        const result = await client.list<KubeObject>(type, { namespace, labelSelector: opts.labelSelector });
        // The informer fills its cache from the list right after this promise settles (in
        // microtasks); setImmediate runs after them, so "synced" never precedes the data.
        setImmediate(() => {
          if (!watcher.synced) this.log.debug("synced", { namespace, objects: result.items.length });
          watcher.synced = true;
          watcher.failures = 0;
        });
        return result;
      };
      watcher.informer = makeInformer(
        kubeConfig,
        collectionPath(type, namespace),
        list as never,
        opts.labelSelector,
      ) as ListWatch<KubernetesObject>;
      for (const event of ["add", "update", "delete"] as const) {
        watcher.informer.on(event, (obj) => this.dispatch(event, obj as unknown as T));
      }
      watcher.informer.on("error", (err: unknown) => this.restart(watcher, err));
      return watcher;
    });
  }

  /** Calls handler for every add, update and delete (including the initial list's adds). */
  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts listing and watching; resolves after the first attempt (see synced). */
  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all(this.watchers.map((w) => w.informer.start()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) clearTimeout(w.restartTimer);
    await Promise.all(this.watchers.map((w) => w.informer.stop()));
  }

  /** True once every namespace has been listed: the cache is complete. */
  get synced(): boolean {
    return this.watchers.every((w) => w.synced);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    for (const w of this.watchers) {
      if (w.namespace !== undefined && w.namespace !== namespace) continue;
      const obj = w.informer.get(name, namespace);
      if (obj) return obj as unknown as T;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const w of this.watchers) {
      if (namespace !== undefined && w.namespace !== undefined && w.namespace !== namespace) continue;
      out.push(...(w.informer.list(namespace) as unknown as T[]));
    }
    return out;
  }

  private dispatch(event: InformerEvent, obj: T): void {
    for (const h of this.handlers) {
      try {
        h(event, obj);
      } catch (err) {
        this.log.error("informer handler failed", { error: err });
      }
    }
  }

  private restart(w: Watcher, err: unknown): void {
    if (this.stopped) return;
    clearTimeout(w.restartTimer);
    const delay = Math.min(RESTART_BASE_MS * 2 ** w.failures, RESTART_MAX_MS);
    w.failures++;
    this.log.warn("watch failed, restarting", {
      namespace: w.namespace,
      error: describeError(err),
      retryInMs: delay,
    });
    w.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      w.informer.start().catch((e: unknown) => this.restart(w, e));
    }, delay);
    w.restartTimer.unref();
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === "object" && "message" in err)
    return String((err as { message: unknown }).message);
  return String(err);
}
