// The Java SimpleProducer and SimpleConsumer of the seed notes
// (../shared/seed/kafka-broker-notes.ko.md), extracted from the markdown at test time and
// compiled as written (package com.example.kafka, lombok's @Slf4j) against the cached
// kafka-clients jar. The only change: BOOTSTRAP_SERVERS reads the system property
// bootstrap.servers instead of the hard-coded "localhost:9092". Not a test file.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { cacheDir, DEFAULT_KAFKA_VERSION, isKafkaInstalled, kafkaClasspath } from "../setup/kafka.ts";
import { HERE, ROOT, explain, run } from "./helpers.ts";

export const SEED_NOTES = path.resolve(ROOT, "..", "shared", "seed", "kafka-broker-notes.ko.md");
export const SEED_PACKAGE = "com.example.kafka";
const SEED_LOG_CONFIG = path.join(HERE, "seed", "log4j2.properties");

/** $CAPSTAN_CACHE/lombok/lombok-*.jar, installed by test/setup/install.sh. */
export function lombokJar(): string | undefined {
  const dir = path.join(cacheDir(), "lombok");
  if (!existsSync(dir)) return undefined;
  const jar = readdirSync(dir)
    .filter((f) => /^lombok-.*\.jar$/.test(f))
    .sort()
    .pop();
  return jar ? path.join(dir, jar) : undefined;
}

/** Why the seed programs cannot run here, or false. */
export function seedUnavailable(): string | false {
  if (!existsSync(SEED_NOTES)) return `the seed notes are not at ${SEED_NOTES}`;
  if (!isKafkaInstalled()) return "Kafka jars are not cached: run bash test/setup/install.sh";
  if (!lombokJar()) return "lombok is not cached: run bash test/setup/install.sh";
  return false;
}

/** The Java source of `public class NAME` from the notes, with the bootstrap address made a property. */
export function seedSource(name: "SimpleProducer" | "SimpleConsumer"): string {
  const md = readFileSync(SEED_NOTES, "utf8");
  const blocks = [...md.matchAll(/```java\r?\n([\s\S]*?)```/g)].map((m) => m[1]);
  const matching = blocks.filter(
    (b) => b.includes(`public class ${name} `) || b.includes(`public class ${name}{`),
  );
  if (matching.length !== 1)
    throw new Error(`expected one java block with class ${name} in ${SEED_NOTES}, found ${matching.length}`);
  const original = matching[0];
  const line = /(BOOTSTRAP_SERVERS\s*=\s*)"localhost:9092";/;
  if (!line.test(original))
    throw new Error(`${name}: no BOOTSTRAP_SERVERS = "localhost:9092" line to point elsewhere`);
  return original.replace(line, '$1System.getProperty("bootstrap.servers", "localhost:9092");');
}

export interface CompiledSeed {
  classesDir: string;
  /** java arguments running `com.example.kafka.NAME` against bootstrap. */
  javaArgs(name: "SimpleProducer" | "SimpleConsumer", bootstrap: string): string[];
  cleanup(): Promise<void>;
}

/** Extracts both programs and compiles them with javac + lombok into a temp dir. */
export async function compileSeed(): Promise<CompiledSeed> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "capstan-seed-"));
  const srcDir = path.join(dir, "src", ...SEED_PACKAGE.split("."));
  const classesDir = path.join(dir, "classes");
  await mkdir(srcDir, { recursive: true });
  const files: string[] = [];
  for (const name of ["SimpleProducer", "SimpleConsumer"] as const) {
    const file = path.join(srcDir, `${name}.java`);
    await writeFile(file, seedSource(name));
    files.push(file);
  }
  const lombok = lombokJar()!;
  const cp = [lombok, kafkaClasspath(DEFAULT_KAFKA_VERSION)].join(path.delimiter);
  const r = await run(
    "javac",
    ["-nowarn", "-encoding", "UTF-8", "-cp", cp, "-processorpath", lombok, "-d", classesDir, ...files],
    { timeoutMs: 120_000 },
  );
  if (r.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`javac of the seed programs failed\n${explain(r)}`);
  }
  return {
    classesDir,
    javaArgs: (name, bootstrap) => [
      "-Xmx256m",
      "-Djava.net.preferIPv4Stack=true",
      `-Dlog4j2.configurationFile=${SEED_LOG_CONFIG}`,
      `-Dbootstrap.servers=${bootstrap}`,
      "-cp",
      [classesDir, kafkaClasspath(DEFAULT_KAFKA_VERSION)].join(path.delimiter),
      `${SEED_PACKAGE}.${name}`,
    ],
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
