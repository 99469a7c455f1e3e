// Request and response frames: which header version goes with which API version,
// and decoding/encoding a whole frame (header + body) with the generated codecs.
import { API_BY_KEY, type ApiDefinition } from "./generated/apis.ts";
import {
  type RequestHeader,
  decodeRequestHeader,
  encodeRequestHeader,
} from "./generated/messages/RequestHeader.ts";
import { encodeResponseHeader } from "./generated/messages/ResponseHeader.ts";
import { ProtocolError, Reader, Writer } from "./wire/index.ts";

export const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

/** Header v2 for flexible versions, v1 otherwise; ControlledShutdown v0 alone uses v0. */
export function requestHeaderVersion(api: ApiDefinition, version: number): number {
  if (api.apiKey === CONTROLLED_SHUTDOWN_KEY && version === 0) return 0;
  return version >= api.firstFlexibleVersion ? 2 : 1;
}

/** Header v1 for flexible versions, v0 otherwise; ApiVersions responses always use v0 (KIP-511). */
export function responseHeaderVersion(api: ApiDefinition, version: number): number {
  if (api.apiKey === API_VERSIONS_KEY) return 0;
  return version >= api.firstFlexibleVersion ? 1 : 0;
}

export interface DecodedRequest<T = unknown> {
  header: RequestHeader;
  api: ApiDefinition;
  body: T;
}

/**
 * The fixed start of every request header (api key, version, correlation id, client id),
 * readable even when the API key or version is one we do not know, so such a request can
 * still be answered (e.g. ApiVersions' UNSUPPORTED_VERSION fallback).
 */
export function peekRequestHeader(frame: Buffer): {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
} {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.remaining >= 2 ? r.nullableString() : null;
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Decodes a request frame (without its 4-byte size prefix): header and body. */
export function decodeRequest(frame: Buffer): DecodedRequest {
  const { apiKey, apiVersion } = peekRequestHeader(frame);
  const api = API_BY_KEY.get(apiKey);
  if (!api) throw new ProtocolError("invalid-value", `unknown API key ${apiKey}`, 0);
  if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
    throw new ProtocolError("unsupported-version", `${api.name} v${apiVersion} is not a valid version`, 2);
  }
  const r = new Reader(frame);
  const header = decodeRequestHeader(r, requestHeaderVersion(api, apiVersion));
  const body = api.decodeRequest(r, apiVersion);
  r.expectEnd(`${api.name} v${apiVersion} request`);
  return { header, api, body };
}

/** Encodes a request frame including its 4-byte size prefix (what a client sends). */
export function encodeRequest(
  api: ApiDefinition,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: unknown,
): Buffer {
  const w = new Writer();
  w.int32(0);
  encodeRequestHeader(
    w,
    { requestApiKey: api.apiKey, requestApiVersion: version, correlationId, clientId },
    requestHeaderVersion(api, version),
  );
  api.encodeRequest(w, body, version);
  const out = w.toBuffer();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

/**
 * Encodes a response frame as buffers ready for the socket: the 4-byte size, the header
 * and the body. Large record payloads stay separate buffers (not copied).
 */
export function encodeResponse(
  api: ApiDefinition,
  version: number,
  correlationId: number,
  body: unknown,
): Buffer[] {
  const w = new Writer();
  w.int32(0);
  encodeResponseHeader(w, { correlationId }, responseHeaderVersion(api, version));
  api.encodeResponse(w, body, version);
  const chunks = w.toChunks();
  chunks[0].writeInt32BE(w.length - 4, 0);
  return chunks;
}

/** Decodes a response frame (without its size prefix), as a client would. */
export function decodeResponse(
  api: ApiDefinition,
  version: number,
  frame: Buffer,
): { correlationId: number; body: unknown } {
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (responseHeaderVersion(api, version) >= 1) r.taggedFields(() => false);
  const body = api.decodeResponse(r, version);
  r.expectEnd(`${api.name} v${version} response`);
  return { correlationId, body };
}
