// BrokerHeartbeat (63), on the controller listener: keeps a broker's session, unfences
// it once caught up, and carries a controlled shutdown through.
import { BrokerHeartbeat } from "../../protocol/generated/apis.ts";
import type { BrokerHeartbeatRequest } from "../../protocol/generated/messages/BrokerHeartbeatRequest.ts";
import type { BrokerHeartbeatResponse } from "../../protocol/generated/messages/BrokerHeartbeatResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const brokerHeartbeat: Handler<BrokerHeartbeatRequest, BrokerHeartbeatResponse, Broker> = {
  api: BrokerHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    if (!(await ctx.broker.isActiveController())) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NOT_CONTROLLER,
        isCaughtUp: false,
        isFenced: true,
        shouldShutDown: false,
      };
    }
    return ctx.broker.clusterControl.heartbeat(req);
  },
};
