// DeleteRecords (21): moves a partition's log start offset forward (the only way a
// client can make the broker drop data; whole segments below it are deleted). An
// offset of -1 means "up to the high watermark".
import { DeleteRecords } from "../../protocol/generated/apis.ts";
import type { DeleteRecordsRequest } from "../../protocol/generated/messages/DeleteRecordsRequest.ts";
import type { DeleteRecordsResponse } from "../../protocol/generated/messages/DeleteRecordsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode, errorCodeOf } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const deleteRecords: Handler<DeleteRecordsRequest, DeleteRecordsResponse, Broker> = {
  api: DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (dp) => {
            try {
              const p = ctx.broker.replicas.leaderPartition(t.name, dp.partitionIndex);
              const target = dp.offset === -1n ? p.highWatermark : Number(dp.offset);
              const low = await p.log.deleteRecordsBefore(target, p.highWatermark);
              return {
                partitionIndex: dp.partitionIndex,
                lowWatermark: BigInt(low),
                errorCode: ErrorCode.NONE,
              };
            } catch (err) {
              return { partitionIndex: dp.partitionIndex, lowWatermark: -1n, errorCode: errorCodeOf(err) };
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
};
