// ElectLeaders (43): a preferred (back to each partition's first replica) or unclean
// (an out-of-sync replica of an offline partition) leader election on request.
import { ElectLeaders } from "../../protocol/generated/apis.ts";
import type { ElectLeadersRequest } from "../../protocol/generated/messages/ElectLeadersRequest.ts";
import type { ElectLeadersResponse } from "../../protocol/generated/messages/ElectLeadersResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const electLeaders: Handler<ElectLeadersRequest, ElectLeadersResponse, Broker> = {
  api: ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (await broker.isActiveController()) return broker.replicationControl.electLeaders(req, ctx.apiVersion);
    return broker.forwardToController(
      ElectLeaders,
      ctx.apiVersion,
      req,
      (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
    );
  },
};
