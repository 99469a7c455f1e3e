// A small structured logger shared by the broker, the operator and local mode.
// Human-readable lines by default (what people read in a terminal or `kubectl logs`),
// JSON lines with CAPSTAN_LOG_FORMAT=json (for log pipelines).
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(component: string, fields?: Fields): Logger;
}

function render(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /^[\w./:@-]*$/.test(v) && v !== "" ? v : JSON.stringify(v);
  if (typeof v === "bigint") return v.toString();
  return JSON.stringify(v);
}

export function createLogger(component: string, base: Fields = {}): Logger {
  const threshold = ORDER[(process.env.CAPSTAN_LOG_LEVEL as Level | undefined) ?? "info"] ?? ORDER.info;
  const json = process.env.CAPSTAN_LOG_FORMAT === "json";
  const write = (level: Level, msg: string, fields?: Fields): void => {
    if (ORDER[level] < threshold) return;
    const all = { ...base, ...fields };
    const time = new Date().toISOString();
    let line: string;
    if (json) {
      line = JSON.stringify({ time, level, component, msg, ...all }, (_k, v: unknown) =>
        typeof v === "bigint" ? v.toString() : v instanceof Error ? v.message : v,
      );
    } else {
      const kv = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${render(v)}`)
        .join(" ");
      line = `${time} ${level.toUpperCase().padEnd(5)} [${component}] ${msg}${kv ? " " + kv : ""}`;
    }
    (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line + "\n");
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (c, f) => createLogger(`${component}.${c}`, { ...base, ...f }),
  };
}
