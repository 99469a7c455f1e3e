// AlterPartitionReassignments (45) and ListPartitionReassignments (46): moving a
// partition's replicas to other brokers, or changing how many it has. Any broker takes
// them; the active controller carries them out.
import { AlterPartitionReassignments, ListPartitionReassignments } from "../../protocol/generated/apis.ts";
import type { AlterPartitionReassignmentsRequest } from "../../protocol/generated/messages/AlterPartitionReassignmentsRequest.ts";
import type { AlterPartitionReassignmentsResponse } from "../../protocol/generated/messages/AlterPartitionReassignmentsResponse.ts";
import type { ListPartitionReassignmentsRequest } from "../../protocol/generated/messages/ListPartitionReassignmentsRequest.ts";
import type { ListPartitionReassignmentsResponse } from "../../protocol/generated/messages/ListPartitionReassignmentsResponse.ts";
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
