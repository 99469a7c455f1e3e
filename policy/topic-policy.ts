// The topic policy engine: one pure function that says whether a topic (its name,
// partitions, replication factor and configs) follows a KafkaCluster's topicPolicy, and
// if not, which rule it breaks, the offending value, and a name or value that would pass.
// The same engine answers the broker (CreateTopics -> POLICY_VIOLATION), the operator
// (status condition + Event), admission and `capstan lint`, so they can never disagree.
import type { TopicPolicySpec, TopicNameSegment } from "../operator/api/types.ts";

export type PolicyRule =
  | "topic-name"
  | "naming"
  | "reserved-prefix"
  | "replication-factor"
  | "max-partitions"
  | "required-config"
  | "cleanup-policy";

export interface Violation {
  rule: PolicyRule;
  /** One sentence: what is wrong, with the value, and what would pass. */
  message: string;
}

export interface TopicRequest {
  name: string;
  partitions: number;
  /** The replication factor asked for; undefined means "the policy's or cluster's default". */
  replicationFactor?: number;
  /** Topic configs set on the topic itself. */
  configs: ReadonlyMap<string, string>;
}

export interface PolicyContext {
  /** Brokers in the cluster: no replication factor may exceed it. */
  brokerCount: number;
  /** The effective value of a topic config the topic does not set (broker or Kafka default). */
  defaultConfig?: (name: string) => string | undefined;
}

export const DEFAULT_RESERVED_PREFIXES = ["__"];

/** Internal topics the brokers themselves create; the policy never applies to them. */
const INTERNAL_TOPICS = new Set(["__consumer_offsets", "__transaction_state", "__cluster_metadata"]);

/** Kafka's own rule for legal names, with the same wording the broker uses. */
export function kafkaNameProblem(name: string): string | undefined {
  if (name.length === 0) return "a topic name cannot be empty";
  if (name === "." || name === "..") return 'a topic name cannot be "." or ".."';
  if (name.length > 249)
    return `a topic name is at most 249 characters; "${name.slice(0, 40)}..." has ${name.length}`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    return `topic name "${name}" has characters Kafka does not allow: only ASCII letters, digits, '.', '_' and '-'`;
  }
  return undefined;
}

interface ParsedTemplate {
  /** Segment names in order. */
  segments: string[];
  /** Literal text before, between and after the segments (segments.length + 1 entries). */
  literals: string[];
}

/** Parses "{env}.{team}.{app}.{type}" into segments and the literal text around them. */
export function parseTemplate(template: string): ParsedTemplate {
  const segments: string[] = [];
  const literals: string[] = [];
  let rest = template;
  for (;;) {
    const m = /\{([A-Za-z][A-Za-z0-9_-]*)\}/.exec(rest);
    if (!m) {
      literals.push(rest);
      break;
    }
    literals.push(rest.slice(0, m.index));
    segments.push(m[1]);
    rest = rest.slice(m.index + m[0].length);
  }
  return { segments, literals };
}

/** A segment rule as words, for messages. */
function describeSegment(name: string, rule: TopicNameSegment | undefined): string {
  if (rule?.values?.length) return `${name} must be one of ${rule.values.join(", ")}`;
  if (rule?.pattern) return `${name} must match ${rule.pattern}`;
  return `${name} can be any non-empty text`;
}

function segmentProblem(value: string, rule: TopicNameSegment | undefined): boolean {
  if (value === "") return true;
  if (rule?.values?.length) return !rule.values.includes(value);
  if (rule?.pattern) return !fullMatch(rule.pattern, value);
  return false;
}

function fullMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return false;
  }
}

/** A value for a segment that passes, close to the one given when possible. */
function fixSegment(value: string, rule: TopicNameSegment | undefined, name: string): string {
  if (!segmentProblem(value, rule)) return value;
  if (rule?.values?.length) {
    const lower = value.toLowerCase();
    return (
      rule.values.find((v) => v.toLowerCase() === lower || v.startsWith(lower.slice(0, 1))) ?? rule.values[0]
    );
  }
  const candidates = [
    value.toLowerCase(),
    value
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, ""),
  ];
  for (const c of candidates) if (c !== "" && !segmentProblem(c, rule)) return c;
  return `<${name}>`;
}

/** Splits a name along the template, or says why it cannot. */
function splitByTemplate(name: string, t: ParsedTemplate): string[] | string {
  // The common case: segments separated by one character ("." in every convention seen).
  const seps = t.literals.slice(1, -1);
  const sep = seps[0];
  if (
    t.literals[0] === "" &&
    t.literals[t.literals.length - 1] === "" &&
    sep?.length === 1 &&
    seps.every((s) => s === sep)
  ) {
    const parts = name.split(sep);
    if (parts.length !== t.segments.length) {
      return `it has ${parts.length} '${sep}'-separated segment${parts.length === 1 ? "" : "s"}, the template has ${t.segments.length}`;
    }
    return parts;
  }
  const re = new RegExp(
    "^" + t.literals.map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("(.+?)") + "$",
  );
  const m = re.exec(name);
  return m ? m.slice(1) : "it does not have the template's shape";
}

