// What a scenario module exports, and what the driver hands it.
import type { BrokerKind, MetricDef } from "./table.ts";

export interface BenchContext {
  /** Records per throughput run (scenarios 1–3). */
  records: number;
  /** Record payload size in bytes. */
  recordSize: number;
  /** Measured runs per figure (after any warm-up). */
  repeat: number;
  /** Records per EndToEndLatency run. */
  latencyRecords: number;
  /** Partitions for the lag poll (scenario 7). */
  lagPartitions: number;
  quick: boolean;
  /** A scratch directory for this run of the benchmark. */
  tmp: string;
  log(message: string): void;
}

/** Thrown when a scenario cannot apply to a broker (printed as "n/a (reason)", not a failure). */
export class NotApplicable extends Error {}

export interface Scenario {
  /** The --scenario name. */
  name: string;
  /** The scenario number and a title, for the table. */
  title: string;
  metrics: MetricDef[];
  /** Brokers it does not apply to, and why. */
  notFor?: Partial<Record<BrokerKind, string>>;
  /** Runs every figure on one broker: metric id → one value per run. */
  run(broker: BrokerKind, ctx: BenchContext): Promise<Record<string, number[]>>;
}
