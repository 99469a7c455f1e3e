// Every API this broker serves, one module per API key (as franz-go's kfake lays them out).
import type { Broker } from "../broker.ts";
import type { Handler } from "./handler.ts";
import { produce } from "./produce.ts";
import { fetch } from "./fetch.ts";
import { listOffsets } from "./list-offsets.ts";
import { metadata } from "./metadata.ts";
import { apiVersions } from "./api-versions.ts";
import { createTopics } from "./create-topics.ts";
import { deleteTopics } from "./delete-topics.ts";
import { initProducerId } from "./init-producer-id.ts";
import { describeConfigs } from "./describe-configs.ts";
import { alterConfigs, incrementalAlterConfigs } from "./alter-configs.ts";
import { createPartitions } from "./create-partitions.ts";
import { describeCluster } from "./describe-cluster.ts";
import { deleteRecords } from "./delete-records.ts";
import { offsetForLeaderEpoch } from "./offset-for-leader-epoch.ts";
import { describeLogDirs } from "./describe-log-dirs.ts";

export const HANDLERS = [
  produce,
  fetch,
  listOffsets,
  metadata,
  apiVersions,
  createTopics,
  deleteTopics,
  initProducerId,
  describeConfigs,
  alterConfigs,
  incrementalAlterConfigs,
  createPartitions,
  describeCluster,
  deleteRecords,
  offsetForLeaderEpoch,
  describeLogDirs,
] as unknown as Handler<never, unknown, Broker>[];
