// The broker's Prometheus metrics (prom-client), served on their own HTTP listener
// (capstan.metrics.listener). Names follow Kafka's JMX metrics as the Prometheus JMX
// exporter renders them in common dashboards, under a kafka_server_/kafka_log_ prefix.
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "../lib/logger.ts";

export interface PartitionStats {
  topic: string;
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  sizeBytes: number;
  segments: number;
}

/** The replication and controller state behind the cluster gauges. */
export interface ReplicationStats {
  /** Partitions this broker hosts, and leads. */
  partitionCount: number;
  leaderCount: number;
  /** Of those it leads: ISR smaller than the replica set, and smaller than min.insync.replicas. */
  underReplicated: number;
  underMinIsr: number;
  /** ISR changes this broker made as a leader since it started. */
  isrShrinks: number;
  isrExpands: number;
  /** 1 on the active controller, else 0. */
  activeController: number;
  /** Partitions with no leader (reported by the active controller only, as Kafka does). */
  offlinePartitions: number;
}

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly bytesIn: Counter<"topic">;
  readonly bytesOut: Counter<"topic">;
  readonly messagesIn: Counter<"topic">;
  readonly requests: Counter<"request" | "version">;
  readonly requestSeconds: Histogram<"request">;
  readonly connections: Gauge<"listener">;
  private server?: Server;

  constructor(partitions: () => PartitionStats[], replication?: () => ReplicationStats) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: "capstan_broker_" });
    this.bytesIn = new Counter({
      name: "kafka_server_brokertopicmetrics_bytesin_total",
      help: "Bytes appended to topics by producers.",
      labelNames: ["topic"],
      registers: [registry],
    });
    this.bytesOut = new Counter({
      name: "kafka_server_brokertopicmetrics_bytesout_total",
      help: "Bytes sent to consumers by Fetch.",
      labelNames: ["topic"],
      registers: [registry],
    });
    this.messagesIn = new Counter({
      name: "kafka_server_brokertopicmetrics_messagesin_total",
      help: "Records appended to topics by producers.",
      labelNames: ["topic"],
      registers: [registry],
    });
    this.requests = new Counter({
      name: "kafka_network_requestmetrics_requests_total",
      help: "Requests answered, by API and version.",
      labelNames: ["request", "version"],
      registers: [registry],
    });
    this.requestSeconds = new Histogram({
      name: "kafka_network_requestmetrics_totaltime_seconds",
      help: "Time from a request's arrival to its response being ready, by API.",
      labelNames: ["request"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.connections = new Gauge({
      name: "kafka_server_socketservermetrics_connection_count",
      help: "Open client connections, by listener.",
      labelNames: ["listener"],
      registers: [registry],
    });
    const gauge = (name: string, help: string, pick: (p: PartitionStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ["topic", "partition"],
        registers: [registry],
        collect() {
          this.reset();
          for (const p of partitions()) this.set({ topic: p.topic, partition: String(p.partition) }, pick(p));
        },
      });
    };
    gauge("kafka_log_log_size", "Bytes of a partition's log on disk.", (p) => p.sizeBytes);
    gauge("kafka_log_log_logstartoffset", "First offset still in the log.", (p) => p.logStartOffset);
    gauge("kafka_log_log_logendoffset", "Offset of the next record to be appended.", (p) => p.logEndOffset);
    gauge(
      "kafka_cluster_partition_highwatermark",
      "Offset up to which consumers can read.",
      (p) => p.highWatermark,
    );
    gauge("kafka_log_log_numlogsegments", "Segments in a partition's log.", (p) => p.segments);
    if (replication) this.replicationMetrics(replication);
  }

  private replicationMetrics(stats: () => ReplicationStats): void {
    const one = (name: string, help: string, pick: (s: ReplicationStats) => number, counter = false) => {
      new Gauge({
        name,
        help: counter ? `${help} (a count since the broker started)` : help,
        registers: [this.registry],
        collect() {
          this.set(pick(stats()));
        },
      });
    };
    one(
      "kafka_server_replicamanager_partitioncount",
      "Partitions hosted by this broker.",
      (s) => s.partitionCount,
    );
    one("kafka_server_replicamanager_leadercount", "Partitions led by this broker.", (s) => s.leaderCount);
    one(
      "kafka_server_replicamanager_underreplicatedpartitions",
      "Partitions led here whose ISR is smaller than their replica set.",
      (s) => s.underReplicated,
    );
    one(
      "kafka_server_replicamanager_underminisrpartitioncount",
      "Partitions led here whose ISR is smaller than min.insync.replicas.",
      (s) => s.underMinIsr,
    );
    one(
      "kafka_server_replicamanager_isrshrinks_total",
      "ISR shrinks proposed by this broker.",
      (s) => s.isrShrinks,
      true,
    );
    one(
      "kafka_server_replicamanager_isrexpands_total",
      "ISR expansions proposed by this broker.",
      (s) => s.isrExpands,
      true,
    );
    one(
      "kafka_controller_kafkacontroller_activecontrollercount",
      "1 on the active controller, 0 elsewhere.",
      (s) => s.activeController,
    );
    one(
      "kafka_controller_kafkacontroller_offlinepartitionscount",
      "Partitions without a leader (on the active controller).",
      (s) => s.offlinePartitions,
    );
  }

  onRequest(apiName: string, version: number, seconds: number): void {
    this.requests.inc({ request: apiName, version: String(version) });
    this.requestSeconds.observe({ request: apiName }, seconds);
  }

  /** Serves /metrics on host:port; resolves with the bound port. */
  async listen(host: string, port: number, log: Logger): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end("not found: try /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (err: unknown) => {
          log.error("metrics collection failed", { error: err instanceof Error ? err.message : String(err) });
          res.writeHead(500).end();
        },
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: host === "" ? undefined : host, port }, () => resolve());
    });
    const addr = server.address();
    return addr && typeof addr === "object" ? addr.port : port;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
