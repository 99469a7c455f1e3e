// Leader election on a coordination.k8s.io/v1 Lease, client-go's algorithm (client-node
// has none). A candidate takes the lease when it is free or when its record has stayed
// unchanged for the lease duration on the candidate's own clock: clocks of different
// machines are never compared. Every write carries the resourceVersion it read, so of two
// candidates only one wins (409 for the other). The leader renews every retry period and
// steps down if it could not renew within the renew deadline, before anyone else may
// take over (renew deadline < lease duration). On graceful shutdown it releases the
// lease so a standby takes over at once instead of after the lease duration.
import type { Logger } from "../../lib/logger.ts";
import type { KubeClient, KubeObject } from "./kube-client.ts";
import { withDefaults } from "./defaults.ts";
import { isConflict } from "./kube-client.ts";
import { LEASE } from "./resources.ts";
import { microTime } from "./time.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export type Lease = KubeObject & { spec?: LeaseSpec };

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading: () => void;
  /** Called once when leadership is lost (not when released by stop()). */
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

/** client-go's jitter factor for the retry period. */
const JITTER = 1.2;

export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, "onNewLeader">> & LeaderElectionOptions;
  private observed: { record: string; at: number } | undefined;
  private lease: Lease | undefined;
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastLeader: string | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.o = withDefaults({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, opts);
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs) {
      throw new Error("the renew deadline must be shorter than the lease duration");
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The current holder as last seen (this candidate's identity when leading). */
  get leader(): string | undefined {
    return this.lastLeader;
  }

  /** Starts campaigning in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.release();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.tryAcquireOrRenew();
      if (this.stopped) return;
      const now = performance.now();
      if (ok) {
        this.lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.o.log.info("became the leader", { lease: `${this.o.namespace}/${this.o.name}` });
          this.o.onStartedLeading();
        }
      } else if (this.leading && now - this.lastRenew >= this.o.renewDeadlineMs) {
        this.leading = false;
        this.o.log.error("lost the leadership: could not renew the lease within the renew deadline", {
          lease: `${this.o.namespace}/${this.o.name}`,
        });
        this.o.onStoppedLeading();
        return;
      }
      // A leader renews every retry period; a candidate retries with jitter so that
      // candidates started together do not keep colliding.
      const wait = this.leading
        ? this.o.retryPeriodMs
        : this.o.retryPeriodMs * (1 + Math.random() * (JITTER - 1));
      await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** One attempt; true when this candidate holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = new Date();
    const durationSeconds = Math.ceil(this.o.leaseDurationMs / 1000);
    try {
      const current = await client.get<Lease>(LEASE, namespace, name);
      if (!current) {
        this.lease = await client.create<Lease>({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        this.observe(this.lease);
        return true;
      }
      this.observe(current);
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity ?? "";
      const held = holder !== "" && holder !== identity;
      // The holder's own declared duration decides when its lease expires.
      const durationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (held && performance.now() - this.observed!.at < durationMs) return false;
      const mine = holder === identity;
      const next: Lease = {
        ...current,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
        },
      };
      this.lease = await client.update<Lease>(next);
      this.observe(this.lease);
      return true;
    } catch (err) {
      if (!isConflict(err)) this.o.log.warn("lease request failed", { error: err });
      return false;
    }
  }

  /** Notes the record as seen now when it differs from the last one seen. */
  private observe(lease: Lease): void {
    const record = JSON.stringify(lease.spec ?? {});
    if (this.observed?.record !== record) this.observed = { record, at: performance.now() };
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      if (holder !== this.o.identity) this.o.log.info("new leader observed", { leader: holder });
      this.o.onNewLeader?.(holder);
    }
  }

  /** Gives the lease up: an empty holder, which any candidate may take at once. */
  private async release(): Promise<void> {
    if (!this.lease) return;
    try {
      const now = microTime();
      await this.o.client.update<Lease>({
        ...this.lease,
        spec: {
          ...this.lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      });
      this.o.log.info("released the lease", { lease: `${this.o.namespace}/${this.o.name}` });
    } catch (err) {
      this.o.log.warn("could not release the lease", { error: err });
    }
  }
}
