// The alert rules and the dashboard as files: `promtool check rules` and `promtool test
// rules` pass, every alert has a unit test that makes it fire, every metric the rules and
// the dashboard use is one the exporter exports, and the dashboard's data source is a
// variable (so it imports into any Grafana).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { LagMetrics } from "../../operator/lag/metrics.ts";
import { DASHBOARD, RULES, allPanels, dashboardQueries, loadDashboard } from "./dashboard.ts";
import { promtoolBinary } from "./prometheus.ts";

const TESTS_DIR = path.join(path.dirname(RULES), "tests");
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => path.join(TESTS_DIR, f));
const promtool = promtoolBinary();
const noPromtool = promtool ? false : "promtool is not installed (apt-get install prometheus; .ci/run does)";

interface RuleFile {
  groups: {
    name: string;
    rules: { alert?: string; record?: string; expr: string; labels?: Record<string, string> }[];
  }[];
}
interface RuleTestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

const rules = parse(readFileSync(RULES, "utf8")) as RuleFile;
const alerts = rules.groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => r.alert!));

function promtoolRun(args: string[]) {
  const r = spawnSync(promtool!, args, { encoding: "utf8", cwd: path.dirname(RULES), timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}\n${r.stderr}` };
}

test("promtool check rules", { skip: noPromtool }, () => {
  const r = promtoolRun(["check", "rules", RULES]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, new RegExp(`SUCCESS: ${rules.groups.flatMap((g) => g.rules).length} rules found`));
});

test("promtool test rules (unit tests of every alert)", { skip: noPromtool }, () => {
  assert.ok(testFiles.length > 0, `no rule tests in ${TESTS_DIR}`);
  const r = promtoolRun(["test", "rules", ...testFiles]);
  assert.equal(r.code, 0, r.output);
  assert.doesNotMatch(r.output, /FAILED/, r.output);
});

test("every alert has a unit test in which it fires, and one in which it does not", () => {
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const f of testFiles) {
    const t = parse(readFileSync(f, "utf8")) as RuleTestFile;
    for (const c of t.tests) {
      for (const a of c.alert_rule_test ?? []) {
        if ((a.exp_alerts ?? []).length > 0) fires.add(a.alertname);
        else quiet.add(a.alertname);
      }
    }
  }
  assert.ok(alerts.length >= 9, `alerts: ${alerts.join(", ")}`);
  assert.deepEqual(
    alerts.filter((a) => !fires.has(a)),
    [],
    "alerts never shown firing",
  );
  // KafkaOfflinePartitions fires within its first minute by design; the others are held back by `for`.
  assert.deepEqual(
    alerts.filter((a) => !quiet.has(a) && a !== "KafkaOfflinePartitions"),
    [],
    "alerts never shown quiet",
  );
  for (const g of rules.groups) {
    for (const r of g.rules) if (r.alert) assert.ok(r.labels?.severity, `${r.alert} has a severity label`);
  }
});

test("the rules and the dashboard use only metrics the exporter exports", () => {
  const exported = new Set(
    new LagMetrics().registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name),
  );
  const used = (expr: string) => [...expr.matchAll(/\b((?:kafka|capstan_lag)_[a-z_]+)\b/g)].map((m) => m[1]);
  const unknown = new Set<string>();
  for (const g of rules.groups)
    for (const r of g.rules) for (const m of used(r.expr)) if (!exported.has(m)) unknown.add(m);
  for (const q of dashboardQueries()) for (const m of used(q.expr)) if (!exported.has(m)) unknown.add(m);
  const d = loadDashboard();
  for (const v of d.templating.list) {
    const text = typeof v.query === "string" ? v.query : JSON.stringify(v.query);
    for (const m of used(text)) if (!exported.has(m)) unknown.add(m);
  }
  assert.deepEqual([...unknown], []);
});

test("the dashboard's data source is a template variable, on every panel and query", () => {
  const d = loadDashboard();
  assert.ok(d.uid && d.title, "uid and title");
  const ds = d.templating.list.find((v) => v.name === "datasource");
  assert.equal(ds?.type, "datasource");
  assert.equal(ds?.query, "prometheus");
  for (const name of ["cluster", "namespace", "consumergroup", "topic"]) {
    assert.ok(
      d.templating.list.some((v) => v.name === name),
      `variable ${name}`,
    );
  }
  const problems: string[] = [];
  for (const p of allPanels(d)) {
    if (p.type === "row") continue;
    if (p.datasource?.uid !== "${datasource}") problems.push(`panel ${p.title}`);
    for (const t of p.targets ?? []) {
      if (t.datasource?.uid !== "${datasource}") problems.push(`${p.title}/${t.refId}`);
    }
  }
  assert.deepEqual(problems, []);
  // What the issue asks the dashboard to show.
  const titles = allPanels(d).map((p) => p.title.toLowerCase());
  for (const topic of [
    "lag by group and topic",
    "seconds",
    "status",
    "members",
    "partition offsets",
    "per second",
  ]) {
    assert.ok(
      titles.some((t) => t.includes(topic)),
      `a panel about ${topic}`,
    );
  }
  assert.ok(readFileSync(DASHBOARD, "utf8").endsWith("\n"));
});
