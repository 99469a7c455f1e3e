// The controller's operations as any broker sees them: run here when this process is
// the active controller (the metadata quorum's leader, once it has applied everything
// committed before its election), forwarded otherwise to the active controller with
// the same admin API the client used (Kafka forwards too), so a client may send
// CreateTopics, DeleteTopics, CreatePartitions or AlterConfigs to any broker. After a
// forwarded change succeeds, the answer waits (briefly) until this broker's own image
// shows it, so the client's next Metadata request here sees what it just did.
import {
  AllocateProducerIds,
  AlterConfigs,
  CreatePartitions,
  CreateTopics,
  DeleteTopics,
  IncrementalAlterConfigs,
} from "../../protocol/generated/apis.ts";
import type { ControllerChannel } from "../controller-channel.ts";
import { ErrorCode, type ErrorName } from "../errors.ts";
import { NotLeaderError, type RaftClient } from "../raft/raft-client.ts";
import type { AlterConfigOp, Controller, CreateTopicRequest, TopicResult } from "./controller.ts";
import type { MetadataImage } from "./image.ts";

const ERROR_NAMES = new Map<number, ErrorName>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorName]),
);

function errorOf(code: number, message: string | null): TopicResult["error"] {
  if (code === ErrorCode.NONE) return undefined;
  const name = ERROR_NAMES.get(code) ?? "UNKNOWN_SERVER_ERROR";
  return { code: name, message: message ?? name };
}

const RESOURCE_TOPIC = 2;
const OP_CODES: Record<AlterConfigOp["op"], number> = { set: 0, delete: 1, append: 2, subtract: 3 };
/** How long a forwarded operation may take, retries on a new controller included. */
const FORWARD_TIMEOUT_MS = 30_000;
/** How long the answer to a forwarded change waits for this broker's image to show it. */
const CATCH_UP_MS = 5_000;

export interface ActiveControllerOptions {
  nodeId: number;
  local: Controller;
  raft: () => RaftClient | undefined;
  channel: () => ControllerChannel | undefined;
  image: MetadataImage;
  brokerEpoch: () => bigint;
}

export class ActiveController {
  private readonly opts: ActiveControllerOptions;

  constructor(opts: ActiveControllerOptions) {
    this.opts = opts;
  }

  /** The local controller, when this process is the active controller and caught up. */
  private async localIfActive(): Promise<Controller | null> {
    const raft = this.opts.raft();
    if (!raft || !raft.isLeader) return null;
    try {
      await raft.leaderCaughtUp();
      return this.opts.local;
    } catch {
      return null;
    }
  }

  private channel(): ControllerChannel {
    const c = this.opts.channel();
    if (!c) throw new NotLeaderError("no controller channel", { leaderId: -1, epoch: -1 });
    return c;
  }

  /** Runs `local` here if active, else `remote`; a lost leadership mid-way goes remote. */
  private async route<T>(local: (c: Controller) => Promise<T>, remote: () => Promise<T>): Promise<T> {
    const c = await this.localIfActive();
    if (c) {
      try {
        return await local(c);
      } catch (e) {
        if (!(e instanceof NotLeaderError)) throw e;
      }
    }
    return remote();
  }

  /** Waits until the local image satisfies `done` (or the wait ends). */
  private async catchUp(done: () => boolean): Promise<void> {
    const deadline = Date.now() + CATCH_UP_MS;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  createTopics(requests: CreateTopicRequest[], validateOnly: boolean): Promise<TopicResult[]> {
    return this.route(
      (c) => c.createTopics(requests, validateOnly),
      async () => {
        const res = await this.channel().send(
          CreateTopics,
          7,
          {
            topics: requests.map((r) => ({
              name: r.name,
              numPartitions: r.numPartitions,
              replicationFactor: r.replicationFactor,
              assignments: r.assignments.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
              configs: r.configs.map((c) => ({ name: c.name, value: c.value })),
            })),
            timeoutMs: FORWARD_TIMEOUT_MS,
            validateOnly,
          },
          {
            deadlineMs: Date.now() + FORWARD_TIMEOUT_MS,
            notController: (r) => r.topics.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER),
          },
        );
        const results: TopicResult[] = res.topics.map((t) => ({
          name: t.name,
          error: errorOf(t.errorCode, t.errorMessage),
        }));
        if (!validateOnly) {
          const created = results.filter((r) => !r.error).map((r) => r.name);
          await this.catchUp(() => created.every((n) => this.opts.image.topicsByName.has(n)));
          for (const r of results) if (!r.error) r.topic = this.opts.image.topicsByName.get(r.name);
        }
        return results;
      },
    );
  }

