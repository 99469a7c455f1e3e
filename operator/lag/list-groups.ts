// Step 1 of a poll: every broker lists the groups it coordinates (ListGroups answers
// only for the caller's own coordinator partitions), so the union over brokers is every
// group, and the broker that listed a group is its coordinator for the next steps: no
// FindCoordinator round trip unless a coordinator moved meanwhile.
import { ListGroups } from "../../protocol/generated/apis.ts";
import type { BrokerInfo, ClusterClient } from "./cluster-client.ts";
import { ErrorCode, KafkaError } from "./cluster-client.ts";
import { messageOf } from "./connection.ts";

export interface ListedGroup {
  groupId: string;
  /** Node id of the broker that listed the group (its coordinator). */
  coordinator: number;
  /** "consumer" for consumer groups (classic or KIP-848), "connect", "" for simple groups. */
  protocolType: string;
  /** State as ListGroups v4+ reports it; "" from older brokers. */
  state: string;
  /** "classic", "consumer" (KIP-848), "share", "streams"; "" from brokers before v5. */
  type: string;
}

export interface ListGroupsResult {
  groups: ListedGroup[];
  /** Brokers whose ListGroups failed: their groups are unknown this poll, not gone. */
  failures: { nodeId: number; error: string }[];
}

export async function listGroups(
  client: ClusterClient,
  brokers: readonly BrokerInfo[],
): Promise<ListGroupsResult> {
  const groups: ListedGroup[] = [];
  const failures: ListGroupsResult["failures"] = [];
  const seen = new Set<string>();
  await Promise.all(
    brokers.map(async (b) => {
      try {
        const { body } = await client.send(b.nodeId, ListGroups, 0, 5, () => ({
          statesFilter: [],
          typesFilter: [],
        }));
        if (body.errorCode !== ErrorCode.NONE)
          throw new KafkaError(body.errorCode, `ListGroups on broker ${b.nodeId}`);
        for (const g of body.groups) {
          // During a coordinator move two brokers may list the same group for a moment.
          if (seen.has(g.groupId)) continue;
          seen.add(g.groupId);
          groups.push({
            groupId: g.groupId,
            coordinator: b.nodeId,
            protocolType: g.protocolType,
            state: g.groupState,
            type: g.groupType.toLowerCase(),
          });
        }
      } catch (err) {
        failures.push({ nodeId: b.nodeId, error: messageOf(err) });
      }
    }),
  );
  groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  return { groups, failures };
}
