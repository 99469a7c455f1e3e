// ListOffsets (2): the latest (high watermark, or last stable offset for
// read_committed), the earliest (log start), the offset of the largest timestamp
// (-3, v7+), or the first offset at or after a timestamp (through the time index).
import { ListOffsets } from "../../protocol/generated/apis.ts";
import type { ListOffsetsRequest } from "../../protocol/generated/messages/ListOffsetsRequest.ts";
import type {
  ListOffsetsPartitionResponse,
  ListOffsetsResponse,
} from "../../protocol/generated/messages/ListOffsetsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode, errorCodeOf } from "../errors.ts";
import type { Handler } from "./handler.ts";

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const READ_COMMITTED = 1;

export const listOffsets: Handler<ListOffsetsRequest, ListOffsetsResponse, Broker> = {
  api: ListOffsets,
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (lp): Promise<ListOffsetsPartitionResponse> => {
            const answer = (
              offset: number,
              timestamp: number,
              leaderEpoch: number,
            ): ListOffsetsPartitionResponse => ({
              partitionIndex: lp.partitionIndex,
              errorCode: ErrorCode.NONE,
              oldStyleOffsets: v === 0 ? (offset >= 0 ? [BigInt(offset)] : []) : [],
              timestamp: v >= 1 ? BigInt(timestamp) : -1n,
              offset: v >= 1 ? BigInt(offset) : -1n,
              leaderEpoch: v >= 4 ? leaderEpoch : -1,
            });
            try {
              const p = broker.replicas.leaderPartition(
                t.name,
                lp.partitionIndex,
                v >= 4 ? lp.currentLeaderEpoch : -1,
              );
              const log = p.log;
              if (lp.timestamp === LATEST) {
                const offset =
                  v >= 2 && req.isolationLevel === READ_COMMITTED ? p.lastStableOffset : p.highWatermark;
                return answer(offset, -1, p.leaderEpoch);
              }
              if (lp.timestamp === EARLIEST) return answer(log.logStartOffset, -1, p.leaderEpoch);
              if (lp.timestamp === MAX_TIMESTAMP) {
                const found = await log.maxTimestampOffset();
                return found ? answer(found.offset, found.timestamp, p.leaderEpoch) : answer(-1, -1, -1);
              }
              if (lp.timestamp < 0n) {
                return { ...answer(-1, -1, -1), errorCode: ErrorCode.UNSUPPORTED_VERSION };
              }
              const found = await log.fetchOffsetByTimestamp(Number(lp.timestamp));
              if (!found || found.offset >= p.highWatermark) return answer(-1, -1, -1);
              return answer(found.offset, found.timestamp, p.leaderEpoch);
            } catch (err) {
              return { ...answer(-1, -1, -1), errorCode: errorCodeOf(err) };
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
};
