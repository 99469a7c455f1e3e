// LeaveGroup (13): members leave (v0-2 one member, v3+ a batch with per-member errors;
// an instance id alone removes a static member administratively).
import { LeaveGroup } from "../../protocol/generated/apis.ts";
import type { LeaveGroupRequest } from "../../protocol/generated/messages/LeaveGroupRequest.ts";
import type { LeaveGroupResponse } from "../../protocol/generated/messages/LeaveGroupResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode, errorCodeOf } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const leaveGroup: Handler<LeaveGroupRequest, LeaveGroupResponse, Broker> = {
  api: LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const batched = ctx.apiVersion >= 3;
    const members = batched
      ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
      : [{ memberId: req.memberId, groupInstanceId: null }];
    let result: ReturnType<Broker["groups"]["leaveGroup"]>;
    try {
      result = ctx.broker.groups.leaveGroup(req.groupId, members);
    } catch (err) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(err), members: [] };
    }
    if (batched) return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
    // Before v3 the single member's outcome is the response's error.
    const errorCode =
      result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.members[0]?.errorCode ?? 0);
    return { throttleTimeMs: 0, errorCode, members: [] };
  },
};
