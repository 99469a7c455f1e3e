// JoinGroup (11): a member joins (or rejoins) a classic group. The response is held
// until the rebalance's join phase completes (broker/group/coordinator.ts). v0 has no
// rebalance timeout (the session timeout serves), v4+ hands new members an id first
// (MEMBER_ID_REQUIRED), v5+ carries group.instance.id (static membership).
import { JoinGroup } from "../../protocol/generated/apis.ts";
import type { JoinGroupRequest } from "../../protocol/generated/messages/JoinGroupRequest.ts";
import type { JoinGroupResponse } from "../../protocol/generated/messages/JoinGroupResponse.ts";
import type { Broker } from "../broker.ts";
import { clientHostOf } from "../group/client-host.ts";
import type { Handler } from "./handler.ts";

export const joinGroup: Handler<JoinGroupRequest, JoinGroupResponse, Broker> = {
  api: JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const r = await ctx.broker.groups.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: v >= 5 ? req.groupInstanceId : null,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: v >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      clientId: ctx.header.clientId ?? "",
      clientHost: clientHostOf(ctx.connection.remoteAddress),
      requireKnownMemberId: v >= 4,
      supportsSkipAssignment: v >= 9,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      // Nullable only from v7 on.
      protocolName: v >= 7 ? r.protocolName : (r.protocolName ?? ""),
      leader: r.leader,
      skipAssignment: r.skipAssignment,
      memberId: r.memberId,
      members: r.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: m.metadata,
      })),
    };
  },
};
