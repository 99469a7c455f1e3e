// OffsetFetch (9): a group's committed offsets (-1 where none). v0-7 ask for one group
// (topics null = all of them, from v2), v8+ for several at once. There are no
// transactional offset commits yet, so RequireStable never has anything to wait for.
import { OffsetFetch } from "../../protocol/generated/apis.ts";
import type { OffsetFetchRequest } from "../../protocol/generated/messages/OffsetFetchRequest.ts";
import type { OffsetFetchResponse } from "../../protocol/generated/messages/OffsetFetchResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const offsetFetch: Handler<OffsetFetchRequest, OffsetFetchResponse, Broker> = {
  api: OffsetFetch,
  minVersion: 0,
  maxVersion: 8,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups;
    if (v >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: ErrorCode.NONE,
        groups: req.groups.map((g) => {
          const r = groups.fetchOffsets(g.groupId, g.topics);
          return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics };
        }),
      };
    }
    const asked = req.topics;
    const r = groups.fetchOffsets(req.groupId, asked);
    let topics = r.topics;
    if (r.errorCode !== ErrorCode.NONE) {
      // Versions without a top-level error (0-1) report it on every partition asked for.
      topics = (asked ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          committedOffset: -1n,
          committedLeaderEpoch: -1,
          metadata: "",
          errorCode: r.errorCode,
        })),
      }));
    }
    return { throttleTimeMs: 0, topics, errorCode: v >= 2 ? r.errorCode : ErrorCode.NONE, groups: [] };
  },
};
