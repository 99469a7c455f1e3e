// The active controller's view of broker membership (KRaft's ClusterControlManager
// with BrokerHeartbeatManager): registrations, heartbeats and sessions. A broker
// registers fenced and is unfenced once its heartbeats show it has caught up with the
// metadata log; one whose heartbeats stop for broker.session.timeout.ms is fenced, and
// so is an old registration replaced by a restarted broker. A fenced or departing
// broker leaves every ISR (except as the last member, which alone holds every
// acknowledged record) and hands its leaderships to other in-sync replicas. A broker
// that asks to shut down (controlled shutdown) is released once it leads nothing.
import type { BrokerRegistrationRequest } from "../../protocol/generated/messages/BrokerRegistrationRequest.ts";
import type { BrokerRegistrationResponse } from "../../protocol/generated/messages/BrokerRegistrationResponse.ts";
import type { BrokerHeartbeatRequest } from "../../protocol/generated/messages/BrokerHeartbeatRequest.ts";
import type { BrokerHeartbeatResponse } from "../../protocol/generated/messages/BrokerHeartbeatResponse.ts";
import type { Logger } from "../../lib/logger.ts";
import { ErrorCode } from "../errors.ts";
import type { Controller } from "./controller.ts";
import type { BrokerState, PartitionState, TopicState } from "./image.ts";
import { buildPartitionChange, isrWithout } from "./partition-change.ts";
import type { MetadataRecord } from "./records.ts";

export interface ClusterControlOptions {
  controller: Controller;
  /** This node's id: its own earlier registration belongs to a process that is gone. */
  selfId: number;
  sessionTimeoutMs: number;
  /** A value above every broker epoch handed out so far (the metadata log's end). */
  nextBrokerEpoch: () => bigint;
  uncleanAllowed: (topic: TopicState) => boolean;
  logger: Logger;
}

export class ClusterControl {
  private readonly opts: ClusterControlOptions;
  /** Session deadlines (ms) of the brokers this controller has heard from or inherited. */
  private readonly sessions = new Map<number, number>();

  constructor(opts: ClusterControlOptions) {
    this.opts = opts;
  }

  private get image() {
    return this.opts.controller.image;
  }

  /** A new active controller gives every registered broker a full session to check in. */
  activate(now: number): void {
    this.sessions.clear();
    for (const b of this.image.brokers.values()) {
      if (!b.fenced && b.id !== this.opts.selfId) this.sessions.set(b.id, now + this.opts.sessionTimeoutMs);
    }
  }

  /** Whether a broker may lead partitions now. */
  canLead(id: number): boolean {
    const b = this.image.brokers.get(id);
    return b !== undefined && !b.fenced && !b.inControlledShutdown;
  }

  private sessionAlive(id: number, now: number): boolean {
    return (this.sessions.get(id) ?? 0) > now;
  }

