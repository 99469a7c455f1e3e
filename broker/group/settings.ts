// The group coordinator's settings, read from the broker's properties (Kafka's names
// and defaults: group.* and offsets.*).
import type { CompressionType } from "../../protocol/records/index.ts";
import type { BrokerConfig } from "../config.ts";
import type { GroupCoordinatorConfig } from "./coordinator.ts";

export function groupCoordinatorConfig(config: BrokerConfig): GroupCoordinatorConfig {
  return {
    initialRebalanceDelayMs: config.int("group.initial.rebalance.delay.ms"),
    minSessionTimeoutMs: config.int("group.min.session.timeout.ms"),
    maxSessionTimeoutMs: config.int("group.max.session.timeout.ms"),
    maxGroupSize: config.int("group.max.size"),
    offsetsRetentionMs: config.int("offsets.retention.minutes") * 60_000,
    offsetsRetentionCheckIntervalMs: config.int("offsets.retention.check.interval.ms"),
    offsetMetadataMaxBytes: config.int("offset.metadata.max.bytes"),
    compression: config.int("offsets.topic.compression.codec") as CompressionType,
  };
}
