// The active controller's side of partition replication (KRaft's
// ReplicationControlManager): ISR changes the partition leaders propose
// (AlterPartition, checked against the leader and partition epochs so a deposed
// leader's view is refused), replica reassignments (AlterPartitionReassignments: new
// replicas join, catch up, enter the ISR, then the replica set becomes the target and
// the removed ones leave), and elections on request (ElectLeaders).
import type { AlterPartitionRequest } from "../../protocol/generated/messages/AlterPartitionRequest.ts";
import type {
  AlterPartitionResponse,
  PartitionData as AlterPartitionResult,
} from "../../protocol/generated/messages/AlterPartitionResponse.ts";
import type { AlterPartitionReassignmentsRequest } from "../../protocol/generated/messages/AlterPartitionReassignmentsRequest.ts";
import type { AlterPartitionReassignmentsResponse } from "../../protocol/generated/messages/AlterPartitionReassignmentsResponse.ts";
import type { ListPartitionReassignmentsRequest } from "../../protocol/generated/messages/ListPartitionReassignmentsRequest.ts";
import type { ListPartitionReassignmentsResponse } from "../../protocol/generated/messages/ListPartitionReassignmentsResponse.ts";
import type { ElectLeadersRequest } from "../../protocol/generated/messages/ElectLeadersRequest.ts";
import type { ElectLeadersResponse } from "../../protocol/generated/messages/ElectLeadersResponse.ts";
import type { Logger } from "../../lib/logger.ts";
import { ErrorCode } from "../errors.ts";
import type { ClusterControl } from "./cluster-control.ts";
import type { Controller } from "./controller.ts";
import type { PartitionState, TopicState } from "./image.ts";
import { type PartitionChangeTarget, buildPartitionChange, electLeader } from "./partition-change.ts";
import type { MetadataRecord } from "./records.ts";

export interface ReplicationControlOptions {
  controller: Controller;
  cluster: ClusterControl;
  uncleanAllowed: (topic: TopicState) => boolean;
  logger: Logger;
}

const PREFERRED = 0;
const UNCLEAN = 1;

export class ReplicationControl {
  private readonly opts: ReplicationControlOptions;

  constructor(opts: ReplicationControlOptions) {
    this.opts = opts;
  }

  private get image() {
    return this.opts.controller.image;
  }

  private rules(topic: TopicState) {
    return {
      canLead: (b: number) => this.opts.cluster.canLead(b),
      uncleanAllowed: this.opts.uncleanAllowed(topic),
    };
  }

  /** A reassignment is complete once every target replica is in the ISR. */
  private completion(p: PartitionState, isr: readonly number[]): PartitionChangeTarget | null {
    if (p.addingReplicas.length === 0 && p.removingReplicas.length === 0) return null;
    const target = p.replicas.filter((r) => !p.removingReplicas.includes(r));
    if (!target.every((r) => isr.includes(r))) return null;
    return {
      replicas: target,
      isr: isr.filter((r) => target.includes(r)),
      addingReplicas: [],
      removingReplicas: [],
    };
  }

