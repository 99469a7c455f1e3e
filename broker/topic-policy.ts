// The cluster's topic policy inside the broker: loaded from the file named by
// capstan.topic.policy.file (the operator and local mode write it from the
// KafkaCluster's spec.topicPolicy), and checked by the same engine the operator and
// `capstan lint` use, so CreateTopics from any client is refused with POLICY_VIOLATION
// and the same message.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { TopicPolicySpec } from "../operator/api/types.ts";
import { checkTopic, describeViolations } from "../policy/topic-policy.ts";
import type { BrokerConfig } from "./config.ts";
import type { CreateTopicPolicy } from "./metadata/controller.ts";
import { resolveTopicConfig } from "./metadata/topic-config.ts";
import type { Logger } from "../lib/logger.ts";

/** Reads the policy file (YAML or JSON: the spec.topicPolicy object); undefined when none is configured. */
export function loadTopicPolicy(config: BrokerConfig): TopicPolicySpec | undefined {
  const file = config.string("capstan.topic.policy.file");
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`capstan.topic.policy.file: cannot read ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const policy = parse(text) as TopicPolicySpec | null;
  return policy ?? undefined;
}

/** The controller's create-topic hook for a policy: the refusal message, or undefined to allow. */
export function topicPolicyHook(
  policy: TopicPolicySpec,
  config: BrokerConfig,
  brokerCount: () => number,
  log: Logger,
): CreateTopicPolicy {
  return (req) => {
    const defaults = new Map(resolveTopicConfig(config, new Map()).map((c) => [c.name, c.value]));
    const violations = checkTopic(
      policy,
      {
        name: req.name,
        partitions: req.numPartitions,
        replicationFactor: req.replicationFactor,
        configs: req.configs,
      },
      { brokerCount: brokerCount(), defaultConfig: (name) => defaults.get(name) },
    );
    if (violations.length === 0) return undefined;
    const message = describeViolations(violations);
    // Kafka's own limits are refused in every mode; the policy's rules only in Enforce.
    const hard = violations.some((v) => v.rule === "topic-name");
    if ((policy.mode ?? "Enforce") === "Enforce" || hard) return message;
    log.warn(`topic ${req.name} admitted despite the topic policy (mode ${policy.mode})`, {
      violations: message,
    });
    return undefined;
  };
}
