// Step 2 of a poll: state, members and assignments of every group, one batched request
// per coordinator and protocol. Classic groups answer DescribeGroups; KIP-848 groups
// (`group.protocol=consumer`) must be asked with ConsumerGroupDescribe, which is why
// kafka_exporter reports 0 members for them (its issue #533).
import { ConsumerGroupDescribe, DescribeGroups } from "../../protocol/generated/apis.ts";
import { decodeConsumerProtocolAssignment } from "../../protocol/generated/messages/ConsumerProtocolAssignment.ts";
import { Reader } from "../../protocol/wire/index.ts";
import type { ClusterClient } from "./cluster-client.ts";
import { ErrorCode, KafkaError } from "./cluster-client.ts";
import { messageOf } from "./connection.ts";
import type { ListedGroup } from "./list-groups.ts";

/** Groups per request: bounds request and response sizes on clusters with many groups. */
export const GROUPS_PER_REQUEST = 200;

export interface GroupDescription {
  groupId: string;
  state: string;
  /** Which group protocol the coordinator runs: "classic" or "consumer" (KIP-848). */
  protocol: "classic" | "consumer";
  protocolType: string;
  /** Assignor in use: the classic protocol name (range, cooperative-sticky, ...) or the KIP-848 assignor. */
  assignor: string;
  members: number;
  /** Partitions assigned to members, by topic; empty when unknown (non-consumer protocols). */
  assigned: ReadonlyMap<string, readonly number[]>;
}

export type DescribeOutcome = { ok: GroupDescription } | { error: string; code?: number };

export async function describeGroups(
  client: ClusterClient,
  groups: readonly ListedGroup[],
): Promise<Map<string, DescribeOutcome>> {
  const out = new Map<string, DescribeOutcome>();
  const batches = new Map<string, { coordinator: number; kip848: boolean; ids: string[] }>();
  for (const g of groups) {
    const kip848 = g.type === "consumer";
    const key = `${g.coordinator}/${kip848}`;
    let b = batches.get(key);
    if (!b) batches.set(key, (b = { coordinator: g.coordinator, kip848, ids: [] }));
    b.ids.push(g.groupId);
  }
  const jobs: Promise<void>[] = [];
  for (const b of batches.values()) {
    for (let i = 0; i < b.ids.length; i += GROUPS_PER_REQUEST) {
      const ids = b.ids.slice(i, i + GROUPS_PER_REQUEST);
      const describe = b.kip848 ? describeKip848 : describeClassic;
      jobs.push(
        describe(client, b.coordinator, ids, out).catch((err: unknown) => {
          for (const id of ids) {
            out.set(id, { error: messageOf(err), code: err instanceof KafkaError ? err.code : undefined });
          }
        }),
      );
    }
  }
  await Promise.all(jobs);
  return out;
}

async function describeClassic(
  client: ClusterClient,
  coordinator: number,
  ids: string[],
  out: Map<string, DescribeOutcome>,
): Promise<void> {
  const { body } = await client.send(coordinator, DescribeGroups, 0, 5, () => ({
    groups: ids,
    includeAuthorizedOperations: false,
  }));
  for (const g of body.groups) {
    if (g.errorCode !== ErrorCode.NONE) {
      out.set(g.groupId, {
        error: new KafkaError(g.errorCode, `DescribeGroups ${g.groupId}`).message,
        code: g.errorCode,
      });
      continue;
    }
    const assigned = new Map<string, number[]>();
    if (g.protocolType === "consumer") {
      for (const m of g.members) addAssignment(assigned, m.memberAssignment);
    }
    out.set(g.groupId, {
      ok: {
        groupId: g.groupId,
        state: g.groupState,
        protocol: "classic",
        protocolType: g.protocolType,
        assignor: g.protocolData,
        members: g.members.length,
        assigned: sortAssigned(assigned),
      },
    });
  }
}

async function describeKip848(
  client: ClusterClient,
  coordinator: number,
  ids: string[],
  out: Map<string, DescribeOutcome>,
): Promise<void> {
  const { body } = await client.send(coordinator, ConsumerGroupDescribe, 0, 0, () => ({
    groupIds: ids,
    includeAuthorizedOperations: false,
  }));
  for (const g of body.groups) {
    if (g.errorCode !== ErrorCode.NONE) {
      out.set(g.groupId, {
        error: new KafkaError(g.errorCode, `ConsumerGroupDescribe ${g.groupId}`).message,
        code: g.errorCode,
      });
      continue;
    }
    const assigned = new Map<string, number[]>();
    for (const m of g.members) {
      for (const tp of m.assignment.topicPartitions) {
        const list = assigned.get(tp.topicName) ?? [];
        list.push(...tp.partitions);
        assigned.set(tp.topicName, list);
      }
    }
    out.set(g.groupId, {
      ok: {
        groupId: g.groupId,
        state: g.groupState,
        protocol: "consumer",
        protocolType: "consumer",
        assignor: g.assignorName,
        members: g.members.length,
        assigned: sortAssigned(assigned),
      },
    });
  }
}

/**
 * A classic consumer member's assignment bytes (ConsumerProtocolAssignment: int16 version,
 * then the struct). Unknown newer versions are read as the newest we know, which works
 * because the consumer protocol only ever appends fields; bytes that do not parse are
 * skipped (the assignment is informational: lag comes from committed offsets).
 */
function addAssignment(into: Map<string, number[]>, bytes: Buffer): void {
  if (bytes.length < 2) return;
  try {
    const r = new Reader(bytes);
    const version = Math.min(r.int16(), 3);
    const a = decodeConsumerProtocolAssignment(r, version);
    for (const tp of a.assignedPartitions) {
      const list = into.get(tp.topic) ?? [];
      list.push(...tp.partitions);
      into.set(tp.topic, list);
    }
  } catch {
    // informational only
  }
}

function sortAssigned(m: Map<string, number[]>): ReadonlyMap<string, readonly number[]> {
  return new Map([...m].map(([t, ps]) => [t, [...new Set(ps)].sort((a, b) => a - b)]));
}
