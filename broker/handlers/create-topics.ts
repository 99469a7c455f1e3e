// CreateTopics (19): validates each topic (name, partitions, replication factor,
// configs, the topic policy) and creates it through the controller. validateOnly
// checks without creating. v5+ returns the topic's effective configs.
import { CreateTopics } from "../../protocol/generated/apis.ts";
import type { CreateTopicsRequest } from "../../protocol/generated/messages/CreateTopicsRequest.ts";
import type {
  CreatableTopicResult,
  CreateTopicsResponse,
} from "../../protocol/generated/messages/CreateTopicsResponse.ts";
import { ZERO_UUID } from "../../protocol/wire/index.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import { resolveTopicConfig } from "../metadata/topic-config.ts";
import type { Handler } from "./handler.ts";

export const createTopics: Handler<CreateTopicsRequest, CreateTopicsResponse, Broker> = {
  api: CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const results = await broker.controller.createTopics(
      req.topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: [...t.assignments]
          .sort((a, b) => a.partitionIndex - b.partitionIndex)
          .map((a) => a.brokerIds),
        configs: t.configs.map((c) => ({ name: c.name, value: c.value })),
      })),
      req.validateOnly,
    );
    const topics: CreatableTopicResult[] = results.map((r, i) => {
      const requested = req.topics[i];
      if (r.error) {
        return {
          name: r.name,
          topicId: ZERO_UUID,
          errorCode: ErrorCode[r.error.code],
          errorMessage: v >= 1 ? r.error.message : null,
          topicConfigErrorCode: 0,
          numPartitions: -1,
          replicationFactor: -1,
          configs: v >= 5 ? [] : [],
        };
      }
      const overrides = new Map(requested.configs.map((c) => [c.name, c.value ?? ""]));
      const defaults = broker.controllerDefaults();
      const partitions =
        r.topic?.partitions.length ??
        (requested.assignments.length > 0
          ? requested.assignments.length
          : requested.numPartitions === -1
            ? defaults.numPartitions
            : requested.numPartitions);
      const rf =
        r.topic?.partitions[0]?.replicas.length ??
        (requested.assignments.length > 0
          ? requested.assignments[0].brokerIds.length
          : requested.replicationFactor === -1
            ? defaults.defaultReplicationFactor
            : requested.replicationFactor);
      return {
        name: r.name,
        topicId: v >= 7 && r.topic ? r.topic.id : ZERO_UUID,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topicConfigErrorCode: 0,
        numPartitions: v >= 5 ? partitions : -1,
        replicationFactor: v >= 5 ? rf : -1,
        configs:
          v >= 5
            ? resolveTopicConfig(broker.config, r.topic?.configs ?? overrides).map((c) => ({
                name: c.name,
                value: c.value,
                readOnly: false,
                configSource: c.source,
                isSensitive: false,
              }))
            : [],
      };
    });
    return { throttleTimeMs: 0, topics };
  },
};
