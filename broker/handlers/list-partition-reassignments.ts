// ListPartitionReassignments (46): the reassignments in progress, as the active
// controller knows them. Any broker takes it and asks the active controller.
import { ListPartitionReassignments } from "../../protocol/generated/apis.ts";
import type { ListPartitionReassignmentsRequest } from "../../protocol/generated/messages/ListPartitionReassignmentsRequest.ts";
import type { ListPartitionReassignmentsResponse } from "../../protocol/generated/messages/ListPartitionReassignmentsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const listPartitionReassignments: Handler<
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  Broker
> = {
  api: ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (await broker.isActiveController()) return broker.replicationControl.listReassignments(req);
    return broker.forwardToController(
      ListPartitionReassignments,
      ctx.apiVersion,
      req,
      (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
    );
  },
};
