// CreatePartitions (37): grows a topic's partition count (never shrinks it).
import { CreatePartitions } from "../../protocol/generated/apis.ts";
import type { CreatePartitionsRequest } from "../../protocol/generated/messages/CreatePartitionsRequest.ts";
import type { CreatePartitionsResponse } from "../../protocol/generated/messages/CreatePartitionsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const createPartitions: Handler<CreatePartitionsRequest, CreatePartitionsResponse, Broker> = {
  api: CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, req) {
    const results = await ctx.broker.controller.createPartitions(
      req.topics.map((t) => ({
        name: t.name,
        count: t.count,
        assignments: t.assignments ? t.assignments.map((a) => a.brokerIds) : null,
      })),
      req.validateOnly,
    );
    return {
      throttleTimeMs: 0,
      results: results.map((r) => ({
        name: r.name,
        errorCode: r.error ? ErrorCode[r.error.code] : ErrorCode.NONE,
        errorMessage: r.error?.message ?? null,
      })),
    };
  },
};
