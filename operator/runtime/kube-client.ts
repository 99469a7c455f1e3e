// A small JSON REST client for the Kubernetes API on top of @kubernetes/client-node's
// kubeconfig handling, authentication and transport. The generated typed APIs turn
// timestamps into Date objects while watch events carry strings; the operator's caches
// hold both, so it keeps every object as plain JSON, exactly as the API server sent it.
// It also needs apply (server-side apply) on any path, including /status of a custom
// resource, which KubernetesObjectApi cannot address.
import type { KubeConfig } from "@kubernetes/client-node";
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from "@kubernetes/client-node";
import type { ResourceType, Verb } from "./resources.ts";
import { apiVersionOf, collectionPath, objectPath, resourceOf } from "./resources.ts";

/** The fields every Kubernetes object has. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
    }>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
  };
}

export interface KubeList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** A response with an error status, carrying the API server's Status object. */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string | undefined;
  readonly status: Record<string, unknown> | undefined;
  constructor(statusCode: number, method: string, path: string, status: Record<string, unknown> | undefined) {
    super(`${method} ${path}: ${statusCode} ${(status?.message as string | undefined) ?? ""}`.trim());
    this.name = "KubeApiError";
    this.statusCode = statusCode;
    this.reason = status?.reason as string | undefined;
    this.status = status;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 409;

const REQUEST_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
}

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly timeoutMs: number;

  /** timeoutMs bounds every request (leader election needs answers within its deadlines). */
  constructor(kubeConfig: KubeConfig, opts: { timeoutMs?: number } = {}) {
    this.kubeConfig = kubeConfig;
    this.timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /** One request; the parsed JSON response, or a KubeApiError. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.exchange<T>(method, path, opts)).body;
  }

  /** One request; the HTTP status code with the parsed JSON response, or a KubeApiError. */
  async exchange<T>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ code: number; body: T }> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const url = new URL(cluster.server.replace(/\/$/, "") + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    ctx.setHeaderParam("Accept", "application/json");
    if (opts.body !== undefined) {
      ctx.setHeaderParam("Content-Type", opts.contentType ?? "application/json");
      ctx.setBody(JSON.stringify(opts.body));
    }
    ctx.setSignal(AbortSignal.timeout(this.timeoutMs));
    const res = await this.http.send(ctx).toPromise();
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = { message: text.slice(0, 500) };
    }
    if (res.httpStatusCode >= 400) {
      throw new KubeApiError(res.httpStatusCode, method, path, parsed as Record<string, unknown> | undefined);
    }
    return { code: res.httpStatusCode, body: parsed as T };
  }

  async get<T extends KubeObject>(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    allowed(t, "get");
    try {
      return await this.request<T>(HttpMethod.GET, objectPath(t, namespace, name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists a collection (every page), in one namespace or all of them. */
  async list<T extends KubeObject>(
    t: ResourceType,
    opts: { namespace?: string; labelSelector?: string } = {},
  ): Promise<KubeList<T>> {
    allowed(t, "list");
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.request<KubeList<T>>(HttpMethod.GET, collectionPath(t, opts.namespace), {
        query: { labelSelector: opts.labelSelector, limit: "500", continue: cont },
      });
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (cont);
    // List items come without apiVersion and kind; the caches and apply code expect them.
    for (const item of items) {
      item.apiVersion ??= apiVersionOf(t);
      item.kind ??= t.kind;
    }
    return { metadata: { resourceVersion }, items };
  }

  async create<T extends KubeObject>(obj: T, fieldManager?: string): Promise<T> {
    const t = typeOf(obj);
    allowed(t, "create");
    return this.request<T>(HttpMethod.POST, collectionPath(t, obj.metadata?.namespace), {
      body: obj,
      query: { fieldManager },
    });
  }

  /** Replaces an object; fails with 409 when metadata.resourceVersion is stale (optimistic concurrency). */
  async update<T extends KubeObject>(obj: T, fieldManager?: string): Promise<T> {
    const t = typeOf(obj);
    allowed(t, "update");
    return this.request<T>(HttpMethod.PUT, objectPath(t, obj.metadata?.namespace, obj.metadata!.name!), {
      body: obj,
      query: { fieldManager },
    });
  }

  /**
   * Server-side apply: the object holds every field this field manager wants to own; fields
   * it owned before and no longer sends are removed. force takes fields over from other
   * managers (kubectl edits), which is how drift gets corrected.
   */
  async apply<T extends KubeObject>(
    obj: T,
    opts: { fieldManager: string; force?: boolean; subresource?: string },
  ): Promise<T> {
    return (await this.applyDetailed(obj, opts)).object;
  }

  /** apply(), also telling whether the object was created by it (201) rather than updated or unchanged. */
  async applyDetailed<T extends KubeObject>(
    obj: T,
    opts: { fieldManager: string; force?: boolean; subresource?: string; dryRun?: boolean },
  ): Promise<{ object: T; created: boolean }> {
    const t = typeOf(obj);
    allowed(t, "patch", opts.subresource);
    const res = await this.exchange<T>(
      HttpMethod.PATCH,
      objectPath(t, obj.metadata?.namespace, obj.metadata!.name!, opts.subresource),
      {
        body: obj,
        contentType: "application/apply-patch+yaml",
        query: {
          fieldManager: opts.fieldManager,
          force: opts.force === false ? undefined : "true",
          dryRun: opts.dryRun ? "All" : undefined,
        },
      },
    );
    return { object: res.body, created: res.code === 201 };
  }

  /** A JSON merge patch (RFC 7386). */
  async mergePatch<T extends KubeObject>(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    fieldManager?: string,
  ): Promise<T> {
    allowed(t, "patch");
    return this.request<T>(HttpMethod.PATCH, objectPath(t, namespace, name), {
      body: patch,
      contentType: "application/merge-patch+json",
      query: { fieldManager },
    });
  }

  /**
   * Deletes an object; with uid, only that incarnation (a precondition, so a pod recreated
   * under the same name is never deleted by mistake). A missing object is not an error.
   */
  async delete(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { uid?: string; propagationPolicy?: "Background" | "Foreground" | "Orphan" } = {},
  ): Promise<boolean> {
    allowed(t, "delete");
    try {
      await this.request(HttpMethod.DELETE, objectPath(t, namespace, name), {
        body: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          preconditions: opts.uid ? { uid: opts.uid } : undefined,
          propagationPolicy: opts.propagationPolicy ?? "Background",
        },
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

function typeOf(obj: KubeObject): ResourceType {
  if (!obj.apiVersion || !obj.kind) throw new Error("object without apiVersion or kind");
  return resourceOf(obj.apiVersion, obj.kind);
}

/** Refuses calls resources.ts does not list, so the generated RBAC always covers the code. */
export function allowed(t: ResourceType, verb: Verb, sub?: string): void {
  const verbs = sub ? t.subresources?.[sub] : t.verbs;
  if (!verbs?.includes(verb)) {
    throw new Error(
      `the operator does not declare "${verb}" on ${t.plural}${sub ? "/" + sub : ""}: add it to resources.ts (and so to its RBAC)`,
    );
  }
}
