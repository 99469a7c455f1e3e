// The results table: one row per figure, Capstan and Kafka side by side as "median (min–max)"
// and the ratio of the medians. A markdown pipe table, so the console output pastes into
// docs/benchmarks.md as is. Pure: unit-tested in bench/table.test.ts.
import { formatRatio, formatSummary, summarize } from "./summary.ts";

export type BrokerKind = "capstan" | "kafka";

export interface MetricDef {
  /** Stable key in the JSON results. */
  id: string;
  /** What is measured, e.g. "produce throughput". */
  label: string;
  unit: string;
  /** The client that measured it, e.g. "ProducerPerformance" or "kcat". */
  client: string;
  better: "higher" | "lower";
}

/** One broker's runs of one figure, or why there are none. */
export interface Side {
  values: number[];
  /** Not applicable to this broker (the reason is printed). */
  na?: string;
  /** The scenario failed on this broker. */
  error?: string;
}

export interface Row {
  scenario: string;
  metric: MetricDef;
  capstan?: Side;
  kafka?: Side;
}

/** Keeps a reason short enough for a table cell. */
function clip(s: string, max = 90): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

export function formatSide(side: Side | undefined): string {
  if (!side) return "not run";
  if (side.na !== undefined) return `n/a (${clip(side.na)})`;
  if (side.error !== undefined) return `failed (${clip(side.error, 60)})`;
  const s = summarize(side.values);
  return s ? formatSummary(s) : "no data";
}

export function ratioOf(row: Row): string {
  const ok = (side: Side | undefined) =>
    side && side.na === undefined && side.error === undefined ? summarize(side.values) : undefined;
  return formatRatio(ok(row.capstan), ok(row.kafka));
}

const escapeCell = (s: string) => s.replace(/\|/g, "\\|");

/** A markdown table with aligned columns; "↑"/"↓" mark whether higher or lower is better. */
export function renderTable(rows: readonly Row[]): string {
  const head = ["scenario", "figure", "client", "Capstan", "Kafka", "Capstan/Kafka"];
  const cells = rows.map((r) => [
    r.scenario,
    `${r.metric.label}, ${r.metric.unit} ${r.metric.better === "higher" ? "↑" : "↓"}`,
    r.metric.client,
    formatSide(r.capstan),
    formatSide(r.kafka),
    ratioOf(r),
  ]);
  const all = [head, ...cells].map((row) => row.map(escapeCell));
  const widths = head.map((_, i) => Math.max(...all.map((row) => [...row[i]].length)));
  const pad = (s: string, w: number) => s + " ".repeat(w - [...s].length);
  const line = (row: string[]) => `| ${row.map((c, i) => pad(c, widths[i])).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(all[0]), rule, ...all.slice(1).map(line)].join("\n");
}
