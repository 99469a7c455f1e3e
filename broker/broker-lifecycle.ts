// A broker's membership in the cluster (Kafka's BrokerLifecycleManager): it registers
// with the active controller (BrokerRegistration, which records it fenced and hands
// out its broker epoch), then heartbeats every broker.heartbeat.interval.ms with how
// far it has applied the metadata log. The controller unfences it once it has caught
// up, and fences it if the heartbeats stop for broker.session.timeout.ms. On shutdown
// it asks to leave (WantShutDown): the controller moves its leaderships away first and
// says when it may go (ShouldShutDown).
import type { Logger } from "../lib/logger.ts";
import { BrokerHeartbeat, BrokerRegistration } from "../protocol/generated/apis.ts";
import type { BrokerRegistrationRequest } from "../protocol/generated/messages/BrokerRegistrationRequest.ts";
import type { BrokerHeartbeatResponse } from "../protocol/generated/messages/BrokerHeartbeatResponse.ts";
import { randomUuid } from "../protocol/wire/index.ts";
import type { ControllerChannel } from "./controller-channel.ts";
import { ErrorCode } from "./errors.ts";

export interface BrokerLifecycleOptions {
  nodeId: number;
  clusterId: string;
  channel: ControllerChannel;
  /** This broker's client listeners, as other brokers and clients reach them. */
  listeners: () => BrokerRegistrationRequest["listeners"];
  rack: string | null;
  heartbeatIntervalMs: number;
  /** The offset after the last metadata record this broker has applied. */
  metadataOffset: () => number;
  logger: Logger;
}

const REGISTRATION_VERSION = 0;
const HEARTBEAT_VERSION = 0;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class BrokerLifecycle {
  readonly incarnationId = randomUuid();
  private readonly opts: BrokerLifecycleOptions;
  private epoch = -1n;
  private fenced = true;
  private wantShutDown = false;
  private shouldShutDown = false;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Heartbeats in a row that reached no controller. */
  private failedHeartbeats = 0;
  private readonly changeListeners = new Set<() => void>();

  constructor(opts: BrokerLifecycleOptions) {
    this.opts = opts;
  }

  get brokerEpoch(): bigint {
    return this.epoch;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  /** Registers, then heartbeats until stopped. */
  start(): void {
    this.loop ??= this.run();
  }

  private async register(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const req: BrokerRegistrationRequest = {
        brokerId: this.opts.nodeId,
        clusterId: this.opts.clusterId,
        incarnationId: this.incarnationId,
        listeners: this.opts.listeners(),
        features: [],
        rack: this.opts.rack,
        isMigratingZkBroker: false,
        logDirs: [],
        previousBrokerEpoch: -1n,
      };
      try {
        const res = await this.opts.channel.send(BrokerRegistration, REGISTRATION_VERSION, req, {
          deadlineMs: Date.now() + 30_000,
          notController: (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
        });
        if (res.errorCode === ErrorCode.NONE) {
          this.epoch = res.brokerEpoch;
          this.opts.logger.info("registered with the controller", {
            brokerEpoch: res.brokerEpoch,
            controller: this.opts.channel.activeId(),
          });
          return;
        }
        this.opts.logger.warn("broker registration refused; retrying", { error: res.errorCode });
      } catch (e) {
        this.opts.logger.warn("broker registration failed; retrying", { error: e });
      }
      await sleep(Math.min(this.opts.heartbeatIntervalMs, 1000));
    }
  }

  private async run(): Promise<void> {
    await this.register();
    while (!this.stopped) {
      const started = Date.now();
      const res = await this.heartbeat();
      if (
        res?.errorCode === ErrorCode.STALE_BROKER_EPOCH ||
        res?.errorCode === ErrorCode.BROKER_ID_NOT_REGISTERED
      ) {
        this.opts.logger.warn("the controller no longer knows this registration; registering again", {
          error: res.errorCode,
        });
        this.setFenced(true);
        await this.register();
        continue;
      }
      // Heartbeat faster while waiting to be unfenced or let go, as Kafka does.
      const interval =
        this.fenced || this.wantShutDown
          ? Math.min(this.opts.heartbeatIntervalMs, 200)
          : this.opts.heartbeatIntervalMs;
      await sleep(Math.max(0, interval - (Date.now() - started)));
    }
  }

  private async heartbeat(): Promise<BrokerHeartbeatResponse | null> {
    try {
      const res = await this.opts.channel.send(
        BrokerHeartbeat,
        HEARTBEAT_VERSION,
        {
          brokerId: this.opts.nodeId,
          brokerEpoch: this.epoch,
          currentMetadataOffset: BigInt(Math.max(0, this.opts.metadataOffset() - 1)),
          wantFence: false,
          wantShutDown: this.wantShutDown,
          offlineLogDirs: [],
        },
        {
          deadlineMs: Date.now() + Math.max(this.opts.heartbeatIntervalMs, 1000),
          notController: (r) => r.errorCode === ErrorCode.NOT_CONTROLLER,
        },
      );
      this.failedHeartbeats = 0;
      if (res.errorCode === ErrorCode.NONE) {
        this.setFenced(res.isFenced);
        if (res.shouldShutDown && !this.shouldShutDown) {
          this.shouldShutDown = true;
          this.notify();
        }
      }
      return res;
    } catch (e) {
      this.opts.logger.debug("heartbeat failed", { error: e });
      this.failedHeartbeats++;
      this.notify();
      return null;
    }
  }

  private setFenced(fenced: boolean): void {
    if (fenced === this.fenced) return;
    this.fenced = fenced;
    this.opts.logger.info(
      fenced ? "the controller fenced this broker" : "the controller unfenced this broker",
      {
        brokerEpoch: this.epoch,
      },
    );
    this.notify();
  }

  private notify(): void {
    for (const fn of [...this.changeListeners]) fn();
  }

  private waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!pred()) return;
        done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.changeListeners.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => done(pred()), timeoutMs);
      this.changeListeners.add(check);
    });
  }

  /** Resolves true once unfenced, false after `timeoutMs`. */
  waitUnfenced(timeoutMs: number): Promise<boolean> {
    return this.waitFor(() => !this.fenced, timeoutMs);
  }

  /**
   * Controlled shutdown: asks the controller to move this broker's leaderships away
   * and waits (at most `timeoutMs`) until it says the broker may go.
   */
  async controlledShutdown(timeoutMs: number): Promise<boolean> {
    if (this.epoch < 0n || this.stopped) return false;
    this.wantShutDown = true;
    this.wake?.();
    this.opts.logger.info("controlled shutdown: asking the controller to move leaderships away");
    // No controller to move anything (the quorum is gone too): no point waiting long.
    this.failedHeartbeats = 0;
    await this.waitFor(() => this.shouldShutDown || this.failedHeartbeats >= 3, timeoutMs);
    if (!this.shouldShutDown) {
      this.opts.logger.warn(
        "controlled shutdown: the controller did not release this broker; stopping anyway",
        {
          unreachable: this.failedHeartbeats >= 3,
        },
      );
    }
    return this.shouldShutDown;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.notify();
    await this.loop;
  }
}
