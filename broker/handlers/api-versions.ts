// ApiVersions (18): the API keys and version ranges this broker serves. A request of a
// version we do not know never reaches here; the router answers it (KIP-511).
import { ApiVersions } from "../../protocol/generated/apis.ts";
import type { ApiVersionsRequest } from "../../protocol/generated/messages/ApiVersionsRequest.ts";
import type { ApiVersionsResponse } from "../../protocol/generated/messages/ApiVersionsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

/** Kafka checks client software names and versions against this (KIP-511). */
const SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export const apiVersions: Handler<ApiVersionsRequest, ApiVersionsResponse, Broker> = {
  api: ApiVersions,
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, req) {
    const valid =
      ctx.apiVersion < 3 ||
      (SOFTWARE.test(req.clientSoftwareName) && SOFTWARE.test(req.clientSoftwareVersion));
    return {
      errorCode: valid ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST,
      apiKeys: ctx.broker.advertisedApis(ctx.connection.listener),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
  },
};