function checkNaming(policy: TopicPolicySpec, name: string): Violation | undefined {
  const naming = policy.naming;
  if (!naming) return undefined;
  if (naming.pattern !== undefined) {
    if (fullMatch(naming.pattern, name)) return undefined;
    return {
      rule: "naming",
      message: `topic name "${name}" does not match the naming pattern ${naming.pattern}`,
    };
  }
  if (!naming.template) return undefined;
  const t = parseTemplate(naming.template);
  const rules = naming.segments ?? {};
  const parts = splitByTemplate(name, t);
  const example = (values: string[]) =>
    t.literals.map((l, i) => l + (i < values.length ? values[i] : "")).join("");
  if (typeof parts === "string") {
    const sample = t.segments.map((s) => {
      const r = rules[s];
      return r?.values?.[0] ?? `<${s}>`;
    });
    return {
      rule: "naming",
      message: `topic name "${name}" does not follow the naming template ${naming.template}: ${parts}. A name that passes looks like "${example(sample)}"`,
    };
  }
  const bad = t.segments.filter((s, i) => segmentProblem(parts[i], rules[s]));
  if (bad.length === 0) return undefined;
  const details = bad.map((s) => {
    const i = t.segments.indexOf(s);
    return `segment ${s} is "${parts[i]}" (${describeSegment(s, rules[s])})`;
  });
  const fixed = t.segments.map((s, i) => fixSegment(parts[i], rules[s], s));
  return {
    rule: "naming",
    message: `topic name "${name}" does not follow the naming template ${naming.template}: ${details.join("; ")}. A name that passes: "${example(fixed)}"`,
  };
}

/** The replication factor a topic ends up with when it does not ask for one. */
export function defaultReplicationFactor(policy: TopicPolicySpec | undefined, ctx: PolicyContext): number {
  return Math.min(policy?.replicationFactor?.default ?? Math.min(3, ctx.brokerCount), ctx.brokerCount);
}

/** Every rule the topic breaks (empty when it follows the policy). */
export function checkTopic(
  policy: TopicPolicySpec | undefined,
  topic: TopicRequest,
  ctx: PolicyContext,
): Violation[] {
  const out: Violation[] = [];
  const legal = kafkaNameProblem(topic.name);
  if (legal) out.push({ rule: "topic-name", message: legal });
  if (INTERNAL_TOPICS.has(topic.name)) return out;
  const p = policy ?? {};

  for (const prefix of p.reservedPrefixes ?? DEFAULT_RESERVED_PREFIXES) {
    if (prefix !== "" && topic.name.startsWith(prefix)) {
      out.push({
        rule: "reserved-prefix",
        message: `topic name "${topic.name}" starts with the reserved prefix "${prefix}"; choose a name that does not, e.g. "${topic.name.slice(prefix.length) || "my-topic"}"`,
      });
    }
  }
  if (!legal) {
    const naming = checkNaming(p, topic.name);
    if (naming) out.push(naming);
  }

  const rf = topic.replicationFactor ?? defaultReplicationFactor(p, ctx);
  const bounds = p.replicationFactor ?? {};
  if (rf > ctx.brokerCount) {
    out.push({
      rule: "replication-factor",
      message: `replication factor ${rf} is above the ${ctx.brokerCount} broker${ctx.brokerCount === 1 ? "" : "s"} of the cluster; use at most ${Math.min(ctx.brokerCount, bounds.max ?? ctx.brokerCount)}`,
    });
  } else if (bounds.min !== undefined && rf < bounds.min) {
    out.push({
      rule: "replication-factor",
      message: `replication factor ${rf} is below the policy minimum ${bounds.min}; use ${Math.min(bounds.min, ctx.brokerCount)} or more`,
    });
  } else if (bounds.max !== undefined && rf > bounds.max) {
    out.push({
      rule: "replication-factor",
      message: `replication factor ${rf} is above the policy maximum ${bounds.max}; use ${bounds.max} or less`,
    });
  }

  if (p.maxPartitions !== undefined && topic.partitions > p.maxPartitions) {
    out.push({
      rule: "max-partitions",
      message: `${topic.partitions} partitions is above the policy maximum of ${p.maxPartitions}; use ${p.maxPartitions} or fewer`,
    });
  }

  const effective = (name: string): string | undefined =>
    topic.configs.get(name) ?? ctx.defaultConfig?.(name);
  for (const [name, req] of Object.entries(p.requiredConfigs ?? {})) {
    const value = effective(name);
    const shown =
      value === undefined ? "not set" : `${value}${topic.configs.has(name) ? "" : " (the broker default)"}`;
    const n = Number(value);
    let problem: string | undefined;
    if (value === undefined) problem = "the policy requires it";
    else if (req.values?.length && !req.values.includes(value)) problem = `allowed: ${req.values.join(", ")}`;
    else if (req.min !== undefined && !(n >= req.min)) problem = `the policy requires at least ${req.min}`;
    else if (req.max !== undefined && !(n <= req.max)) problem = `the policy allows at most ${req.max}`;
    if (problem) {
      const suggestion = req.values?.[0] ?? String(req.min ?? req.max ?? "");
      out.push({
        rule: "required-config",
        message: `config ${name} is ${shown}; ${problem}. Set ${name}: "${suggestion}" on the topic`,
      });
    }
  }

  if (p.allowedCleanupPolicies?.length) {
    const value = effective("cleanup.policy") ?? "delete";
    const used = value.split(",").map((s) => s.trim());
    const bad = used.filter((u) => !p.allowedCleanupPolicies!.includes(u as "delete" | "compact"));
    if (bad.length > 0) {
      out.push({
        rule: "cleanup-policy",
        message: `cleanup.policy ${value} is not allowed here; allowed: ${p.allowedCleanupPolicies.join(", ")}`,
      });
    }
  }
  return out;
}

/** One message for all of a topic's violations (what a client or a condition shows). */
export function describeViolations(violations: Violation[]): string {
  return violations.map((v) => `[${v.rule}] ${v.message}`).join("; ");
}
