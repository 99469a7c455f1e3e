// Median, min and max of a figure's runs, and how to print them. Pure: unit-tested in
// bench/summary.test.ts.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Median (mean of the middle two for an even count), min and max; undefined for no runs. */
export function summarize(values: readonly number[]): Summary | undefined {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return { median, min: xs[0], max: xs[xs.length - 1], runs: xs.length };
}

/** Three significant figures for small numbers, whole numbers from 100 up. */
export function formatNumber(x: number): string {
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString("en-US");
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return "0";
  return x.toPrecision(2);
}

/** "median (min–max)", or just the value for a single run. */
export function formatSummary(s: Summary): string {
  if (s.runs === 1 || s.min === s.max) return formatNumber(s.median);
  return `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})`;
}

/** Capstan/Kafka of the medians, e.g. "1.25×"; "n/a" when either side is missing or zero. */
export function formatRatio(capstan: Summary | undefined, kafka: Summary | undefined): string {
  if (!capstan || !kafka || kafka.median === 0) return "n/a";
  const r = capstan.median / kafka.median;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}
