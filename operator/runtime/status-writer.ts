// Writes a custom resource's status through its /status subresource with server-side
// apply under its own field manager ("capstan-status"), separate from the "capstan"
// manager that owns the generated objects, and never touches spec (users and GitOps tools
// own it). The status sent is the whole status the operator owns: a field left out is
// removed. Nothing is written when the status already equals the one computed.
import type { KubeClient, KubeObject } from "./kube-client.ts";
import { jsonEqual } from "./conditions.ts";

export const STATUS_FIELD_MANAGER = "capstan-status";

export interface StatusWriteResult {
  written: boolean;
}

export class StatusWriter {
  private readonly client: KubeClient;

  constructor(client: KubeClient) {
    this.client = client;
  }

  /** Applies `status` to `obj` (as last seen) unless it already has exactly that status. */
  async write<S>(obj: KubeObject & { status?: S }, status: S): Promise<StatusWriteResult> {
    if (jsonEqual(obj.status ?? {}, status)) return { written: false };
    await this.client.apply(
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        metadata: { name: obj.metadata!.name, namespace: obj.metadata!.namespace },
        status,
      },
      { fieldManager: STATUS_FIELD_MANAGER, force: true, subresource: "status" },
    );
    return { written: true };
  }
}
