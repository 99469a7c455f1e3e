// AlterPartition (56), on the controller listener: a partition leader's proposed ISR.
import { AlterPartition } from "../../protocol/generated/apis.ts";
import type { AlterPartitionRequest } from "../../protocol/generated/messages/AlterPartitionRequest.ts";
import type { AlterPartitionResponse } from "../../protocol/generated/messages/AlterPartitionResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const alterPartition: Handler<AlterPartitionRequest, AlterPartitionResponse, Broker> = {
  api: AlterPartition,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    if (!(await ctx.broker.isActiveController())) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] };
    }
    return ctx.broker.replicationControl.alterPartition(req, ctx.apiVersion);
  },
};
