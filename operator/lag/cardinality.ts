// The cardinality budget: how finely each group's lag is exported. Per-partition series
// are what dashboards drill into, and what makes a hosted Prometheus bill grow with
// partitions × groups (kafka-lag-exporter #92). Each group gets a granularity:
//
//   partition  per-partition series (lag, current offset, lag seconds) + per-topic sums
//              + per-group series
//   topic      per-topic sums + per-group series
//   group      per-group series only (members, max lag, max lag seconds, status, ...)
//
// from the first matching override (a glob on the group id), else the default. With a
// `maxSeries` budget, groups are then coarsened, largest first (partition → topic for
// all that need it, then topic → group), until the group series fit. What the budget
// cost is reported (capstan_lag_groups_coarsened), never silently.
export type Granularity = "partition" | "topic" | "group";
export const GRANULARITIES: readonly Granularity[] = ["partition", "topic", "group"];

export interface CardinalityOptions {
  granularity?: Granularity;
  overrides?: readonly { group: string; granularity: Granularity }[];
  /** Upper bound on consumer-group series (topic-partition series are not counted). */
  maxSeries?: number;
}

export interface GroupShape {
  groupId: string;
  /** Partitions with a committed offset. */
  partitions: number;
  topics: number;
  /** Whether the group has a lag threshold series. */
  threshold?: boolean;
}

/**
 * Series of one group whatever its granularity, at most (see metrics.ts): members, state,
 * 5 × status, max lag, max lag seconds, time to drain, uncommitted partitions.
 */
export const GROUP_SERIES = 11;
/** Per-partition families: lag, current offset, lag seconds. */
export const PARTITION_SERIES = 3;
/** Per-topic families: lag sum, current offset sum. */
export const TOPIC_SERIES = 2;

export function seriesOf(g: GroupShape, granularity: Granularity): number {
  const base = GROUP_SERIES + (g.threshold ? 1 : 0);
  if (granularity === "group") return base;
  if (granularity === "topic") return base + TOPIC_SERIES * g.topics;
  return base + TOPIC_SERIES * g.topics + PARTITION_SERIES * g.partitions;
}

export interface GranularityPlan {
  granularity: Map<string, Granularity>;
  series: number;
  /** Groups exported coarser than configured because of maxSeries. */
  coarsened: number;
}

export function planGranularity(
  groups: readonly GroupShape[],
  opts: CardinalityOptions = {},
): GranularityPlan {
  const overrides = (opts.overrides ?? []).map((o) => ({
    match: globToRegExp(o.group),
    granularity: o.granularity,
  }));
  const granularity = new Map<string, Granularity>();
  let series = 0;
  for (const g of groups) {
    const chosen =
      overrides.find((o) => o.match.test(g.groupId))?.granularity ?? opts.granularity ?? "partition";
    granularity.set(g.groupId, chosen);
    series += seriesOf(g, chosen);
  }
  let coarsened = 0;
  const budget = opts.maxSeries;
  if (budget !== undefined && series > budget) {
    const largestFirst = [...groups].sort((a, b) => b.partitions - a.partitions || b.topics - a.topics);
    const touched = new Set<string>();
    for (const [from, to] of [
      ["partition", "topic"],
      ["topic", "group"],
    ] as const) {
      for (const g of largestFirst) {
        if (series <= budget) break;
        if (granularity.get(g.groupId) !== from) continue;
        series += seriesOf(g, to) - seriesOf(g, from);
        granularity.set(g.groupId, to);
        touched.add(g.groupId);
      }
    }
    coarsened = touched.size;
  }
  return { granularity, series, coarsened };
}

/** `*` any run of characters, `?` one character; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}
