// DescribeCluster (60): the cluster id, the controller and the brokers (Java's admin
// describeCluster uses it when advertised).
import { DescribeCluster } from "../../protocol/generated/apis.ts";
import type { DescribeClusterRequest } from "../../protocol/generated/messages/DescribeClusterRequest.ts";
import type { DescribeClusterResponse } from "../../protocol/generated/messages/DescribeClusterResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

const BROKER_ENDPOINTS = 1;

export const describeCluster: Handler<DescribeClusterRequest, DescribeClusterResponse, Broker> = {
  api: DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const broker = ctx.broker;
    if (ctx.apiVersion >= 1 && req.endpointType !== BROKER_ENDPOINTS) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: `Only broker endpoints (1) are served here, not type ${req.endpointType}.`,
        endpointType: req.endpointType,
        clusterId: broker.clusterId,
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: -2147483648,
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: ctx.apiVersion >= 1 ? BROKER_ENDPOINTS : 1,
      clusterId: broker.clusterId,
      controllerId: broker.controllerId(),
      brokers: broker.brokersFor(ctx.connection.listener).map((b) => ({
        brokerId: b.nodeId,
        host: b.host,
        port: b.port,
        rack: b.rack,
      })),
      clusterAuthorizedOperations: -2147483648,
    };
  },
};
