// OffsetForLeaderEpoch (23): where a leader epoch ended in this partition's log, so a
// consumer (or a follower) can tell whether its position survived a leader change
// (KIP-101/KIP-320). Answered from the leader epoch cache.
import { OffsetForLeaderEpoch } from "../../protocol/generated/apis.ts";
import type { OffsetForLeaderEpochRequest } from "../../protocol/generated/messages/OffsetForLeaderEpochRequest.ts";
import type {
  EpochEndOffset,
  OffsetForLeaderEpochResponse,
} from "../../protocol/generated/messages/OffsetForLeaderEpochResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode, errorCodeOf } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const offsetForLeaderEpoch: Handler<
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
  Broker
> = {
  api: OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((op): EpochEndOffset => {
          try {
            const p = ctx.broker.replicas.leaderPartition(
              t.topic,
              op.partition,
              v >= 2 ? op.currentLeaderEpoch : -1,
            );
            const found = p.log.endOffsetForEpoch(op.leaderEpoch);
            return {
              errorCode: ErrorCode.NONE,
              partition: op.partition,
              leaderEpoch: v >= 1 ? (found?.epoch ?? -1) : -1,
              endOffset: BigInt(found?.endOffset ?? -1),
            };
          } catch (err) {
            return { errorCode: errorCodeOf(err), partition: op.partition, leaderEpoch: -1, endOffset: -1n };
          }
        }),
      })),
    };
  },
};
