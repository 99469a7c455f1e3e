// Step 3 of a poll, and deliberately before any high watermark is read: committed
// offsets of every group, one OffsetFetch per coordinator (v8+ carries many groups; v9
// also answers for KIP-848 groups). A commit can only point at an offset that was below
// the high watermark when it was made, and the high watermark never goes back, so reading
// commits first makes hwm − committed ≥ 0 (kafka_exporter reads them the other way round
// and reports negative lag). Brokers before v8 get one request per group.
import { OffsetFetch } from "../../protocol/generated/apis.ts";
import type { ClusterClient } from "./cluster-client.ts";
import { ErrorCode, KafkaError } from "./cluster-client.ts";
import { messageOf } from "./connection.ts";
import { GROUPS_PER_REQUEST } from "./describe-groups.ts";

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
}

export type CommittedOutcome = { ok: CommittedOffset[] } | { error: string; code?: number };

export async function fetchCommittedOffsets(
  client: ClusterClient,
  groups: readonly { groupId: string; coordinator: number }[],
): Promise<Map<string, CommittedOutcome>> {
  const out = new Map<string, CommittedOutcome>();
  const byCoordinator = new Map<number, string[]>();
  for (const g of groups) {
    const ids = byCoordinator.get(g.coordinator) ?? [];
    ids.push(g.groupId);
    byCoordinator.set(g.coordinator, ids);
  }
  const fail = (ids: readonly string[], err: unknown) => {
    for (const id of ids)
      out.set(id, { error: messageOf(err), code: err instanceof KafkaError ? err.code : undefined });
  };
  await Promise.all(
    [...byCoordinator].map(async ([coordinator, ids]) => {
      let batched: number | null;
      try {
        batched = await client.versionFor(coordinator, OffsetFetch, 8, 9);
      } catch (err) {
        fail(ids, err);
        return;
      }
      if (batched !== null) {
        const jobs: Promise<void>[] = [];
        for (let i = 0; i < ids.length; i += GROUPS_PER_REQUEST) {
          const chunk = ids.slice(i, i + GROUPS_PER_REQUEST);
          jobs.push(fetchBatched(client, coordinator, chunk, out).catch((err: unknown) => fail(chunk, err)));
        }
        await Promise.all(jobs);
      } else {
        await Promise.all(
          ids.map((id) => fetchOne(client, coordinator, id, out).catch((err: unknown) => fail([id], err))),
        );
      }
    }),
  );
  return out;
}

async function fetchBatched(
  client: ClusterClient,
  coordinator: number,
  ids: string[],
  out: Map<string, CommittedOutcome>,
): Promise<void> {
  const { body } = await client.send(coordinator, OffsetFetch, 8, 9, () => ({
    groupId: "",
    topics: [],
    // topics null: every partition the group has committed, and only those.
    groups: ids.map((groupId) => ({ groupId, memberId: null, memberEpoch: -1, topics: null })),
    requireStable: false,
  }));
  for (const g of body.groups) {
    if (g.errorCode !== ErrorCode.NONE) {
      out.set(g.groupId, {
        error: new KafkaError(g.errorCode, `OffsetFetch ${g.groupId}`).message,
        code: g.errorCode,
      });
      continue;
    }
    out.set(g.groupId, { ok: collect(g.topics) });
  }
}

async function fetchOne(
  client: ClusterClient,
  coordinator: number,
  groupId: string,
  out: Map<string, CommittedOutcome>,
): Promise<void> {
  // v2 is the first version where a null topic list means "all committed partitions".
  const { body } = await client.send(coordinator, OffsetFetch, 2, 7, () => ({
    groupId,
    topics: null,
    groups: [],
    requireStable: false,
  }));
  if (body.errorCode !== ErrorCode.NONE) {
    out.set(groupId, {
      error: new KafkaError(body.errorCode, `OffsetFetch ${groupId}`).message,
      code: body.errorCode,
    });
    return;
  }
  out.set(groupId, { ok: collect(body.topics) });
}

function collect(
  topics: readonly {
    name: string;
    partitions: readonly { partitionIndex: number; committedOffset: bigint; errorCode: number }[];
  }[],
): CommittedOffset[] {
  const offsets: CommittedOffset[] = [];
  for (const t of topics) {
    for (const p of t.partitions) {
      // -1: nothing committed. Such partitions get no lag series (kafka_exporter: -1).
      if (p.errorCode !== ErrorCode.NONE || p.committedOffset < 0n) continue;
      offsets.push({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset) });
    }
  }
  return offsets;
}
