// `capstan local`: run a KafkaCluster and its topics from a directory of manifests as
// local processes, without Kubernetes. `capstan local status` prints what it last saw.
import type { Command } from "commander";
import { createLogger } from "../../lib/logger.ts";
import {
  DEFAULT_DATA_DIR,
  DEFAULT_MANIFESTS,
  LocalCluster,
  LocalModeError,
  readStatus,
  resetDataDir,
} from "./local-cluster.ts";

export function registerLocalCommand(program: Command): void {
  const local = program
    .command("local")
    .description(
      "run a Capstan cluster from KafkaCluster/KafkaTopic manifests as local processes (no Kubernetes)",
    )
    .option("-m, --manifests <dir>", "directory of manifests (watched for changes)", DEFAULT_MANIFESTS)
    .option(
      "-d, --data-dir <dir>",
      "where brokers keep their data and local mode its status",
      DEFAULT_DATA_DIR,
    )
    .option("-b, --brokers <n>", "number of brokers (overrides the KafkaCluster's spec.replicas)", (v) =>
      Number(v),
    )
    .option(
      "-p, --port-base <port>",
      "client port of broker 0; broker N listens on port-base + N",
      (v) => Number(v),
      9092,
    )
    .option("--reset", "wipe the data directory first")
    .enablePositionalOptions()
    .action(
      async (opts: {
        manifests: string;
        dataDir: string;
        brokers?: number;
        portBase: number;
        reset?: boolean;
      }) => {
        const log = createLogger("local");
        if (opts.reset) {
          resetDataDir(opts.dataDir);
          log.info(`wiped ${opts.dataDir}`);
        }
        const cluster = new LocalCluster({
          manifestsDir: opts.manifests,
          dataDir: opts.dataDir,
          brokers: opts.brokers,
          portBase: opts.portBase,
          log,
        });
        try {
          await cluster.start();
        } catch (err) {
          if (err instanceof LocalModeError) {
            log.error(err.message);
            process.exitCode = 2;
            return;
          }
          throw err;
        }
        log.info(`cluster ready: bootstrap servers ${cluster.bootstrapServers}`);
        log.info(`consumer-lag metrics: ${cluster.metricsUrl}`);
        log.info(`try: kcat -b ${cluster.bootstrapServers} -L`);
        log.info(
          `status: capstan local status --data-dir ${opts.dataDir} (watching ${opts.manifests} for changes)`,
        );
        await new Promise<void>((resolve) => {
          const stop = (signal: string): void => {
            log.info(`${signal}: stopping the cluster`);
            cluster.stop().then(resolve, resolve);
          };
          process.once("SIGINT", () => stop("SIGINT"));
          process.once("SIGTERM", () => stop("SIGTERM"));
        });
      },
    );

  local
    .command("status")
    .description("print the status local mode last wrote")
    .option("-d, --data-dir <dir>", "the data directory", DEFAULT_DATA_DIR)
    .action((opts: { dataDir: string }) => {
      const s = readStatus(opts.dataDir);
      if (!s) {
        console.error(`no status in ${opts.dataDir}: is capstan local running there?`);
        process.exitCode = 1;
        return;
      }
      console.log(`KafkaCluster ${s.cluster}: bootstrap ${s.bootstrapServers} (updated ${s.updated})`);
      for (const b of s.brokers)
        console.log(`  broker ${b.id}: port ${b.port}, pid ${b.pid ?? "-"}, log ${b.log}`);
      for (const t of s.topics) {
        console.log(
          `  KafkaTopic ${t.resource} -> ${t.topicName}: Ready=${t.ready ? "True" : "False"} ${t.reason}` +
            (t.partitions !== undefined ? ` partitions=${t.partitions} rf=${t.replicationFactor}` : "") +
            (t.ready ? "" : `\n      ${t.message}`),
        );
      }
      for (const p of s.problems) console.log(`  problem: ${p}`);
    });
}
