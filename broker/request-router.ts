// Routes a request frame to the handler of its API key and encodes the answer.
// Version negotiation follows Kafka: an ApiVersions request of a version we do not
// know still gets an answer (v0 body, UNSUPPORTED_VERSION, our ApiVersions range), so
// the client can retry with one we do; any other unknown key or version is a
// malformed request and closes that connection.
import { API_BY_KEY } from "../protocol/generated/apis.ts";
import { API_VERSIONS_KEY, decodeRequest, encodeResponse, peekRequestHeader } from "../protocol/frame.ts";
import { ProtocolError } from "../protocol/wire/index.ts";
import { ApiVersions } from "../protocol/generated/apis.ts";
import type { ApiVersionsResponse } from "../protocol/generated/messages/ApiVersionsResponse.ts";
import type { ConnectionInfo, Handler, RequestContext } from "./handlers/handler.ts";
import { ErrorCode } from "./errors.ts";

export interface RequestObserver {
  /** Called after each request is answered (or dropped), for metrics. */
  onRequest(apiName: string, version: number, seconds: number, requestBytes: number): void;
}

export class RequestRouter<B> {
  private readonly handlers = new Map<number, Handler<unknown, unknown, B>>();
  private readonly broker: B;
  private readonly observer?: RequestObserver;

  constructor(broker: B, handlers: Handler<never, unknown, B>[], observer?: RequestObserver) {
    this.broker = broker;
    this.observer = observer;
    for (const h of handlers) this.handlers.set(h.api.apiKey, h as unknown as Handler<unknown, unknown, B>);
  }

  /** The (key, min, max) triples this broker advertises in ApiVersions. */
  advertised(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return [...this.handlers.values()]
      .sort((a, b) => a.api.apiKey - b.api.apiKey)
      .map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }));
  }

  async dispatch(frame: Buffer, connection: ConnectionInfo): Promise<Buffer[] | null> {
    const started = process.hrtime.bigint();
    const peek = peekRequestHeader(frame);
    const handler = this.handlers.get(peek.apiKey);
    const apiName = API_BY_KEY.get(peek.apiKey)?.name ?? `key ${peek.apiKey}`;
    if (!handler) throw new ProtocolError("invalid-value", `unsupported API ${apiName}`, 0);
    if (peek.apiVersion < handler.minVersion || peek.apiVersion > handler.maxVersion) {
      if (peek.apiKey === API_VERSIONS_KEY) return this.unsupportedApiVersions(peek.correlationId, handler);
      throw new ProtocolError(
        "unsupported-version",
        `${apiName} v${peek.apiVersion} is not supported (${handler.minVersion}-${handler.maxVersion})`,
        2,
      );
    }
    const { header, body } = decodeRequest(frame);
    const ctx: RequestContext<B> = { header, apiVersion: peek.apiVersion, connection, broker: this.broker };
    const response = await handler.handle(ctx, body);
    const out =
      response === undefined
        ? null
        : encodeResponse(handler.api, peek.apiVersion, peek.correlationId, response);
    this.observer?.onRequest(
      apiName,
      peek.apiVersion,
      Number(process.hrtime.bigint() - started) / 1e9,
      frame.length,
    );
    return out;
  }

  private unsupportedApiVersions(correlationId: number, handler: Handler<unknown, unknown, B>): Buffer[] {
    const body: ApiVersionsResponse = {
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      apiKeys: [{ apiKey: API_VERSIONS_KEY, minVersion: handler.minVersion, maxVersion: handler.maxVersion }],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
    return encodeResponse(ApiVersions, 0, correlationId, body);
  }
}
