// Step 4 of a poll, after the committed offsets: every partition's high watermark
// (ListOffsets LATEST with read_uncommitted, what kafka-consumer-groups.sh calls
// LOG-END-OFFSET) and log start offset (EARLIEST), one request per partition leader for
// each (a partition may appear only once per request).
import { ListOffsets } from "../../protocol/generated/apis.ts";
import type { ClusterClient } from "./cluster-client.ts";
import { ErrorCode, KafkaError } from "./cluster-client.ts";
import { messageOf } from "./connection.ts";

const LATEST = -1n;
const EARLIEST = -2n;
const READ_UNCOMMITTED = 0;

export interface LeaderPartition {
  topic: string;
  partition: number;
  leader: number;
}

export interface PartitionOffsets {
  /** `${topic}\0${partition}` → offset. */
  highWatermarks: Map<string, number>;
  oldestOffsets: Map<string, number>;
  /** Partitions (or whole leaders) that did not answer: no offsets for them this poll. */
  errors: { topic: string; partition: number | null; error: string }[];
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

export async function listPartitionOffsets(
  client: ClusterClient,
  partitions: readonly LeaderPartition[],
): Promise<PartitionOffsets> {
  const out: PartitionOffsets = { highWatermarks: new Map(), oldestOffsets: new Map(), errors: [] };
  const byLeader = new Map<number, Map<string, number[]>>();
  for (const p of partitions) {
    if (p.leader < 0) continue; // offline: nobody can answer
    let topics = byLeader.get(p.leader);
    if (!topics) byLeader.set(p.leader, (topics = new Map()));
    const list = topics.get(p.topic) ?? [];
    list.push(p.partition);
    topics.set(p.topic, list);
  }
  const jobs: Promise<void>[] = [];
  for (const [leader, topics] of byLeader) {
    for (const [spec, into] of [
      [LATEST, out.highWatermarks],
      [EARLIEST, out.oldestOffsets],
    ] as const) {
      jobs.push(
        ask(client, leader, topics, spec, into, out.errors).catch((err: unknown) => {
          for (const [topic, ps] of topics) {
            for (const partition of ps) out.errors.push({ topic, partition, error: messageOf(err) });
          }
        }),
      );
    }
  }
  await Promise.all(jobs);
  return out;
}

async function ask(
  client: ClusterClient,
  leader: number,
  topics: Map<string, number[]>,
  timestamp: bigint,
  into: Map<string, number>,
  errors: PartitionOffsets["errors"],
): Promise<void> {
  const { body } = await client.send(leader, ListOffsets, 1, 10, () => ({
    replicaId: -1,
    isolationLevel: READ_UNCOMMITTED,
    topics: [...topics].map(([name, ps]) => ({
      name,
      partitions: ps.map((partitionIndex) => ({
        partitionIndex,
        currentLeaderEpoch: -1,
        timestamp,
        maxNumOffsets: 1,
      })),
    })),
    timeoutMs: 0,
  }));
  for (const t of body.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE) {
        errors.push({
          topic: t.name,
          partition: p.partitionIndex,
          error: new KafkaError(p.errorCode, `ListOffsets ${t.name}-${p.partitionIndex}`).message,
        });
        continue;
      }
      into.set(partitionKey(t.name, p.partitionIndex), Number(p.offset));
    }
  }
}
