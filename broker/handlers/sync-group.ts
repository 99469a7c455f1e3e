// SyncGroup (14): the leader hands in the assignment; every member waits for its part.
// v5 checks the protocol type and name against the group's.
import { SyncGroup } from "../../protocol/generated/apis.ts";
import type { SyncGroupRequest } from "../../protocol/generated/messages/SyncGroupRequest.ts";
import type { SyncGroupResponse } from "../../protocol/generated/messages/SyncGroupResponse.ts";
import type { Broker } from "../broker.ts";
import type { Handler } from "./handler.ts";

export const syncGroup: Handler<SyncGroupRequest, SyncGroupResponse, Broker> = {
  api: SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const r = await ctx.broker.groups.syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: v >= 3 ? req.groupInstanceId : null,
      protocolType: v >= 5 ? req.protocolType : null,
      protocolName: v >= 5 ? req.protocolName : null,
      assignments: req.assignments,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      protocolType: r.protocolType,
      protocolName: r.protocolName,
      assignment: r.assignment,
    };
  },
};