  register(req: BrokerRegistrationRequest, now = Date.now()): Promise<BrokerRegistrationResponse> {
    return this.opts.controller.run(async () => {
      const existing = this.image.brokers.get(req.brokerId);
      if (
        existing &&
        existing.incarnationId !== req.incarnationId &&
        !existing.fenced &&
        this.sessionAlive(req.brokerId, now)
      ) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.DUPLICATE_BROKER_REGISTRATION,
          brokerEpoch: -1n,
        };
      }
      const epoch = this.opts.nextBrokerEpoch();
      const records: MetadataRecord[] = [];
      // A new incarnation knows nothing of the old one's replicas: out of every ISR it goes.
      if (existing && existing.incarnationId !== req.incarnationId)
        records.push(...this.removeFromPartitions(req.brokerId));
      records.push({
        type: "RegisterBroker",
        value: {
          brokerId: req.brokerId,
          isMigratingZkBroker: false,
          incarnationId: req.incarnationId,
          brokerEpoch: epoch,
          endPoints: req.listeners.map((l) => ({
            name: l.name,
            host: l.host,
            port: l.port,
            securityProtocol: l.securityProtocol,
          })),
          features: [],
          rack: req.rack,
          fenced: true,
          inControlledShutdown: false,
          logDirs: [],
        },
      });
      await this.opts.controller.commit(records);
      this.sessions.set(req.brokerId, now + this.opts.sessionTimeoutMs);
      this.opts.logger.info("broker registered", {
        broker: req.brokerId,
        brokerEpoch: epoch,
        rack: req.rack,
      });
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch: epoch };
    });
  }

  heartbeat(req: BrokerHeartbeatRequest, now = Date.now()): Promise<BrokerHeartbeatResponse> {
    return this.opts.controller.run(async () => {
      const answer = (
        errorCode: number,
        b?: BrokerState,
        shouldShutDown = false,
      ): BrokerHeartbeatResponse => ({
        throttleTimeMs: 0,
        errorCode,
        isCaughtUp: b !== undefined && req.currentMetadataOffset >= b.epoch,
        isFenced: b?.fenced ?? true,
        shouldShutDown,
      });
      const b = this.image.brokers.get(req.brokerId);
      if (!b) return answer(ErrorCode.BROKER_ID_NOT_REGISTERED);
      if (b.epoch !== req.brokerEpoch) return answer(ErrorCode.STALE_BROKER_EPOCH);
      this.sessions.set(b.id, now + this.opts.sessionTimeoutMs);
      const records: MetadataRecord[] = [];
      if (req.wantShutDown) {
        if (!b.inControlledShutdown) {
          records.push({
            type: "BrokerRegistrationChange",
            value: { brokerId: b.id, brokerEpoch: b.epoch, fenced: 0, inControlledShutdown: 1, logDirs: [] },
          });
          this.opts.logger.info("controlled shutdown of a broker: moving its leaderships", { broker: b.id });
        }
        records.push(...this.removeFromPartitions(b.id));
      } else if (b.fenced && req.currentMetadataOffset >= b.epoch && !b.inControlledShutdown) {
        records.push({ type: "UnfenceBroker", value: { id: b.id, epoch: b.epoch } });
        records.push(...this.electOffline(b.id));
        this.opts.logger.info("broker caught up: unfenced", { broker: b.id });
      }
      await this.opts.controller.commit(records);
      const after = this.image.brokers.get(b.id)!;
      let shouldShutDown = false;
      if (req.wantShutDown && after.inControlledShutdown && !this.leadsAnything(b.id)) {
        shouldShutDown = true;
        if (!after.fenced) {
          // Out of Metadata at once, and free to register again as soon as it restarts.
          await this.opts.controller.commit([{ type: "FenceBroker", value: { id: b.id, epoch: b.epoch } }]);
          this.sessions.delete(b.id);
        }
      }
      return answer(ErrorCode.NONE, this.image.brokers.get(b.id), shouldShutDown);
    });
  }

  /** Fences brokers whose session expired; returns their ids. */
  fenceExpired(now = Date.now()): Promise<number[]> {
    return this.opts.controller.run(async () => {
      const expired: number[] = [];
      for (const [id, deadline] of this.sessions) {
        if (deadline > now) continue;
        this.sessions.delete(id);
        const b = this.image.brokers.get(id);
        if (!b || b.fenced) continue;
        expired.push(id);
        this.opts.logger.warn("broker missed its heartbeats: fencing it", {
          broker: id,
          sessionTimeoutMs: this.opts.sessionTimeoutMs,
        });
        await this.opts.controller.commit([
          { type: "FenceBroker", value: { id, epoch: b.epoch } },
          ...this.removeFromPartitions(id),
        ]);
      }
      return expired;
    });
  }

  private *partitions(): Generator<{ topic: TopicState; p: PartitionState }> {
    for (const topic of this.image.topicsByName.values()) {
      for (const p of topic.partitions) if (p) yield { topic, p };
    }
  }

  private leadsAnything(id: number): boolean {
    for (const { p } of this.partitions()) if (p.leader === id) return true;
    return false;
  }

  /** Partition changes taking `id` out of every ISR and leadership. */
  removeFromPartitions(id: number): MetadataRecord[] {
    const out: MetadataRecord[] = [];
    for (const { topic, p } of this.partitions()) {
      if (p.leader !== id && !p.isr.includes(id)) continue;
      const rec = buildPartitionChange(
        p,
        { isr: isrWithout(p.isr, id) },
        { canLead: (b) => b !== id && this.canLead(b), uncleanAllowed: this.opts.uncleanAllowed(topic) },
      );
      if (rec) out.push({ type: "PartitionChange", value: rec });
    }
    return out;
  }

  /** Leaders for partitions offline until now that `id` (just unfenced) can lead. */
  private electOffline(id: number): MetadataRecord[] {
    const out: MetadataRecord[] = [];
    for (const { topic, p } of this.partitions()) {
      if (p.leader >= 0 || !p.replicas.includes(id)) continue;
      const rec = buildPartitionChange(
        p,
        {},
        {
          canLead: (b) => b === id || this.canLead(b),
          uncleanAllowed: this.opts.uncleanAllowed(topic),
        },
      );
      if (rec) out.push({ type: "PartitionChange", value: rec });
    }
    return out;
  }

  /** Moves leadership back to each partition's preferred (first) replica where it can lead. */
  rebalanceLeaders(): Promise<number> {
    return this.opts.controller.run(async () => {
      const records: MetadataRecord[] = [];
      for (const { topic, p } of this.partitions()) {
        const preferred = p.replicas[0];
        if (
          preferred === undefined ||
          p.leader === preferred ||
          !p.isr.includes(preferred) ||
          !this.canLead(preferred)
        )
          continue;
        const rec = buildPartitionChange(
          p,
          {},
          {
            canLead: (b) => this.canLead(b),
            uncleanAllowed: this.opts.uncleanAllowed(topic),
            election: "preferred",
          },
        );
        if (rec) records.push({ type: "PartitionChange", value: rec });
      }
      if (records.length > 0) {
        this.opts.logger.info("moving leaderships back to preferred replicas", {
          partitions: records.length,
        });
        await this.opts.controller.commit(records);
      }
      return records.length;
    });
  }
}
