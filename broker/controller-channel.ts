// How a broker reaches the active controller (the metadata quorum's leader): over the
// CONTROLLER listener named in controller.quorum.voters, or by a direct call when this
// process is the active controller itself (always the case for a single node, which
// has no controller listener). A request waits for a controller to be known and is
// retried on another one when the one it went to is unreachable or no longer active.
import type { Logger } from "../lib/logger.ts";
import type { ApiDefinition } from "../protocol/generated/apis.ts";
import { ErrorCode } from "./errors.ts";
import { NodeClient } from "./network/node-client.ts";
import type { VoterSet } from "./raft/voters.ts";

/** Calls the local controller's handler for an API (this process is the active controller). */
export type LocalDispatch = (api: ApiDefinition, version: number, body: unknown) => Promise<unknown>;

export class NoControllerError extends Error {
  override name = "NoControllerError";
}

export interface ControllerChannelOptions {
  nodeId: number;
  voters: VoterSet;
  /** The active controller's id, -1 when none is known. */
  activeId: () => number;
  local: LocalDispatch;
  logger: Logger;
  /** controller.quorum.request.timeout.ms, per attempt. */
  requestTimeoutMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ControllerChannel {
  private readonly opts: ControllerChannelOptions;
  private readonly clients = new Map<number, NodeClient>();
  private closed = false;

  constructor(opts: ControllerChannelOptions) {
    this.opts = opts;
  }

  activeId(): number {
    return this.opts.activeId();
  }

  /**
   * Sends `body` to the active controller and returns its answer. `notController`
   * recognizes an answer that says the receiver is not (or no longer) the controller:
   * the request then goes again, to whichever controller is active by then, until
   * `deadlineMs` passes (NoControllerError).
   */
  async send<Req, Res>(
    api: ApiDefinition<Req, Res>,
    version: number,
    body: Req,
    opts: { deadlineMs: number; notController?: (res: Res) => boolean },
  ): Promise<Res> {
    let lastProblem = "no controller is known";
    for (let attempt = 0; !this.closed; attempt++) {
      if (Date.now() > opts.deadlineMs) break;
      const id = this.opts.activeId();
      if (id < 0) {
        await sleep(Math.min(50 * (attempt + 1), 250));
        continue;
      }
      try {
        let res: Res;
        if (id === this.opts.nodeId) {
          res = (await withDeadline(
            this.opts.local(api as ApiDefinition, version, body),
            opts.deadlineMs,
            api.name,
          )) as Res;
        } else {
          const timeout = Math.max(1, Math.min(this.opts.requestTimeoutMs, opts.deadlineMs - Date.now()));
          res = await this.client(id).request(api, version, body, timeout);
        }
        if (opts.notController?.(res)) {
          lastProblem = `controller ${id} is no longer active`;
          await sleep(100);
          continue;
        }
        return res;
      } catch (e) {
        lastProblem = `controller ${id}: ${(e as Error).message}`;
        this.opts.logger.debug("request to the controller failed", {
          api: api.name,
          controller: id,
          error: e,
        });
        await sleep(Math.min(100 * (attempt + 1), 500));
      }
    }
    throw new NoControllerError(`${api.name} did not reach an active controller: ${lastProblem}`);
  }

  private client(id: number): NodeClient {
    let c = this.clients.get(id);
    if (!c) {
      const addr = this.opts.voters.get(id);
      if (!addr) throw new NoControllerError(`controller ${id} is not in controller.quorum.voters`);
      c = new NodeClient(addr, { clientId: `broker-${this.opts.nodeId}` });
      this.clients.set(id, c);
    }
    return c;
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** The promise's outcome, or a NoControllerError once the deadline passes. */
function withDeadline<T>(p: Promise<T>, deadlineMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new NoControllerError(`${what} took too long`)),
      Math.max(1, deadlineMs - Date.now()),
    );
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e as Error);
      },
    );
  });
}

/** NOT_CONTROLLER at the top level of a response. */
export function topLevelNotController(res: { errorCode: number }): boolean {
  return res.errorCode === ErrorCode.NOT_CONTROLLER;
}
