// Metadata (3): brokers, the controller, and topics with their partitions' leaders,
// replicas and ISR. Unknown topics are created when auto.create.topics.enable and the
// request allows it (always for v0-3), answered with LEADER_NOT_AVAILABLE until the
// leader is ready, as Kafka does, so clients retry.
import { Metadata } from "../../protocol/generated/apis.ts";
import type { MetadataRequest } from "../../protocol/generated/messages/MetadataRequest.ts";
import type {
  MetadataResponse,
  MetadataResponseTopic,
} from "../../protocol/generated/messages/MetadataResponse.ts";
import { ZERO_UUID } from "../../protocol/wire/index.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { TopicState } from "../metadata/image.ts";
import { illegalTopicNameReason, isInternalTopic } from "../metadata/topic-names.ts";
import type { Handler } from "./handler.ts";

/** "Authorized operations were not requested." */
const NOT_REQUESTED = -2147483648;

export function describeTopic(broker: Broker, topic: TopicState, version: number): MetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: version >= 10 ? topic.id : ZERO_UUID,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map((p) => {
      const live = new Set(broker.image.liveBrokerIds());
      return {
        errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
        partitionIndex: p.partition,
        leaderId: p.leader,
        leaderEpoch: version >= 7 ? p.leaderEpoch : -1,
        replicaNodes: p.replicas,
        isrNodes: p.isr,
        offlineReplicas: version >= 5 ? p.replicas.filter((r) => !live.has(r)) : [],
      };
    }),
    topicAuthorizedOperations: NOT_REQUESTED,
  };
}

function errorTopic(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: NOT_REQUESTED,
  };
}

export const metadata: Handler<MetadataRequest, MetadataResponse, Broker> = {
  api: Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const listener = ctx.connection.listener;
    // v0: an empty list means all topics; v1+: null means all, empty means none.
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    const topics: MetadataResponseTopic[] = [];
    if (all) {
      for (const t of broker.image.topicsByName.values()) topics.push(describeTopic(broker, t, version));
    } else {
      const allowAuto = version < 4 || req.allowAutoTopicCreation;
      const toCreate: string[] = [];
      for (const t of req.topics ?? []) {
        if (t.name === null && version < 12) {
          // Lookups by topic id came with v12; before it a topic name is required.
          topics.push(errorTopic("", t.topicId, ErrorCode.INVALID_REQUEST));
          continue;
        }
        if (t.name === null) {
          const byId = broker.image.topicsById.get(t.topicId);
          topics.push(
            byId
              ? describeTopic(broker, byId, version)
              : errorTopic(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID),
          );
          continue;
        }
        const existing = broker.image.topicsByName.get(t.name);
        if (existing) {
          topics.push(describeTopic(broker, existing, version));
        } else if (illegalTopicNameReason(t.name)) {
          topics.push(errorTopic(t.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
        } else if (allowAuto && broker.config.bool("auto.create.topics.enable") && !isInternalTopic(t.name)) {
          toCreate.push(t.name);
          topics.push(errorTopic(t.name, ZERO_UUID, ErrorCode.LEADER_NOT_AVAILABLE));
        } else {
          topics.push(errorTopic(t.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        }
      }
      if (toCreate.length > 0) {
        const results = await broker.autoCreateTopics(toCreate);
        for (const r of results) {
          const i = topics.findIndex((t) => t.name === r.name);
          if (r.topic) topics[i] = describeTopic(broker, r.topic, version);
          else if (r.error?.code === "TOPIC_ALREADY_EXISTS") {
            const t = broker.image.topicsByName.get(r.name);
            if (t) topics[i] = describeTopic(broker, t, version);
          } else if (r.error?.code === "POLICY_VIOLATION" || r.error?.code === "INVALID_TOPIC_EXCEPTION") {
            topics[i] = errorTopic(r.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
          }
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: broker.brokersFor(listener),
      clusterId: version >= 2 ? broker.clusterId : null,
      controllerId: version >= 1 ? broker.controllerId() : -1,
      topics,
      clusterAuthorizedOperations: NOT_REQUESTED,
    };
  },
};
