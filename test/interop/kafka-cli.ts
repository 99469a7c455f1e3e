// Kafka's own CLI tools (kafka-topics, kafka-configs, console producer/consumer,
// kafka-consumer-groups), run as their main classes from the cached jars. Not a test file.
import path from "node:path";
import { jvmArgs, kafkaClasspath, kafkaToolClass } from "../setup/kafka.ts";
import { ROOT, run } from "./helpers.ts";
import type { RunResult } from "./helpers.ts";

const LOG_CONFIG = path.join(ROOT, "test", "clients", "log4j2-warn.properties");

/** Runs a Kafka CLI tool (stdin from input); warnings and errors go to stderr. */
export function kafkaCli(
  tool: Parameters<typeof kafkaToolClass>[0],
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run(
    "java",
    [
      ...jvmArgs("256m"),
      // Short-lived tools: the C1 compiler alone starts faster.
      "-XX:TieredStopAtLevel=1",
      `-Dlog4j2.configurationFile=${LOG_CONFIG}`,
      "-cp",
      kafkaClasspath(),
      kafkaToolClass(tool),
      ...args,
    ],
    { input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 },
  );
}
