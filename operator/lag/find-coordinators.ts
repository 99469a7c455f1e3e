// Only for groups whose coordinator moved between ListGroups and the next request
// (NOT_COORDINATOR and friends): one batched FindCoordinator (v4+ takes many keys), or
// one per group on older brokers, asked of any broker.
import { FindCoordinator } from "../../protocol/generated/apis.ts";
import type { ClusterClient } from "./cluster-client.ts";
import { ErrorCode } from "./cluster-client.ts";

/** Key type of consumer groups in FindCoordinator (1 is transactions). */
const GROUP_KEY_TYPE = 0;

/** Codes that mean "ask the coordinator again, maybe somewhere else". */
export const COORDINATOR_MOVED: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

/** Coordinator node ids by group id; groups without an answer are left out. */
export async function findCoordinators(
  client: ClusterClient,
  via: number,
  groupIds: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (groupIds.length === 0) return out;
  const batched = await client.versionFor(via, FindCoordinator, 4, 6);
  if (batched !== null) {
    const { body } = await client.send(via, FindCoordinator, 4, 6, () => ({
      key: "",
      keyType: GROUP_KEY_TYPE,
      coordinatorKeys: [...groupIds],
    }));
    for (const c of body.coordinators) if (c.errorCode === ErrorCode.NONE) out.set(c.key, c.nodeId);
    return out;
  }
  await Promise.all(
    groupIds.map(async (key) => {
      const { body } = await client.send(via, FindCoordinator, 1, 3, () => ({
        key,
        keyType: GROUP_KEY_TYPE,
        coordinatorKeys: [],
      }));
      if (body.errorCode === ErrorCode.NONE) out.set(key, body.nodeId);
    }),
  );
  return out;
}
