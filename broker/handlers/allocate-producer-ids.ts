// AllocateProducerIds (67), on the controller listener: a block of producer ids for a
// broker to hand out (InitProducerId), reserved durably so none is ever reused.
import { AllocateProducerIds } from "../../protocol/generated/apis.ts";
import type { AllocateProducerIdsRequest } from "../../protocol/generated/messages/AllocateProducerIdsRequest.ts";
import type { AllocateProducerIdsResponse } from "../../protocol/generated/messages/AllocateProducerIdsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode, errorCodeOf } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const allocateProducerIds: Handler<AllocateProducerIdsRequest, AllocateProducerIdsResponse, Broker> = {
  api: AllocateProducerIds,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const fail = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      producerIdStart: -1n,
      producerIdLen: 0,
    });
    if (!(await ctx.broker.isActiveController())) return fail(ErrorCode.NOT_CONTROLLER);
    try {
      const block = await ctx.broker.localController.allocateProducerIdBlock(req.brokerId);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerIdStart: block.start,
        producerIdLen: block.length,
      };
    } catch (e) {
      return fail(errorCodeOf(e));
    }
  },
};
