// Median/min/max and the table's cells and ratios.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatNumber, formatRatio, formatSummary, summarize } from "./lib/summary.ts";
import { formatSide, ratioOf, renderTable } from "./lib/table.ts";
import type { MetricDef, Row } from "./lib/table.ts";

test("summarize: median of odd and even counts, min, max; nothing for no runs", () => {
  assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, runs: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: 4 });
  assert.deepEqual(summarize([Number.NaN, 5]), { median: 5, min: 5, max: 5, runs: 1 });
  assert.equal(summarize([]), undefined);
});

test("numbers, summaries and ratios", () => {
  assert.equal(formatNumber(180570.4), "180,570");
  assert.equal(formatNumber(35.84), "35.8");
  assert.equal(formatNumber(5.414), "5.41");
  assert.equal(formatNumber(0.0123), "0.012");
  assert.equal(formatSummary({ median: 120, min: 110.2, max: 130.7, runs: 3 }), "120 (110–131)");
  assert.equal(formatSummary({ median: 7, min: 7, max: 7, runs: 1 }), "7.00");
  const s = (median: number) => ({ median, min: median, max: median, runs: 1 });
  assert.equal(formatRatio(s(150), s(100)), "1.50×");
  assert.equal(formatRatio(s(1500), s(100)), "15.0×");
  assert.equal(formatRatio(s(1), undefined), "n/a");
  assert.equal(formatRatio(s(1), s(0)), "n/a");
});

const metric: MetricDef = { id: "m", label: "produce", unit: "MiB/s", client: "kcat", better: "higher" };

test("cells: values, n/a with its reason, failures, not run", () => {
  assert.equal(formatSide({ values: [1, 3, 2] }), "2.00 (1.00–3.00)");
  assert.equal(
    formatSide({ values: [], na: "Metadata lists 1 of 3 brokers" }),
    "n/a (Metadata lists 1 of 3 brokers)",
  );
  assert.match(formatSide({ values: [], error: "x".repeat(200) }), /^failed \(x+…\)$/);
  assert.equal(formatSide(undefined), "not run");
  assert.equal(formatSide({ values: [] }), "no data");
  assert.equal(
    ratioOf({ scenario: "s", metric, capstan: { values: [], na: "why" }, kafka: { values: [2] } }),
    "n/a",
  );
});

test("renderTable: aligned markdown with direction marks and ratio", () => {
  const rows: Row[] = [
    { scenario: "1. produce", metric, capstan: { values: [200, 180, 220] }, kafka: { values: [100] } },
    {
      scenario: "2. a|b",
      metric: { ...metric, better: "lower", unit: "ms" },
      capstan: { values: [], na: "no" },
      kafka: { values: [9] },
    },
  ];
  const lines = renderTable(rows).split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[0], /^\| scenario +\| figure +\| client +\| Capstan +\| Kafka +\| Capstan\/Kafka \|$/);
  assert.match(lines[2], /\| produce, MiB\/s ↑ +\| kcat +\| 200 \(180–220\) \| 100 +\| 2\.00× +\|$/);
  assert.match(lines[3], /2\. a\\\|b .*ms ↓.*n\/a \(no\).*\| 9\.00 .*\| n\/a/);
  const widths = lines.map((l) => [...l].length);
  assert.ok(
    widths.every((w) => w === widths[0]),
    "every line has the same width",
  );
});
