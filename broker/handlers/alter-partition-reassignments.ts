// AlterPartitionReassignments (45): moving a partition's replicas to other brokers, or
// changing how many it has. Any broker takes it; the active controller carries it out.
import { AlterPartitionReassignments } from "../../protocol/generated/apis.ts";
import type { AlterPartitionReassignmentsRequest } from "../../protocol/generated/messages/AlterPartitionReassignmentsRequest.ts";
import type { AlterPartitionReassignmentsResponse } from "../../protocol/generated/messages/AlterPartitionReassignmentsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const alterPartitionReassignments: Handler<
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  Broker
> = {
  api: AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (await broker.isActiveController()) return broker.replicationControl.alterReassignments(req);
    return broker.forwardToController(
      AlterPartitionReassignments,
      ctx.apiVersion,
      req,
      (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
    );
  },
};
