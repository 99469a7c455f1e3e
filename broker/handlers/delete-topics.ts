// DeleteTopics (20): by name (v0-5) or by name or topic id (v6+).
import { DeleteTopics } from "../../protocol/generated/apis.ts";
import type { DeleteTopicsRequest } from "../../protocol/generated/messages/DeleteTopicsRequest.ts";
import type {
  DeletableTopicResult,
  DeleteTopicsResponse,
} from "../../protocol/generated/messages/DeleteTopicsResponse.ts";
import { ZERO_UUID } from "../../protocol/wire/index.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const deleteTopics: Handler<DeleteTopicsRequest, DeleteTopicsResponse, Broker> = {
  api: DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const responses: DeletableTopicResult[] = [];
    const names: string[] = [];
    const requested =
      v >= 6
        ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    for (const t of requested) {
      if (t.name !== null) {
        names.push(t.name);
        continue;
      }
      const topic = broker.image.topicsById.get(t.topicId);
      if (topic) names.push(topic.name);
      else {
        responses.push({
          name: null,
          topicId: t.topicId,
          errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          errorMessage: v >= 5 ? "This server does not host this topic ID." : null,
        });
      }
    }
    const results = await broker.controller.deleteTopics(names);
    for (const r of results) {
      responses.push({
        name: r.name,
        topicId: v >= 6 ? (r.topic?.id ?? ZERO_UUID) : ZERO_UUID,
        errorCode: r.error ? ErrorCode[r.error.code] : ErrorCode.NONE,
        errorMessage: v >= 5 && r.error ? r.error.message : null,
      });
    }
    return { throttleTimeMs: 0, responses };
  },
};
