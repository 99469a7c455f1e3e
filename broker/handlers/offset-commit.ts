// OffsetCommit (8): a group's consumed positions, made durable in __consumer_offsets
// before the answer. Unknown topics or partitions fail per partition, as in Kafka.
// v0 carries no member or generation (only empty groups accept it), v2-4 a retention
// time, v6+ the leader epoch, v7+ group.instance.id; v9 (KIP-848) is not served.
import { OffsetCommit } from "../../protocol/generated/apis.ts";
import type { OffsetCommitRequest } from "../../protocol/generated/messages/OffsetCommitRequest.ts";
import type { OffsetCommitResponse } from "../../protocol/generated/messages/OffsetCommitResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

/** UNKNOWN_TOPIC_OR_PARTITION unless the topic and partition exist. */
export function partitionExists(broker: Broker): (topic: string, partition: number) => number {
  return (topic, partition) => {
    const t = broker.image.topicsByName.get(topic);
    return t && partition >= 0 && partition < t.partitions.length
      ? ErrorCode.NONE
      : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  };
}

export const offsetCommit: Handler<OffsetCommitRequest, OffsetCommitResponse, Broker> = {
  api: OffsetCommit,
  minVersion: 0,
  maxVersion: 8,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    await ctx.broker.offsetsTopic.ensureExists();
    const topics = await ctx.broker.groups.commitOffsets(
      {
        groupId: req.groupId,
        generationId: v >= 1 ? req.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? req.memberId : "",
        groupInstanceId: v >= 7 ? req.groupInstanceId : null,
        retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs) : -1,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            committedOffset: p.committedOffset,
            committedLeaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
            committedMetadata: p.committedMetadata,
          })),
        })),
      },
      v,
      partitionExists(ctx.broker),
    );
    return { throttleTimeMs: 0, topics };
  },
};
