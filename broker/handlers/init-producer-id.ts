// InitProducerId (22) for idempotent producers: a fresh producer id with epoch 0, or,
// when the client passes its current id and epoch (v3+, KIP-360), the same id with the
// epoch bumped. Transactional ids need the transaction coordinator (not yet served).
import { InitProducerId } from "../../protocol/generated/apis.ts";
import type { InitProducerIdRequest } from "../../protocol/generated/messages/InitProducerIdRequest.ts";
import type { InitProducerIdResponse } from "../../protocol/generated/messages/InitProducerIdResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

const MAX_EPOCH = 32767;

export const initProducerId: Handler<InitProducerIdRequest, InitProducerIdResponse, Broker> = {
  api: InitProducerId,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const fail = (errorCode: number): InitProducerIdResponse => ({
      throttleTimeMs: 0,
      errorCode,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (req.transactionalId !== null && req.transactionalId !== "") {
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    if (req.producerId >= 0n && req.producerEpoch >= 0 && req.producerEpoch < MAX_EPOCH - 1) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch + 1,
      };
    }
    const producerId = await ctx.broker.controller.allocateProducerId(ctx.broker.nodeId);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
  },
};
