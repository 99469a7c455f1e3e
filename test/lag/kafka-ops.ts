// Fast one-request helpers for the lag tests, over the generated codecs: committing offsets
// as a simple (member-less) group, which kafkajs' admin.setOffsets does by joining the group
// with a consumer (seconds per call on Kafka), and deleting records. Single-broker targets
// only: that broker is every partition's leader and every group's coordinator. Not a test file.
import { DeleteRecords, FindCoordinator, OffsetCommit } from "../../protocol/generated/apis.ts";
import { RawClient } from "../setup/raw-client.ts";

/** Codes that mean "the coordinator is not ready yet" (Kafka creates __consumer_offsets on first use). */
const COORDINATOR_NOT_READY = new Set([14, 15, 16]);

/**
 * Commits `offsets` (partition → offset) of `topic` for `group`, waiting up to 30 s for the
 * group coordinator; throws on any other error code.
 */
export async function commitOffsets(
  port: number,
  group: string,
  topic: string,
  offsets: Record<number, number>,
): Promise<void> {
  const raw = await RawClient.connect(port);
  try {
    const deadline = Date.now() + 30_000;
    while (true) {
      const found = await raw.request(FindCoordinator, 3, { key: group, keyType: 0, coordinatorKeys: [] });
      const res = await commitOnce(raw, group, topic, offsets);
      const codes = res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
      const notReady = found.errorCode !== 0 || codes.some((c) => COORDINATOR_NOT_READY.has(c));
      if (notReady && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      const failed = res.topics.flatMap((t) => t.partitions.filter((p) => p.errorCode !== 0));
      if (failed.length > 0) throw new Error(`OffsetCommit ${group}: ${JSON.stringify(failed)}`);
      return;
    }
  } finally {
    raw.close();
  }
}

function commitOnce(raw: RawClient, group: string, topic: string, offsets: Record<number, number>) {
  return raw.request(OffsetCommit, 8, {
    groupId: group,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: topic,
        partitions: Object.entries(offsets).map(([p, o]) => ({
          partitionIndex: Number(p),
          committedOffset: BigInt(o),
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: null,
        })),
      },
    ],
  });
}

/** Moves the log start offset of `topic`'s partitions up to `offsets` (partition → offset). */
export async function deleteRecords(
  port: number,
  topic: string,
  offsets: Record<number, number>,
): Promise<void> {
  const raw = await RawClient.connect(port);
  try {
    const res = await raw.request(DeleteRecords, 2, {
      topics: [
        {
          name: topic,
          partitions: Object.entries(offsets).map(([p, o]) => ({
            partitionIndex: Number(p),
            offset: BigInt(o),
          })),
        },
      ],
      timeoutMs: 10_000,
    });
    const failed = res.topics.flatMap((t) => t.partitions.filter((p) => p.errorCode !== 0));
    if (failed.length > 0) throw new Error(`DeleteRecords ${topic}: ${JSON.stringify(failed)}`);
  } finally {
    raw.close();
  }
}

/** commitOffsets for several topics (topic → partition → offset), one request per topic. */
export async function commitOffsetsMany(
  port: number,
  group: string,
  offsets: Record<string, Record<number, number>>,
): Promise<void> {
  for (const [topic, byPartition] of Object.entries(offsets))
    await commitOffsets(port, group, topic, byPartition);
}