  alterPartition(req: AlterPartitionRequest, version: number): Promise<AlterPartitionResponse> {
    return this.opts.controller.run(async () => {
      const broker = this.image.brokers.get(req.brokerId);
      if (!broker || (req.brokerEpoch >= 0n && broker.epoch !== req.brokerEpoch)) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.STALE_BROKER_EPOCH, topics: [] };
      }
      const records: MetadataRecord[] = [];
      const pending: Array<{ topic: TopicState | undefined; index: number; out: AlterPartitionResult }> = [];
      const results: AlterPartitionResponse["topics"] = [];
      for (const t of req.topics) {
        const topic =
          version >= 2 ? this.image.topicsById.get(t.topicId) : this.image.topicsByName.get(t.topicName);
        const partitions: AlterPartitionResult[] = [];
        results.push({ topicName: t.topicName, topicId: t.topicId, partitions });
        for (const pd of t.partitions) {
          const out: AlterPartitionResult = {
            partitionIndex: pd.partitionIndex,
            errorCode: ErrorCode.NONE,
            leaderId: -1,
            leaderEpoch: -1,
            isr: [],
            leaderRecoveryState: 0,
            partitionEpoch: -1,
          };
          partitions.push(out);
          const p = topic?.partitions[pd.partitionIndex];
          if (!topic || !p) {
            out.errorCode = version >= 2 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            continue;
          }
          if (p.leader !== req.brokerId) {
            out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
            continue;
          }
          if (pd.leaderEpoch !== p.leaderEpoch) {
            out.errorCode = ErrorCode.FENCED_LEADER_EPOCH;
            continue;
          }
          if (pd.partitionEpoch !== p.partitionEpoch) {
            out.errorCode = ErrorCode.INVALID_UPDATE_VERSION;
            continue;
          }
          const proposed = version >= 3 ? pd.newIsrWithEpochs.map((b) => b.brokerId) : pd.newIsr;
          if (!proposed.includes(p.leader) || new Set(proposed).size !== proposed.length) {
            out.errorCode = ErrorCode.INVALID_REQUEST;
            continue;
          }
          const epochs = new Map(
            version >= 3 ? pd.newIsrWithEpochs.map((b) => [b.brokerId, b.brokerEpoch]) : [],
          );
          const ineligible = proposed.filter((id) => {
            if (!p.replicas.includes(id)) return true;
            if (id === p.leader) return false;
            const b = this.image.brokers.get(id);
            if (!b || b.fenced || b.inControlledShutdown) return true;
            const e = epochs.get(id);
            return e !== undefined && e >= 0n && e !== b.epoch;
          });
          if (ineligible.length > 0) {
            out.errorCode = ErrorCode.INELIGIBLE_REPLICA;
            continue;
          }
          const target: PartitionChangeTarget = this.completion(p, proposed) ?? { isr: proposed };
          const rec = buildPartitionChange(p, target, this.rules(topic));
          if (rec) records.push({ type: "PartitionChange", value: rec });
          pending.push({ topic, index: pd.partitionIndex, out });
        }
      }
      await this.opts.controller.commit(records);
      for (const { topic, index, out } of pending) {
        const p = topic!.partitions[index];
        out.leaderId = p.leader;
        out.leaderEpoch = p.leaderEpoch;
        out.isr = [...p.isr];
        out.partitionEpoch = p.partitionEpoch;
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics: results };
    });
  }

  alterReassignments(req: AlterPartitionReassignmentsRequest): Promise<AlterPartitionReassignmentsResponse> {
    return this.opts.controller.run(async () => {
      const records: MetadataRecord[] = [];
      const responses: AlterPartitionReassignmentsResponse["responses"] = [];
      for (const t of req.topics) {
        const topic = this.image.topicsByName.get(t.name);
        const partitions: AlterPartitionReassignmentsResponse["responses"][number]["partitions"] = [];
        responses.push({ name: t.name, partitions });
        for (const rp of t.partitions) {
          const fail = (errorCode: number, errorMessage: string) =>
            void partitions.push({ partitionIndex: rp.partitionIndex, errorCode, errorMessage });
          const p = topic?.partitions[rp.partitionIndex];
          if (!topic || !p) {
            fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${t.name}-${rp.partitionIndex} does not exist.`);
            continue;
          }
          const original = p.replicas.filter((r) => !p.addingReplicas.includes(r));
          let target: PartitionChangeTarget;
          if (rp.replicas === null) {
            if (p.addingReplicas.length === 0 && p.removingReplicas.length === 0) {
              fail(
                ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
                `No reassignment of ${t.name}-${rp.partitionIndex} is in progress.`,
              );
              continue;
            }
            const isr = p.isr.filter((r) => original.includes(r));
            target = {
              replicas: original,
              isr: isr.length > 0 ? isr : p.isr,
              addingReplicas: [],
              removingReplicas: [],
            };
          } else {
            const wanted = rp.replicas;
            const problem =
              wanted.length === 0
                ? "The replica list is empty."
                : new Set(wanted).size !== wanted.length
                  ? `The replica list ${wanted.join(",")} names a broker twice.`
                  : wanted.some((b) => !this.image.brokers.has(b))
                    ? `Unknown broker(s) ${wanted.filter((b) => !this.image.brokers.has(b)).join(",")}.`
                    : null;
            if (problem) {
              fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, problem);
              continue;
            }
            const adding = wanted.filter((r) => !original.includes(r));
            const removing = original.filter((r) => !wanted.includes(r));
            const during = {
              ...p,
              replicas: [...wanted, ...removing],
              addingReplicas: adding,
              removingReplicas: removing,
            };
            target = this.completion(during, p.isr) ?? {
              replicas: during.replicas,
              addingReplicas: adding,
              removingReplicas: removing,
            };
          }
          const rec = buildPartitionChange(p, target, this.rules(topic));
          if (rec) records.push({ type: "PartitionChange", value: rec });
          partitions.push({
            partitionIndex: rp.partitionIndex,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
          });
        }
      }
      await this.opts.controller.commit(records);
      if (records.length > 0)
        this.opts.logger.info("partition reassignments changed", { partitions: records.length });
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
    });
  }

  listReassignments(req: ListPartitionReassignmentsRequest): ListPartitionReassignmentsResponse {
    const wanted =
      req.topics === null ? null : new Map(req.topics.map((t) => [t.name, new Set(t.partitionIndexes)]));
    const topics: ListPartitionReassignmentsResponse["topics"] = [];
    for (const topic of this.image.topicsByName.values()) {
      const only = wanted?.get(topic.name);
      if (wanted && !only) continue;
      const partitions = topic.partitions
        .filter((p) => p && (p.addingReplicas.length > 0 || p.removingReplicas.length > 0))
        .filter((p) => !only || only.has(p.partition))
        .map((p) => ({
          partitionIndex: p.partition,
          replicas: [...p.replicas],
          addingReplicas: [...p.addingReplicas],
          removingReplicas: [...p.removingReplicas],
        }));
      if (partitions.length > 0) topics.push({ name: topic.name, partitions });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics };
  }

  electLeaders(req: ElectLeadersRequest, version: number): Promise<ElectLeadersResponse> {
    return this.opts.controller.run(async () => {
      const type = version >= 1 ? req.electionType : PREFERRED;
      const records: MetadataRecord[] = [];
      const results: ElectLeadersResponse["replicaElectionResults"] = [];
      const asked =
        req.topicPartitions ??
        [...this.image.topicsByName.values()].map((t) => ({
          topic: t.name,
          partitions: t.partitions.map((p) => p.partition),
        }));
      for (const tp of asked) {
        const topic = this.image.topicsByName.get(tp.topic);
        const partitionResult: ElectLeadersResponse["replicaElectionResults"][number]["partitionResult"] = [];
        results.push({ topic: tp.topic, partitionResult });
        for (const index of tp.partitions) {
          const answer = (errorCode: number, errorMessage: string | null = null) =>
            void partitionResult.push({ partitionId: index, errorCode, errorMessage });
          const p = topic?.partitions[index];
          if (!topic || !p) {
            answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.");
            continue;
          }
          if (type === UNCLEAN) {
            if (p.leader >= 0) {
              answer(ErrorCode.ELECTION_NOT_NEEDED, "The partition has a leader.");
              continue;
            }
            const outcome = electLeader(
              p,
              {},
              { canLead: (b) => this.opts.cluster.canLead(b), uncleanAllowed: true },
            );
            if (outcome.leader < 0) {
              answer(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, "No live replica can lead.");
              continue;
            }
            const rec = buildPartitionChange(
              p,
              {},
              { canLead: (b) => this.opts.cluster.canLead(b), uncleanAllowed: true },
            );
            if (rec) records.push({ type: "PartitionChange", value: rec });
            answer(ErrorCode.NONE);
            continue;
          }
          if (p.leader === p.replicas[0]) {
            answer(ErrorCode.ELECTION_NOT_NEEDED, "The preferred replica already leads.");
            continue;
          }
          const rules = { ...this.rules(topic), election: "preferred" as const };
          if (electLeader(p, {}, rules).leader !== p.replicas[0]) {
            answer(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, `Broker ${p.replicas[0]} cannot lead now.`);
            continue;
          }
          const rec = buildPartitionChange(p, {}, rules);
          if (rec) records.push({ type: "PartitionChange", value: rec });
          answer(ErrorCode.NONE);
        }
      }
      await this.opts.controller.commit(records);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results };
    });
  }
}
