#!/usr/bin/env node
// The `capstan` command: one CLI whose subcommands start the broker, the operator and local mode.
import { main } from "../cli/main.ts";

// kafkajs (the operator's admin client) arms timers with negative delays on Node 23+,
// which Node reports as TimeoutNegativeWarning; the timers behave as intended (fire at once).
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "TimeoutNegativeWarning") console.warn(`${w.name}: ${w.message}`);
});

process.exitCode = await main(process.argv);
