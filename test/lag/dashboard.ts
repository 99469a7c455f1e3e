// The PromQL of charts/dashboards/capstan-lag.json, extracted the way Grafana runs it:
// every target of every panel (rows included), with the dashboard variables substituted.
// Not a test file.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DASHBOARD = path.join(ROOT, "charts", "dashboards", "capstan-lag.json");
export const RULES = path.join(ROOT, "charts", "dashboards", "capstan-lag-rules.yaml");

export interface Target {
  datasource?: { type?: string; uid?: string };
  expr?: string;
  refId?: string;
  instant?: boolean;
}

export interface Panel {
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

export interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
}

export interface DashboardQuery {
  /** "panel title/refId", unique in the dashboard. */
  id: string;
  panel: string;
  expr: string;
}

export function loadDashboard(file = DASHBOARD): Dashboard {
  return JSON.parse(readFileSync(file, "utf8")) as Dashboard;
}

export function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      out.push(p);
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

export function dashboardQueries(d: Dashboard = loadDashboard()): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      if (t.expr) out.push({ id: `${p.title}/${t.refId ?? "A"}`, panel: p.title, expr: t.expr });
    }
  }
  return out;
}

/**
 * Grafana's substitution for one selected value per variable (regex-escaped, as Grafana
 * does for =~ matchers), and $__rate_interval as Grafana computes it for a 1 s scrape.
 */
export function substitute(expr: string, vars: Record<string, string>, rateInterval = "15s"): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replace(/\$(\w+)/g, (m, name: string) =>
      name in vars ? vars[name].replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&") : m,
    );
}
