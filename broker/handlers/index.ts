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
// The group coordinator's APIs (broker/group).
import { findCoordinator } from "./find-coordinator.ts";
import { joinGroup } from "./join-group.ts";
import { syncGroup } from "./sync-group.ts";
import { heartbeat } from "./heartbeat.ts";
import { leaveGroup } from "./leave-group.ts";
import { offsetCommit } from "./offset-commit.ts";
import { offsetFetch } from "./offset-fetch.ts";
import { listGroups } from "./list-groups.ts";
import { describeGroups } from "./describe-groups.ts";
import { deleteGroups } from "./delete-groups.ts";
import { offsetDelete } from "./offset-delete.ts";
// The cluster: reassignments and elections (forwarded to the active controller).
import { alterPartitionReassignments } from "./alter-partition-reassignments.ts";
import { listPartitionReassignments } from "./list-partition-reassignments.ts";
import { electLeaders } from "./elect-leaders.ts";
import { describeQuorum } from "./describe-quorum.ts";
// The controller listener's own APIs (broker/raft for the quorum's).
import { brokerRegistration } from "./broker-registration.ts";
import { brokerHeartbeat } from "./broker-heartbeat.ts";
import { alterPartition } from "./alter-partition.ts";
import { allocateProducerIds } from "./allocate-producer-ids.ts";
import { RAFT_HANDLERS } from "../raft/handlers.ts";

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
  findCoordinator,
  joinGroup,
  syncGroup,
  heartbeat,
  leaveGroup,
  offsetCommit,
  offsetFetch,
  listGroups,
  describeGroups,
  deleteGroups,
  offsetDelete,
  alterPartitionReassignments,
  listPartitionReassignments,
  electLeaders,
  describeQuorum,
] as unknown as Handler<never, unknown, Broker>[];

/**
 * The CONTROLLER listener: the metadata quorum (Vote, BeginQuorumEpoch, EndQuorumEpoch,
 * Fetch and FetchSnapshot of the metadata log, DescribeQuorum), broker membership and
 * ISR changes, and the admin requests brokers forward to the active controller.
 */
export const CONTROLLER_HANDLERS = [
  apiVersions,
  ...RAFT_HANDLERS,
  brokerRegistration,
  brokerHeartbeat,
  alterPartition,
  allocateProducerIds,
  createTopics,
  deleteTopics,
  createPartitions,
  alterConfigs,
  incrementalAlterConfigs,
  alterPartitionReassignments,
  listPartitionReassignments,
  electLeaders,
] as unknown as Handler<never, unknown, Broker>[];
