// CPU profile of Capstan's produce and fetch paths: starts `node --cpu-prof bin/capstan.ts
// broker` (bench/lib/cluster.ts), drives it with the same clients as the benchmark, stops it
// with SIGTERM so node writes the .cpuprofile, and prints where the broker's CPU time went:
// self time by function and by source file. Two broker runs on the same data directory, so
// the profiles separate the paths: (1) produce (ProducerPerformance + kcat, acks=1, 1 KiB),
// (2) fetch (ConsumerPerformance + kcat reading it all back from the page cache).
//
//   node bench/profile.ts [--records 200000] [--keep DIR]
//
// Open a .cpuprofile in Chrome DevTools (Performance panel) or speedscope for flame graphs.
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "./lib/cluster.ts";
import { parseConsumerPerformance, parseProducerPerformance } from "./lib/parse.ts";
import {
  createTopic,
  kafkaTool,
  kcatConsume,
  kcatProduce,
  kcatProducerSettings,
  writeRecordsFile,
} from "./lib/tools.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: { name: string; ms: number }[];
  files: { file: string; ms: number }[];
}

const where = (url: string) => {
  if (!url) return "(native)";
  const p = url.startsWith("file://") ? fileURLToPath(url) : url;
  return p.startsWith(ROOT) ? path.relative(ROOT, p) : p.replace(/.*node_modules\//, "node_modules/");
};

/** Self time by function and by file, from a V8 .cpuprofile. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    total += us;
    if (f.functionName === "(idle)") {
      idle += us;
      continue;
    }
    const file = where(f.url);
    const name = `${f.functionName || "(anonymous)"} ${f.url ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
    files.set(f.url ? file : f.functionName, (files.get(f.url ? file : f.functionName) ?? 0) + us);
  }
  const top = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ k, ms: us / 1000 }));
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    functions: top(functions).map(({ k, ms }) => ({ name: k, ms })),
    files: top(files).map(({ k, ms }) => ({ file: k, ms })),
  };
}

function print(title: string, s: ProfileSummary): void {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  console.log(
    `\n=== ${title}: ${(s.totalMs / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy (not idle)`,
  );
  console.log("self time by function (share of busy time):");
  for (const f of s.functions.slice(0, 25))
    console.log(`  ${pct(f.ms)}  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`);
  console.log("self time by file:");
  for (const f of s.files.slice(0, 15))
    console.log(`  ${pct(f.ms)}  ${f.ms.toFixed(0).padStart(6)} ms  ${f.file}`);
}

async function profiled<T>(
  dir: string,
  profDir: string,
  work: (bootstrap: string) => Promise<T>,
): Promise<[T, ProfileSummary]> {
  await mkdir(profDir, { recursive: true });
  const cluster = await startCluster("capstan", {
    dir,
    nodeFlags: ["--cpu-prof", "--cpu-prof-dir", profDir],
  });
  let result: T;
  try {
    result = await work(cluster.bootstrap);
  } finally {
    await cluster.stop();
  }
  const files = (await readdir(profDir)).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${profDir}, found ${files.length}`);
  const profile = JSON.parse(await readFile(path.join(profDir, files[0]), "utf8")) as CpuProfile;
  return [result, summarizeProfile(profile)];
}

async function main(argv: string[]): Promise<void> {
  let records = 200_000;
  let keep: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--records") records = Number(argv[++i]);
    else if (argv[i] === "--keep") keep = argv[++i];
    else throw new Error(`usage: node bench/profile.ts [--records N] [--keep DIR]`);
  }
  const size = 1024;
  const tmp = keep ?? (await mkdtemp(path.join(os.tmpdir(), "capstan-profile-")));
  await mkdir(tmp, { recursive: true });
  const data = path.join(tmp, "broker");
  const input = path.join(tmp, "records.txt");
  await writeRecordsFile(input, records, size);
  try {
    const [p, produceProfile] = await profiled(data, path.join(tmp, "produce"), async (b) => {
      await createTopic(b, "pp");
      const pp = parseProducerPerformance(
        await kafkaTool("ProducerPerformance", [
          ...["--topic", "pp", "--num-records", String(records), "--record-size", String(size)],
          ...["--throughput", "-1", "--bootstrap-server", b, "--command-property", "acks=1"],
        ]),
      );
      await createTopic(b, "kcat");
      const seconds = await kcatProduce(b, "kcat", input, kcatProducerSettings("1"));
      return `ProducerPerformance ${pp.mbPerSec} MiB/s, kcat ${((records * size) / 2 ** 20 / seconds).toFixed(1)} MiB/s`;
    });
    print(`produce path (${p})`, produceProfile);
    const [c, fetchProfile] = await profiled(data, path.join(tmp, "fetch"), async (b) => {
      const cp = parseConsumerPerformance(
        await kafkaTool("ConsumerPerformance", [
          ...["--bootstrap-server", b, "--topic", "pp", "--group", "profile"],
          ...["--num-records", String(records), "--timeout", "60000"],
        ]),
      );
      const s1 = await kcatConsume(b, "kcat", records);
      const s2 = await kcatConsume(b, "pp", records);
      const mib = (records * size) / 2 ** 20;
      return `ConsumerPerformance ${cp.fetchMbPerSec} MiB/s, kcat ${(mib / s1).toFixed(1)} and ${(mib / s2).toFixed(1)} MiB/s`;
    });
    print(`fetch path (${c})`, fetchProfile);
    console.log(
      `\nprofiles: ${keep ? path.join(tmp, "{produce,fetch}") : "(removed; pass --keep DIR to keep them)"}`,
    );
  } finally {
    if (!keep) await rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
