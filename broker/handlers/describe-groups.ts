// DescribeGroups (15): state, protocol and members (with subscription and assignment
// bytes) of classic groups. An unknown group is described as Dead, as Kafka does
// before v6.
import { DescribeGroups } from "../../protocol/generated/apis.ts";
import type { DescribeGroupsRequest } from "../../protocol/generated/messages/DescribeGroupsRequest.ts";
import type { DescribeGroupsResponse } from "../../protocol/generated/messages/DescribeGroupsResponse.ts";
import type { Broker } from "../broker.ts";
import type { Handler } from "./handler.ts";

/** "Authorized operations were not requested." */
const NOT_REQUESTED = -2147483648;
/** Without ACLs every group operation is allowed: READ (3), DELETE (6), DESCRIBE (8). */
const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export const describeGroups: Handler<DescribeGroupsRequest, DescribeGroupsResponse, Broker> = {
  api: DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const ops = ctx.apiVersion >= 3 && req.includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : NOT_REQUESTED;
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((id) => ({ ...ctx.broker.groups.describeGroup(id), authorizedOperations: ops })),
    };
  },
};
