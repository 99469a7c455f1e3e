// Heartbeat (12): keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.
import { Heartbeat } from "../../protocol/generated/apis.ts";
import type { HeartbeatRequest } from "../../protocol/generated/messages/HeartbeatRequest.ts";
import type { HeartbeatResponse } from "../../protocol/generated/messages/HeartbeatResponse.ts";
import type { Broker } from "../broker.ts";
import { errorCodeOf } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const heartbeat: Handler<HeartbeatRequest, HeartbeatResponse, Broker> = {
  api: Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    let errorCode: number;
    try {
      errorCode = ctx.broker.groups.heartbeat({
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: ctx.apiVersion >= 3 ? req.groupInstanceId : null,
        generationId: req.generationId,
      });
    } catch (err) {
      errorCode = errorCodeOf(err);
    }
    return { throttleTimeMs: 0, errorCode };
  },
};
