// A standalone lag exporter for one cluster, for tests, benchmarks and running by hand:
//
//   node operator/lag/main.ts --bootstrap 127.0.0.1:9092 --cluster dev --port 9308
//
// It prints "listening on http://HOST:PORT/metrics" once serving, and stops on SIGINT or
// SIGTERM. The operator runs the same collector per KafkaCluster in its own process.
import { Command, InvalidArgumentError } from "commander";
import type { Granularity } from "./cardinality.ts";
import { GRANULARITIES } from "./cardinality.ts";
import { LagCollector } from "./collector.ts";
import { serveLagMetrics } from "./http.ts";
import { LagMetrics } from "./metrics.ts";

/** "30s", "500ms", "2m" or a plain number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`not a duration: ${text} (e.g. 30s, 500ms, 2m)`);
  const n = Number(m[1]);
  return Math.round(m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000);
}

function integer(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${text}`);
  return n;
}

function granularity(text: string): Granularity {
  if (!(GRANULARITIES as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`granularity must be one of ${GRANULARITIES.join(", ")}`);
  }
  return text as Granularity;
}

function threshold(text: string, previous: { group: string; seconds: number }[]) {
  const i = text.lastIndexOf("=");
  const seconds = Number(text.slice(i + 1));
  if (i <= 0 || !(seconds > 0)) throw new InvalidArgumentError(`expected GROUP_GLOB=SECONDS, not ${text}`);
  return [...previous, { group: text.slice(0, i), seconds }];
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command("capstan-lag")
    .description("Consumer-lag exporter for one Kafka cluster")
    .requiredOption("--bootstrap <addresses>", "comma-separated host:port list")
    .option("--cluster <name>", "value of the cluster label", "local")
    .option("--namespace <name>", "value of the namespace label", "")
    .option("--interval <duration>", "poll interval", parseDuration, 30_000)
    .option("--host <host>", "listen address", "127.0.0.1")
    .option("--port <port>", "listen port (0: any free port)", integer, 9308)
    .option("--granularity <g>", "partition, topic or group", granularity, "partition" as Granularity)
    .option("--max-series <n>", "budget of consumer-group series", integer)
    .option("--status-window <polls>", "observations the status rules look at", integer, 10)
    .option("--allowed-lag <records>", "lag that still counts as caught up", integer, 0)
    .option("--no-record-timestamps", "time lag by interpolation only (no Fetch; DESCRIBE ACLs suffice)")
    .option("--group-filter <regex>", "only groups whose whole id matches")
    .option("--topic-filter <regex>", "only topics whose whole name matches")
    .option(
      "--threshold <glob=seconds>",
      "time-lag threshold for matching groups (repeatable)",
      threshold,
      [],
    )
    .parse(argv, { from: "user" });
  const o = program.opts<{
    bootstrap: string;
    cluster: string;
    namespace: string;
    interval: number;
    host: string;
    port: number;
    granularity: Granularity;
    maxSeries?: number;
    statusWindow: number;
    allowedLag: number;
    recordTimestamps: boolean;
    groupFilter?: string;
    topicFilter?: string;
    threshold: { group: string; seconds: number }[];
  }>();

  const collector = new LagCollector({
    cluster: o.cluster,
    namespace: o.namespace,
    bootstrap: o.bootstrap.split(",").map((s) => s.trim()),
    intervalMs: o.interval,
    status: { window: o.statusWindow, allowedLag: o.allowedLag },
    recordTimestamps: o.recordTimestamps ? {} : false,
    cardinality: { granularity: o.granularity, maxSeries: o.maxSeries },
    groupFilter: o.groupFilter ? new RegExp(o.groupFilter) : undefined,
    topicFilter: o.topicFilter ? new RegExp(o.topicFilter) : undefined,
    lagThresholds: o.threshold,
  });
  const metrics = new LagMetrics();
  metrics.add(collector);
  const server = await serveLagMetrics(metrics, { port: o.port, host: o.host });
  collector.start();
  process.stdout.write(`listening on http://${o.host}:${server.port}/metrics\n`);

  const shutdown = async () => {
    await collector.stop();
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown());
  process.once("SIGTERM", () => void shutdown());
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
