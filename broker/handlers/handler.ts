// What every API handler looks like: the API it serves, the versions this broker
// advertises for it, and a function from a decoded request to a response object
// (undefined when the protocol says no response is sent, as for acks=0 Produce).
import type { ApiDefinition } from "../../protocol/generated/apis.ts";
import type { RequestHeader } from "../../protocol/generated/messages/RequestHeader.ts";

export interface ConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly listener: string;
}

export interface RequestContext<B = unknown> {
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly connection: ConnectionInfo;
  readonly broker: B;
}

export interface Handler<Req = unknown, Res = unknown, B = unknown> {
  readonly api: ApiDefinition<Req, Res>;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext<B>, request: Req): Promise<Res | undefined> | Res | undefined;
}
