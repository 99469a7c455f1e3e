// A partition leader's ISR changes go through the controller (AlterPartition), never
// straight into effect: the controller checks the leader and partition epochs, so a
// leader that was replaced meanwhile cannot shrink the ISR to itself and go on
// acknowledging writes alone. One proposal per partition is in flight at a time; the
// answer carries the ISR the controller committed.
import type { Logger } from "../../lib/logger.ts";
import { AlterPartition } from "../../protocol/generated/apis.ts";
import type { AlterPartitionResponse } from "../../protocol/generated/messages/AlterPartitionResponse.ts";
import type { ControllerChannel } from "../controller-channel.ts";
import { ErrorCode } from "../errors.ts";

const ALTER_PARTITION_VERSION = 3;

export interface IsrProposal {
  topicId: string;
  topic: string;
  partition: number;
  leaderEpoch: number;
  partitionEpoch: number;
  isr: number[];
}

export type IsrOutcome =
  { ok: true; isr: number[]; leaderEpoch: number; partitionEpoch: number } | { ok: false; errorCode: number };

export class IsrUpdates {
  private readonly nodeId: number;
  private readonly channel: () => ControllerChannel | undefined;
  private readonly brokerEpoch: () => bigint;
  private readonly epochOf: (brokerId: number) => bigint;
  private readonly logger: Logger;
  private readonly inFlight = new Set<string>();

  constructor(opts: {
    nodeId: number;
    channel: () => ControllerChannel | undefined;
    brokerEpoch: () => bigint;
    /** The broker epoch the metadata has for an ISR member. */
    epochOf: (brokerId: number) => bigint;
    logger: Logger;
  }) {
    this.nodeId = opts.nodeId;
    this.channel = opts.channel;
    this.brokerEpoch = opts.brokerEpoch;
    this.epochOf = opts.epochOf;
    this.logger = opts.logger;
  }

  isInFlight(topic: string, partition: number): boolean {
    return this.inFlight.has(`${topic}-${partition}`);
  }

  /** Sends the proposal; null when another one for the partition is still in flight. */
  async propose(p: IsrProposal): Promise<IsrOutcome | null> {
    const key = `${p.topic}-${p.partition}`;
    if (this.inFlight.has(key)) return null;
    const channel = this.channel();
    if (!channel) return { ok: false, errorCode: ErrorCode.NOT_CONTROLLER };
    this.inFlight.add(key);
    try {
      const res: AlterPartitionResponse = await channel.send(
        AlterPartition,
        ALTER_PARTITION_VERSION,
        {
          brokerId: this.nodeId,
          brokerEpoch: this.brokerEpoch(),
          topics: [
            {
              topicName: p.topic,
              topicId: p.topicId,
              partitions: [
                {
                  partitionIndex: p.partition,
                  leaderEpoch: p.leaderEpoch,
                  // Version 3 carries the ISR with broker epochs only.
                  newIsr: [],
                  newIsrWithEpochs: p.isr.map((brokerId) => ({
                    brokerId,
                    brokerEpoch: this.epochOf(brokerId),
                  })),
                  leaderRecoveryState: 0,
                  partitionEpoch: p.partitionEpoch,
                },
              ],
            },
          ],
        },
        {
          deadlineMs: Date.now() + 10_000,
          notController: (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
        },
      );
      const part = res.topics[0]?.partitions[0];
      if (res.errorCode !== ErrorCode.NONE || !part) {
        return { ok: false, errorCode: res.errorCode || ErrorCode.UNKNOWN_SERVER_ERROR };
      }
      if (part.errorCode !== ErrorCode.NONE) return { ok: false, errorCode: part.errorCode };
      this.logger.info("ISR changed", {
        partition: key,
        isr: part.isr.join(","),
        leaderEpoch: part.leaderEpoch,
        partitionEpoch: part.partitionEpoch,
      });
      return { ok: true, isr: part.isr, leaderEpoch: part.leaderEpoch, partitionEpoch: part.partitionEpoch };
    } catch (e) {
      this.logger.warn("AlterPartition failed", { partition: key, error: e });
      return { ok: false, errorCode: ErrorCode.REQUEST_TIMED_OUT };
    } finally {
      this.inFlight.delete(key);
    }
  }
}
