// DescribeConfigs (32): a topic's effective configs (own overrides, broker settings and
// Kafka defaults, each with its source and, when asked, its synonyms), or a broker's.
import { DescribeConfigs } from "../../protocol/generated/apis.ts";
import type { DescribeConfigsRequest } from "../../protocol/generated/messages/DescribeConfigsRequest.ts";
import type {
  DescribeConfigsResourceResult,
  DescribeConfigsResponse,
  DescribeConfigsResult,
} from "../../protocol/generated/messages/DescribeConfigsResponse.ts";
import type { Broker } from "../broker.ts";
import { BROKER_PROPERTIES } from "../config.ts";
import { ErrorCode } from "../errors.ts";
import { ConfigSource, configTypeOf, resolveTopicConfig } from "../metadata/topic-config.ts";
import type { Handler } from "./handler.ts";

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

function topicConfigs(
  broker: Broker,
  name: string,
  req: DescribeConfigsRequest,
  v: number,
): DescribeConfigsResourceResult[] {
  const topic = broker.image.topicsByName.get(name)!;
  return resolveTopicConfig(broker.config, topic.configs).map((c) => {
    const synonyms = [];
    if (req.includeSynonyms && v >= 1) {
      if (c.source === ConfigSource.TOPIC_CONFIG)
        synonyms.push({ name: c.name, value: c.value, source: c.source });
      if (c.synonym) {
        const raw = broker.config.get(c.synonym);
        const value = Array.isArray(raw) ? raw.join(",") : raw === null ? null : String(raw);
        synonyms.push({
          name: c.synonym,
          value,
          source: broker.config.explicit.has(c.synonym)
            ? ConfigSource.STATIC_BROKER_CONFIG
            : ConfigSource.DEFAULT_CONFIG,
        });
      }
    }
    return {
      name: c.name,
      value: c.value,
      readOnly: false,
      isDefault: v === 0 && c.source === ConfigSource.DEFAULT_CONFIG,
      configSource: v >= 1 ? c.source : -1,
      isSensitive: false,
      synonyms,
      configType: v >= 3 ? configTypeOf(c.kind) : 0,
      documentation: v >= 3 && req.includeDocumentation ? c.doc : null,
    };
  });
}

function brokerConfigs(
  broker: Broker,
  req: DescribeConfigsRequest,
  v: number,
): DescribeConfigsResourceResult[] {
  return broker.config.entries().map((e) => {
    const value = e.value === null ? null : Array.isArray(e.value) ? e.value.join(",") : String(e.value);
    const source = e.explicit ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    const def = BROKER_PROPERTIES[e.name];
    return {
      name: e.name,
      value,
      readOnly: true,
      isDefault: v === 0 && !e.explicit,
      configSource: v >= 1 ? source : -1,
      isSensitive: false,
      synonyms: req.includeSynonyms && v >= 1 ? [{ name: e.name, value, source }] : [],
      configType: v >= 3 ? configTypeOf(def.kind) : 0,
      documentation: v >= 3 && req.includeDocumentation ? def.doc : null,
    };
  });
}

export const describeConfigs: Handler<DescribeConfigsRequest, DescribeConfigsResponse, Broker> = {
  api: DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const results: DescribeConfigsResult[] = req.resources.map((res) => {
      const result = (
        errorCode: number,
        errorMessage: string | null,
        configs: DescribeConfigsResourceResult[] = [],
      ) => ({
        errorCode,
        errorMessage,
        resourceType: res.resourceType,
        resourceName: res.resourceName,
        configs,
      });
      let configs: DescribeConfigsResourceResult[];
      if (res.resourceType === ResourceType.TOPIC) {
        if (!broker.image.topicsByName.has(res.resourceName)) {
          return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${res.resourceName} does not exist.`);
        }
        configs = topicConfigs(broker, res.resourceName, req, v);
      } else if (res.resourceType === ResourceType.BROKER) {
        if (res.resourceName !== "" && res.resourceName !== String(broker.nodeId)) {
          return result(
            ErrorCode.INVALID_REQUEST,
            `Broker ${res.resourceName} is not this broker (${broker.nodeId}).`,
          );
        }
        configs = brokerConfigs(broker, req, v);
      } else {
        return result(ErrorCode.INVALID_REQUEST, `Resource type ${res.resourceType} is not supported.`);
      }
      if (res.configurationKeys !== null) {
        const keys = new Set(res.configurationKeys);
        configs = configs.filter((c) => keys.has(c.name));
      }
      return result(ErrorCode.NONE, null, configs);
    });
    return { throttleTimeMs: 0, results };
  },
};
