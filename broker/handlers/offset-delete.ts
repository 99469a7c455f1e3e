// OffsetDelete (47): removes an empty group's committed offsets for some partitions.
import { OffsetDelete } from "../../protocol/generated/apis.ts";
import type { OffsetDeleteRequest } from "../../protocol/generated/messages/OffsetDeleteRequest.ts";
import type { OffsetDeleteResponse } from "../../protocol/generated/messages/OffsetDeleteResponse.ts";
import type { Broker } from "../broker.ts";
import { errorCodeOf } from "../errors.ts";
import type { Handler } from "./handler.ts";
import { partitionExists } from "./offset-commit.ts";

export const offsetDelete: Handler<OffsetDeleteRequest, OffsetDeleteResponse, Broker> = {
  api: OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    try {
      const r = await ctx.broker.groups.deleteOffsets(
        req.groupId,
        req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
        partitionExists(ctx.broker),
      );
      return { errorCode: r.errorCode, throttleTimeMs: 0, topics: r.topics };
    } catch (err) {
      return { errorCode: errorCodeOf(err), throttleTimeMs: 0, topics: [] };
    }
  },
};
