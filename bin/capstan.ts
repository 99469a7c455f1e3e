#!/usr/bin/env node
// The `capstan` command: one CLI whose subcommands start the broker, the operator and local mode.
import { main } from "../cli/main.ts";

process.exitCode = await main(process.argv);
