// The KafkaTopic finalizer: added before the operator does any Kafka work for a topic, so
// that deleting the resource deletes the Kafka topic first; removed once the topic is
// gone (or when the operator must not or cannot delete it: spec.deletionPolicy Retain, a conflict
// loser, a KafkaCluster that is gone or being deleted). Changes use a JSON merge patch
// carrying the resourceVersion seen, so a concurrent change to the finalizers fails with
// 409 and the reconcile retries on fresh data instead of overwriting someone else's.
import type { KubeClient, KubeObject } from "../runtime/kube-client.ts";
import { KAFKA_TOPIC } from "../runtime/resources.ts";

export const TOPIC_FINALIZER = "kafka.capstan.dev/topic-cleanup";
/** An object with metadata.finalizers (which KubeObject does not declare). */
export type Finalizable = KubeObject & { metadata?: { finalizers?: string[] } };

/** Whether deleting the resource leaves the Kafka topic in place (spec.deletionPolicy: Retain). */
export function retainsTopic(obj: { spec?: { deletionPolicy?: string } }): boolean {
  return obj.spec?.deletionPolicy === "Retain";
}

export function hasFinalizer(obj: Finalizable): boolean {
  return obj.metadata?.finalizers?.includes(TOPIC_FINALIZER) ?? false;
}

async function setFinalizers<T extends Finalizable>(
  client: KubeClient,
  obj: T,
  finalizers: string[],
  fieldManager: string,
): Promise<T> {
  return client.mergePatch<T>(
    KAFKA_TOPIC,
    obj.metadata!.namespace,
    obj.metadata!.name!,
    { metadata: { finalizers, resourceVersion: obj.metadata!.resourceVersion } },
    fieldManager,
  );
}

/** Adds the finalizer (no request when present); returns the object as it is now. */
export async function addFinalizer<T extends Finalizable>(
  client: KubeClient,
  obj: T,
  fieldManager: string,
): Promise<T> {
  if (hasFinalizer(obj)) return obj;
  return setFinalizers(client, obj, [...(obj.metadata?.finalizers ?? []), TOPIC_FINALIZER], fieldManager);
}

/** Removes the finalizer (no request when absent); returns the object as it is now. */
export async function removeFinalizer<T extends Finalizable>(
  client: KubeClient,
  obj: T,
  fieldManager: string,
): Promise<T> {
  if (!hasFinalizer(obj)) return obj;
  const rest = (obj.metadata?.finalizers ?? []).filter((f) => f !== TOPIC_FINALIZER);
  return setFinalizers(client, obj, rest, fieldManager);
}
