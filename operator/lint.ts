// `capstan lint DIR`: checks KafkaTopic manifests against their KafkaCluster's topic
// policy without a cluster, for GitOps pull requests. One line per problem with file and
// line; exit status 1 when anything would be refused (Enforce), 0 otherwise.
import type { Command } from "commander";
import { CLUSTER_LABEL, type KafkaCluster } from "./api/types.ts";
import { loadManifests, type Located } from "./manifests/load.ts";
import { checkTopic } from "../policy/topic-policy.ts";
import { TOPIC_CONFIGS } from "../broker/metadata/topic-config.ts";
import { clusterProperties } from "./cluster/broker-properties.ts";
import { podAddressing } from "./cluster/desired.ts";

export interface LintFinding {
  file: string;
  line: number;
  severity: "error" | "warning" | "info";
  message: string;
}

/** The effective default of a topic config in a cluster: its broker synonym from spec.config, else Kafka's default. */
export function clusterTopicDefaults(kc: KafkaCluster): (name: string) => string | undefined {
  const props = clusterProperties(kc.spec, podAddressing(kc));
  return (name) => {
    const def = TOPIC_CONFIGS[name];
    if (!def) return undefined;
    return (def.synonym ? props.get(def.synonym) : undefined) ?? def.default ?? brokerDefault(def.synonym);
  };
}

/** Kafka's broker defaults for the synonyms lint needs when the cluster config does not set them. */
function brokerDefault(synonym: string | undefined): string | undefined {
  const defaults: Record<string, string> = {
    "min.insync.replicas": "1",
    "log.cleanup.policy": "delete",
    "message.max.bytes": "1048588",
    "log.retention.bytes": "-1",
    "log.retention.ms": "604800000",
    "log.segment.bytes": "1073741824",
    "compression.type": "producer",
  };
  return synonym ? defaults[synonym] : undefined;
}

export function lint(dir: string): LintFinding[] {
  const m = loadManifests(dir);
  const findings: LintFinding[] = m.problems.map((p) => ({ ...p, severity: "error" as const }));
  const clusters = new Map<string, Located<KafkaCluster>>();
  for (const c of m.clusters)
    clusters.set(`${c.resource.metadata.namespace ?? ""}/${c.resource.metadata.name}`, c);
  const seen = new Map<string, Located<unknown>>();
  for (const t of m.topics) {
    const meta = t.resource.metadata;
    const clusterName = meta.labels?.[CLUSTER_LABEL];
    const topicName = t.resource.spec.topicName ?? meta.name!;
    const at = (path: Array<string | number>) => t.lineOf(path);
    if (!clusterName) {
      findings.push({
        file: t.file,
        line: at(["metadata"]),
        severity: "error",
        message: `KafkaTopic ${meta.name}: needs the label ${CLUSTER_LABEL}: <KafkaCluster name>`,
      });
      continue;
    }
    const cluster =
      clusters.get(`${meta.namespace ?? ""}/${clusterName}`) ??
      [...clusters.values()].find((c) => c.resource.metadata.name === clusterName);
    if (!cluster) {
      findings.push({
        file: t.file,
        line: at(["metadata", "labels"]),
        severity: "error",
        message: `KafkaTopic ${meta.name}: KafkaCluster ${clusterName} is not among the manifests; lint needs it to know the policy`,
      });
      continue;
    }
    const key = `${clusterName}/${topicName}`;
    const first = seen.get(key);
    if (first) {
      findings.push({
        file: t.file,
        line: t.line,
        severity: "error",
        message: `KafkaTopic ${meta.name}: topic "${topicName}" is already declared in ${first.file}:${first.line} (one KafkaTopic per topic)`,
      });
      continue;
    }
    seen.set(key, t);
    const policy = cluster.resource.spec.topicPolicy;
    const violations = checkTopic(
      policy,
      {
        name: topicName,
        partitions: t.resource.spec.partitions,
        replicationFactor: t.resource.spec.replicationFactor,
        configs: new Map(Object.entries(t.resource.spec.config ?? {})),
      },
      { brokerCount: cluster.resource.spec.replicas, defaultConfig: clusterTopicDefaults(cluster.resource) },
    );
    const mode = policy?.mode ?? "Enforce";
    const severity = mode === "Enforce" ? "error" : mode === "Warn" ? "warning" : "info";
    for (const v of violations) {
      const path =
        v.rule === "replication-factor"
          ? ["spec", "replicationFactor"]
          : v.rule === "max-partitions"
            ? ["spec", "partitions"]
            : v.rule === "required-config" || v.rule === "cleanup-policy"
              ? ["spec", "config"]
              : t.resource.spec.topicName
                ? ["spec", "topicName"]
                : ["metadata", "name"];
      findings.push({
        file: t.file,
        line: at(path),
        // Kafka's own name rules are refused by any cluster, whatever the policy mode.
        severity: v.rule === "topic-name" ? "error" : severity,
        message: `KafkaTopic ${meta.name} (topic "${topicName}", cluster ${clusterName}): [${v.rule}] ${v.message}`,
      });
    }
  }
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

export function registerLintCommand(program: Command): void {
  program
    .command("lint")
    .description("check KafkaTopic manifests against their KafkaCluster's topic policy, without a cluster")
    .argument("<dir>", "a directory (or file) of YAML manifests, several documents per file")
    .action((dir: string) => {
      const findings = lint(dir);
      for (const f of findings) console.log(`${f.file}:${f.line}: ${f.severity}: ${f.message}`);
      const errors = findings.filter((f) => f.severity === "error").length;
      console.log(
        `${errors} error${errors === 1 ? "" : "s"}, ${findings.length - errors} other finding${findings.length - errors === 1 ? "" : "s"}`,
      );
      if (errors > 0) process.exitCode = 1;
    });
}