  deleteTopics(names: string[]): Promise<TopicResult[]> {
    return this.route(
      (c) => c.deleteTopics(names),
      async () => {
        const before = new Map(names.map((n) => [n, this.opts.image.topicsByName.get(n)]));
        const res = await this.channel().send(
          DeleteTopics,
          5,
          { topics: [], topicNames: names, timeoutMs: FORWARD_TIMEOUT_MS },
          {
            deadlineMs: Date.now() + FORWARD_TIMEOUT_MS,
            notController: (r) => r.responses.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER),
          },
        );
        const results: TopicResult[] = res.responses.map((t) => ({
          name: t.name ?? "",
          error: errorOf(t.errorCode, t.errorMessage),
          topic: t.errorCode === ErrorCode.NONE ? before.get(t.name ?? "") : undefined,
        }));
        const deleted = results.filter((r) => !r.error).map((r) => r.name);
        await this.catchUp(() => deleted.every((n) => !this.opts.image.topicsByName.has(n)));
        return results;
      },
    );
  }

  createPartitions(
    requests: Array<{ name: string; count: number; assignments: number[][] | null }>,
    validateOnly: boolean,
  ): Promise<TopicResult[]> {
    return this.route(
      (c) => c.createPartitions(requests, validateOnly),
      async () => {
        const res = await this.channel().send(
          CreatePartitions,
          3,
          {
            topics: requests.map((r) => ({
              name: r.name,
              count: r.count,
              assignments: r.assignments ? r.assignments.map((brokerIds) => ({ brokerIds })) : null,
            })),
            timeoutMs: FORWARD_TIMEOUT_MS,
            validateOnly,
          },
          {
            deadlineMs: Date.now() + FORWARD_TIMEOUT_MS,
            notController: (r) => r.results.some((t) => t.errorCode === ErrorCode.NOT_CONTROLLER),
          },
        );
        const results: TopicResult[] = res.results.map((t) => ({
          name: t.name,
          error: errorOf(t.errorCode, t.errorMessage),
        }));
        if (!validateOnly) {
          const grown = requests.filter((r) => results.some((x) => x.name === r.name && !x.error));
          await this.catchUp(() =>
            grown.every((r) => (this.opts.image.topicsByName.get(r.name)?.partitions.length ?? 0) >= r.count),
          );
        }
        for (const r of results) if (!r.error) r.topic = this.opts.image.topicsByName.get(r.name);
        return results;
      },
    );
  }

  alterTopicConfigs(
    name: string,
    ops: AlterConfigOp[],
    replace: boolean,
    validateOnly: boolean,
  ): Promise<TopicResult> {
    return this.route(
      (c) => c.alterTopicConfigs(name, ops, replace, validateOnly),
      async () => {
        const deadlineMs = Date.now() + FORWARD_TIMEOUT_MS;
        let errorCode: number;
        let errorMessage: string | null;
        if (replace) {
          const res = await this.channel().send(
            AlterConfigs,
            1,
            {
              resources: [
                {
                  resourceType: RESOURCE_TOPIC,
                  resourceName: name,
                  configs: ops.map((o) => ({ name: o.name, value: o.value })),
                },
              ],
              validateOnly,
            },
            {
              deadlineMs,
              notController: (r) => r.responses.some((x) => x.errorCode === ErrorCode.NOT_CONTROLLER),
            },
          );
          ({ errorCode, errorMessage } = res.responses[0]);
        } else {
          const res = await this.channel().send(
            IncrementalAlterConfigs,
            0,
            {
              resources: [
                {
                  resourceType: RESOURCE_TOPIC,
                  resourceName: name,
                  configs: ops.map((o) => ({
                    name: o.name,
                    configOperation: OP_CODES[o.op],
                    value: o.value,
                  })),
                },
              ],
              validateOnly,
            },
            {
              deadlineMs,
              notController: (r) => r.responses.some((x) => x.errorCode === ErrorCode.NOT_CONTROLLER),
            },
          );
          ({ errorCode, errorMessage } = res.responses[0]);
        }
        return {
          name,
          error: errorOf(errorCode, errorMessage),
          topic: this.opts.image.topicsByName.get(name),
        };
      },
    );
  }

  /** Producer ids come from blocks the controller reserves for this broker (AllocateProducerIds). */
  private block = { next: 0n, end: 0n };

  async allocateProducerId(brokerId: number): Promise<bigint> {
    if (this.block.next < this.block.end) return this.block.next++;
    const c = await this.localIfActive();
    if (c) {
      try {
        return await c.allocateProducerId(brokerId);
      } catch (e) {
        if (!(e instanceof NotLeaderError)) throw e;
      }
    }
    const res = await this.channel().send(
      AllocateProducerIds,
      0,
      { brokerId, brokerEpoch: this.opts.brokerEpoch() },
      {
        deadlineMs: Date.now() + FORWARD_TIMEOUT_MS,
        notController: (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
      },
    );
    if (res.errorCode !== ErrorCode.NONE) {
      throw new Error(`AllocateProducerIds failed with error ${res.errorCode}`);
    }
    this.block = { next: res.producerIdStart, end: res.producerIdStart + BigInt(res.producerIdLen) };
    return this.block.next++;
  }
}
