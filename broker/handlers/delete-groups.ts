// DeleteGroups (42): removes empty groups and all their committed offsets.
import { DeleteGroups } from "../../protocol/generated/apis.ts";
import type { DeleteGroupsRequest } from "../../protocol/generated/messages/DeleteGroupsRequest.ts";
import type { DeleteGroupsResponse } from "../../protocol/generated/messages/DeleteGroupsResponse.ts";
import type { Broker } from "../broker.ts";
import type { Handler } from "./handler.ts";

export const deleteGroups: Handler<DeleteGroupsRequest, DeleteGroupsResponse, Broker> = {
  api: DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const results = [];
    for (const groupId of req.groupsNames) {
      results.push({ groupId, errorCode: await ctx.broker.groups.deleteGroup(groupId) });
    }
    return { throttleTimeMs: 0, results };
  },
};
