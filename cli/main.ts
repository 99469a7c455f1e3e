// Builds the `capstan` command line. Each subcommand lives with the part it starts
// (broker/, operator/); this module only wires them into one program.
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerBrokerCommand } from "../broker/cli.ts";
import { registerOperatorCommand } from "../operator/cli.ts";
import { registerLintCommand } from "../operator/lint.ts";
import { registerLocalCommand } from "../operator/local/cli.ts";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
  description: string;
};

export function buildProgram(): Command {
  const program = new Command("capstan")
    .description(pkg.description)
    .version(pkg.version, "-V, --version", "print the Capstan version")
    .showHelpAfterError()
    .exitOverride()
    // Options after a subcommand belong to it (capstan local status --data-dir ...).
    .enablePositionalOptions();
  registerBrokerCommand(program);
  registerOperatorCommand(program);
  registerLintCommand(program);
  registerLocalCommand(program);
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // Subcommands report failure through process.exitCode (e.g. lint findings).
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    console.error(`capstan: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
