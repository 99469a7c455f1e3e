// DescribeQuorum (55) on a client listener (kafka-metadata-quorum, Admin
// describeMetadataQuorum): the metadata quorum's leader, epoch, high watermark and each
// voter's and observer's progress, as the quorum's leader knows them.
import { DescribeQuorum } from "../../protocol/generated/apis.ts";
import type { DescribeQuorumRequest } from "../../protocol/generated/messages/DescribeQuorumRequest.ts";
import type { DescribeQuorumResponse } from "../../protocol/generated/messages/DescribeQuorumResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const describeQuorum: Handler<DescribeQuorumRequest, DescribeQuorumResponse, Broker> = {
  api: DescribeQuorum,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const broker = ctx.broker;
    if (broker.raft?.isLeader) return broker.raft.describeQuorum();
    return broker.forwardToController(
      DescribeQuorum,
      ctx.apiVersion,
      req,
      (r) => r.topics[0]?.partitions[0]?.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
  },
};
