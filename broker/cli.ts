// `capstan broker`: starts one broker from a server.properties file and overrides,
// logs where it listens, and shuts down cleanly on SIGTERM/SIGINT.
import type { Command } from "commander";
import { createLogger } from "../lib/logger.ts";
import { Broker } from "./broker.ts";
import { BrokerConfig, ConfigError } from "./config.ts";

export function registerBrokerCommand(program: Command): void {
  program
    .command("broker")
    .description("run a Kafka-compatible broker (Kafka's server.properties names and defaults)")
    .option(
      "-c, --config <file>",
      "a server.properties file (repeatable: later files override earlier ones)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      "-o, --override <key=value>",
      "set a property (repeatable), e.g. --override log.dirs=/data",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(async (opts: { config: string[]; override: string[] }) => {
      const log = createLogger("broker");
      let config: BrokerConfig;
      try {
        config = BrokerConfig.load(opts.config, opts.override);
      } catch (err) {
        if (err instanceof ConfigError) {
          log.error(err.message);
          process.exitCode = 2;
          return;
        }
        throw err;
      }
      const broker = await Broker.start(config, log);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string): void => {
          if (stopping) return;
          stopping = true;
          log.info(`received ${signal}, shutting down`);
          broker.shutdown().then(resolve, (err: unknown) => {
            log.error("shutdown failed", { error: err instanceof Error ? err.message : String(err) });
            process.exitCode = 1;
            resolve();
          });
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
    });
}
