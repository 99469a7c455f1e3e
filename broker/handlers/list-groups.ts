// ListGroups (16): the groups this broker coordinates, filtered by state (v4+) and by
// type (v5+; every group here is a "classic" one).
import { ListGroups } from "../../protocol/generated/apis.ts";
import type { ListGroupsRequest } from "../../protocol/generated/messages/ListGroupsRequest.ts";
import type { ListGroupsResponse } from "../../protocol/generated/messages/ListGroupsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const listGroups: Handler<ListGroupsRequest, ListGroupsResponse, Broker> = {
  api: ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups.listGroups(
      v >= 4 ? req.statesFilter : [],
      v >= 5 ? req.typesFilter : [],
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
};
