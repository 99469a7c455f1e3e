// Kafka's own CLI tools (kafka-topics, kafka-configs, console producer/consumer,
// kafka-consumer-groups), run as their main classes from the cached jars. Not a test file.
import path from "node:path";
import { jvmArgs, kafkaClasspath, kafkaToolClass } from "../setup/kafka.ts";
import { ROOT, run } from "./helpers.ts";
import type { RunResult } from "./helpers.ts";

const LOG_CONFIG = path.join(ROOT, "test", "clients", "log4j2-warn.properties");
const ADMIN_CONFIG = path.join(ROOT, "test", "interop", "admin-timeouts.properties");
/** Tools built on the admin client, which take --command-config. */
const ADMIN_TOOLS = new Set(["topics", "configs", "consumer-groups"]);

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
      ...(ADMIN_TOOLS.has(tool) ? ["--command-config", ADMIN_CONFIG] : []),
      ...args,
    ],
    { input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 },
  );
}
