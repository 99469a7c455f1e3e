// Builds the `capstan` command line. Each subcommand lives with the part it starts
// (broker/, operator/); this module only wires them into one program.
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";

type Register = (program: Command) => void;

// Each subcommand's module is loaded only when it runs: `capstan broker` need not load the
// operator's Kubernetes client, cdk8s and express (about half a second and 90 MiB at start).
const SUBCOMMANDS: Record<string, () => Promise<Register>> = {
  broker: async () => (await import("../broker/cli.ts")).registerBrokerCommand,
  operator: async () => (await import("../operator/cli.ts")).registerOperatorCommand,
  lint: async () => (await import("../operator/lint.ts")).registerLintCommand,
  local: async () => (await import("../operator/local/cli.ts")).registerLocalCommand,
};

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
  description: string;
};

/**
 * The program with the subcommand named in argv (argv[2]) registered, or all of them when
 * argv names none (help, version, a typo: commander lists them all then).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("capstan")
    .description(pkg.description)
    .version(pkg.version, "-V, --version", "print the Capstan version")
    .showHelpAfterError()
    .exitOverride()
    // Options after a subcommand belong to it (capstan local status --data-dir ...).
    .enablePositionalOptions();
  const named = argv[2];
  const names = named !== undefined && Object.hasOwn(SUBCOMMANDS, named) ? [named] : Object.keys(SUBCOMMANDS);
  for (const register of await Promise.all(names.map((n) => SUBCOMMANDS[n]()))) register(program);
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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
