// The metadata quorum's APIs, served on the CONTROLLER listener: the Raft RPCs among
// voters (Vote, BeginQuorumEpoch, EndQuorumEpoch), replication of the metadata log
// to followers and observers (Fetch, FetchSnapshot), and DescribeQuorum.
import {
  BeginQuorumEpoch,
  DescribeQuorum,
  EndQuorumEpoch,
  Fetch,
  FetchSnapshot,
  Vote,
} from "../../protocol/generated/apis.ts";
import type { VoteRequest } from "../../protocol/generated/messages/VoteRequest.ts";
import type { VoteResponse } from "../../protocol/generated/messages/VoteResponse.ts";
import type { BeginQuorumEpochRequest } from "../../protocol/generated/messages/BeginQuorumEpochRequest.ts";
import type { BeginQuorumEpochResponse } from "../../protocol/generated/messages/BeginQuorumEpochResponse.ts";
import type { EndQuorumEpochRequest } from "../../protocol/generated/messages/EndQuorumEpochRequest.ts";
import type { EndQuorumEpochResponse } from "../../protocol/generated/messages/EndQuorumEpochResponse.ts";
import type { FetchRequest } from "../../protocol/generated/messages/FetchRequest.ts";
import type { FetchResponse } from "../../protocol/generated/messages/FetchResponse.ts";
import type { FetchSnapshotRequest } from "../../protocol/generated/messages/FetchSnapshotRequest.ts";
import type { FetchSnapshotResponse } from "../../protocol/generated/messages/FetchSnapshotResponse.ts";
import type { DescribeQuorumRequest } from "../../protocol/generated/messages/DescribeQuorumRequest.ts";
import type { DescribeQuorumResponse } from "../../protocol/generated/messages/DescribeQuorumResponse.ts";
import type { Handler } from "../handlers/handler.ts";
import type { RaftClient } from "./raft-client.ts";

/** Whatever serves the controller listener: it has the quorum replica once started. */
export interface RaftHost {
  readonly raft?: RaftClient;
}

function raftOf(host: RaftHost): RaftClient {
  if (!host.raft) throw new Error("the metadata quorum replica is not running");
  return host.raft;
}

export const vote: Handler<VoteRequest, VoteResponse, RaftHost> = {
  api: Vote,
  minVersion: 0,
  maxVersion: 1,
  handle: (ctx, req) => raftOf(ctx.broker).handleVote(req),
};

export const beginQuorumEpoch: Handler<BeginQuorumEpochRequest, BeginQuorumEpochResponse, RaftHost> = {
  api: BeginQuorumEpoch,
  minVersion: 0,
  maxVersion: 1,
  handle: (ctx, req) => raftOf(ctx.broker).handleBeginQuorumEpoch(req),
};

export const endQuorumEpoch: Handler<EndQuorumEpochRequest, EndQuorumEpochResponse, RaftHost> = {
  api: EndQuorumEpoch,
  minVersion: 0,
  maxVersion: 1,
  handle: (ctx, req) => raftOf(ctx.broker).handleEndQuorumEpoch(req, ctx.apiVersion),
};

/** Fetch from a metadata log replica; v12 is the first with LastFetchedEpoch and DivergingEpoch. */
export const raftFetch: Handler<FetchRequest, FetchResponse, RaftHost> = {
  api: Fetch,
  minVersion: 12,
  maxVersion: 17,
  handle: (ctx, req) => raftOf(ctx.broker).handleFetch(req, ctx.apiVersion),
};

export const fetchSnapshot: Handler<FetchSnapshotRequest, FetchSnapshotResponse, RaftHost> = {
  api: FetchSnapshot,
  minVersion: 0,
  maxVersion: 1,
  handle: (ctx, req) => raftOf(ctx.broker).handleFetchSnapshot(req),
};

export const describeQuorum: Handler<DescribeQuorumRequest, DescribeQuorumResponse, RaftHost> = {
  api: DescribeQuorum,
  minVersion: 0,
  maxVersion: 2,
  handle: (ctx) => raftOf(ctx.broker).describeQuorum(),
};

export const RAFT_HANDLERS = [
  vote,
  beginQuorumEpoch,
  endQuorumEpoch,
  raftFetch,
  fetchSnapshot,
  describeQuorum,
] as unknown as Handler<never, unknown, RaftHost>[];
