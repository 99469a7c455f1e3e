// FindCoordinator (10): which broker coordinates a group. Groups live on the
// __consumer_offsets partition their id hashes to, coordinated by its leader; the
// topic is created the first time anyone asks. v4+ batches several keys. Transactions
// (key type 1) have no coordinator yet and get COORDINATOR_NOT_AVAILABLE with a reason.
import { FindCoordinator } from "../../protocol/generated/apis.ts";
import type { FindCoordinatorRequest } from "../../protocol/generated/messages/FindCoordinatorRequest.ts";
import {
  type Coordinator,
  type FindCoordinatorResponse,
  defaultFindCoordinatorResponse,
} from "../../protocol/generated/messages/FindCoordinatorResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import { OFFSETS_TOPIC } from "../group/offsets-log.ts";
import type { Handler } from "./handler.ts";

const GROUP = 0;
const TRANSACTION = 1;

async function lookup(broker: Broker, listener: string, key: string, keyType: number): Promise<Coordinator> {
  const fail = (errorCode: number, errorMessage: string): Coordinator => ({
    key,
    nodeId: -1,
    host: "",
    port: -1,
    errorCode,
    errorMessage,
  });
  if (keyType === TRANSACTION) {
    return fail(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      "This broker has no transaction coordinator yet: transactional producers are not supported.",
    );
  }
  if (keyType !== GROUP) return fail(ErrorCode.INVALID_REQUEST, `Unknown coordinator key type ${keyType}.`);
  const topic = await broker.offsetsTopic.ensureExists();
  if (!topic) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC} could not be created.`);
  const partition = topic.partitions[broker.groups.partitionFor(key)];
  const node = broker.brokersFor(listener).find((b) => b.nodeId === partition?.leader);
  if (!node) {
    return fail(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      `${OFFSETS_TOPIC}-${partition?.partition} has no live leader.`,
    );
  }
  return {
    key,
    nodeId: node.nodeId,
    host: node.host,
    port: node.port,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

export const findCoordinator: Handler<FindCoordinatorRequest, FindCoordinatorResponse, Broker> = {
  api: FindCoordinator,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const keyType = v >= 1 ? req.keyType : GROUP;
    const listener = ctx.connection.listener;
    if (v >= 4) {
      const coordinators: Coordinator[] = [];
      for (const key of req.coordinatorKeys)
        coordinators.push(await lookup(ctx.broker, listener, key, keyType));
      // The single-key fields do not exist in v4+: they keep their defaults.
      return { ...defaultFindCoordinatorResponse(), coordinators };
    }
    const c = await lookup(ctx.broker, listener, req.key, keyType);
    return {
      throttleTimeMs: 0,
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
      coordinators: [],
    };
  },
};
