// BrokerRegistration (62), on the controller listener: a broker joins the cluster
// (recorded fenced, with a new broker epoch) before it serves anything.
import { BrokerRegistration } from "../../protocol/generated/apis.ts";
import type { BrokerRegistrationRequest } from "../../protocol/generated/messages/BrokerRegistrationRequest.ts";
import type { BrokerRegistrationResponse } from "../../protocol/generated/messages/BrokerRegistrationResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const brokerRegistration: Handler<BrokerRegistrationRequest, BrokerRegistrationResponse, Broker> = {
  api: BrokerRegistration,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (!(await broker.isActiveController())) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1n };
    }
    if (req.clusterId !== "" && req.clusterId !== broker.clusterId) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, brokerEpoch: -1n };
    }
    return broker.clusterControl.register(req);
  },
};
