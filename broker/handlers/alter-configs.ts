// AlterConfigs (33) and IncrementalAlterConfigs (44) for topics. AlterConfigs replaces
// a topic's whole set of overrides; the incremental form sets, deletes, appends to or
// subtracts from single entries. Dynamic broker configs are not supported yet.
import { AlterConfigs, IncrementalAlterConfigs } from "../../protocol/generated/apis.ts";
import type { AlterConfigsRequest } from "../../protocol/generated/messages/AlterConfigsRequest.ts";
import type { AlterConfigsResponse } from "../../protocol/generated/messages/AlterConfigsResponse.ts";
import type { IncrementalAlterConfigsRequest } from "../../protocol/generated/messages/IncrementalAlterConfigsRequest.ts";
import type { IncrementalAlterConfigsResponse } from "../../protocol/generated/messages/IncrementalAlterConfigsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { AlterConfigOp } from "../metadata/controller.ts";
import { ResourceType } from "./describe-configs.ts";
import type { Handler } from "./handler.ts";

const OPS: Array<AlterConfigOp["op"]> = ["set", "delete", "append", "subtract"];

interface Result {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

async function alter(
  broker: Broker,
  resourceType: number,
  resourceName: string,
  ops: AlterConfigOp[] | string,
  replace: boolean,
  validateOnly: boolean,
): Promise<Result> {
  const base = { resourceType, resourceName };
  if (typeof ops === "string") return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: ops };
  if (resourceType === ResourceType.BROKER) {
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage:
        "Dynamic broker configs are not supported; set them in server.properties and restart the broker.",
    };
  }
  if (resourceType !== ResourceType.TOPIC) {
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Resource type ${resourceType} is not supported.`,
    };
  }
  const r = await broker.controller.alterTopicConfigs(resourceName, ops, replace, validateOnly);
  return {
    ...base,
    errorCode: r.error ? ErrorCode[r.error.code] : ErrorCode.NONE,
    errorMessage: r.error?.message ?? null,
  };
}

export const alterConfigs: Handler<AlterConfigsRequest, AlterConfigsResponse, Broker> = {
  api: AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const responses: Result[] = [];
    for (const res of req.resources) {
      const ops = res.configs.map((c) => ({ name: c.name, op: "set" as const, value: c.value }));
      responses.push(
        await alter(ctx.broker, res.resourceType, res.resourceName, ops, true, req.validateOnly),
      );
    }
    return { throttleTimeMs: 0, responses };
  },
};

export const incrementalAlterConfigs: Handler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  Broker
> = {
  api: IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const responses: Result[] = [];
    for (const res of req.resources) {
      const bad = res.configs.find((c) => OPS[c.configOperation] === undefined);
      const ops = bad
        ? `Unknown config operation ${bad.configOperation} for ${bad.name}`
        : res.configs.map((c) => ({ name: c.name, op: OPS[c.configOperation], value: c.value }));
      responses.push(
        await alter(ctx.broker, res.resourceType, res.resourceName, ops, false, req.validateOnly),
      );
    }
    return { throttleTimeMs: 0, responses };
  },
};
