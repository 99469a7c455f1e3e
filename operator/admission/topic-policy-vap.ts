// The topic policy at admission: ValidatingAdmissionPolicies (CEL, paramKind KafkaCluster)
// and their bindings, so `kubectl apply` and Argo CD refuse a KafkaTopic that breaks its
// cluster's spec.topicPolicy, with the message the policy engine (policy/topic-policy.ts)
// gives (test/k8s/admission.test.ts compares them). RULES below has the engine's rules in
// CEL, keyed by the engine's rule names, so a new engine rule does not type-check until
// admission has it too; they are joined into one validation because the API server
// reports only a policy's first failing validation. Topic-config defaults come from the
// table the engine's callers use (operator/lint.ts clusterTopicDefaults).
//
// A binding cannot pick its param by a field of the object, so each binding evaluates every
// KafkaCluster in the topic's namespace (paramRef.selector {}) and each validation passes
// for a cluster the topic's kafka.capstan.dev/cluster label does not name. The policy's
// mode is a field of the param, and a binding's action (Deny, Warn, Audit) is fixed, so
// there is one policy and binding per mode, each applying only to clusters in that mode.
//
// Limits (the operator and the brokers still check everything): only templates whose
// segments are separated by one repeated character ("{env}.{team}.{app}.{type}") are
// checked here, other templates are left to the operator; patterns are RE2 (CEL) here and
// ECMAScript in the engine; a replication factor left unset is checked as the policy's
// default, even for a topic that was adopted with another; a KafkaTopic whose spec did not
// change (finalizer and label edits, deletion) is never refused.
import type { PolicyRule } from "../../policy/topic-policy.ts";
import { CLUSTER_LABEL, GROUP, VERSION } from "../api/types.ts";
import type { KafkaCluster } from "../api/types.ts";
import { TOPIC_CONFIGS } from "../../broker/metadata/topic-config.ts";
import { clusterTopicDefaults } from "../lint.ts";

export type TopicPolicyMode = "Enforce" | "Warn" | "Audit";
export const TOPIC_POLICY_MODES: readonly TopicPolicyMode[] = ["Enforce", "Warn", "Audit"];

export interface TopicPolicyAdmissionOptions {
  /** Prefix of the policies' and bindings' names; "capstan-topic-policy" by default. */
  name?: string;
  labels?: Record<string, string>;
}

type Manifest = Record<string, unknown>;

/** The ValidatingAdmissionPolicy and binding of each mode: [policy, binding] × Enforce, Warn, Audit. */
export function topicPolicyAdmission(opts: TopicPolicyAdmissionOptions = {}): Manifest[] {
  const prefix = opts.name ?? "capstan-topic-policy";
  const labels = {
    "app.kubernetes.io/name": "capstan",
    "app.kubernetes.io/component": "topic-policy",
    ...opts.labels,
  };
  return TOPIC_POLICY_MODES.flatMap((mode) => {
    const name = `${prefix}-${mode.toLowerCase()}`;
    return [
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name, labels },
        spec: {
          // Enforce refuses when a rule cannot be evaluated (e.g. a pattern RE2 rejects);
          // Warn and Audit never stand in the way.
          failurePolicy: mode === "Enforce" ? "Fail" : "Ignore",
          paramKind: { apiVersion: `${GROUP}/${VERSION}`, kind: "KafkaCluster" },
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [GROUP],
                apiVersions: [VERSION],
                operations: ["CREATE", "UPDATE"],
                resources: ["kafkatopics"],
              },
            ],
          },
          matchConditions: [
            {
              // The operator's finalizer edits and a deletion in progress must never be refused
              // because the policy changed since the topic was admitted.
              name: "spec-changes",
              expression:
                "request.operation == 'CREATE' || (!has(object.metadata.deletionTimestamp) && object.spec != oldObject.spec)",
            },
          ],
          variables: variables(mode),
          validations: [topicPolicyValidation()],
        },
      },
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name, labels },
        spec: {
          policyName: name,
          // Every KafkaCluster in the topic's namespace; none there: nothing to check.
          paramRef: { selector: {}, parameterNotFoundAction: "Allow" },
          validationActions: [mode === "Enforce" ? "Deny" : mode],
        },
      },
    ];
  });
}

/**
 * All rules as one validation, so the message lists every rule the topic breaks, joined
 * as the engine's describeViolations joins them (the API server reports only the first
 * failing validation of a policy).
 */
function topicPolicyValidation(): { expression: string; messageExpression: string; reason: string } {
  const checks = RULE_ORDER.flatMap((rule) => RULES[rule]);
  return {
    expression: `!variables.applies || variables.internal || (${checks.map((c) => `(${c.ok})`).join(" && ")})`,
    messageExpression: `[${checks.map((c) => `(${c.ok}) ? '' : ${c.message}`).join(", ")}].filter(m, m != '').join('; ')`,
    reason: "Invalid",
  };
}

/** CEL string literal. */
function lit(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

const TP = "params.spec.topicPolicy";
/** has() for a path under the topic policy, checking every level. */
function hasTP(path: string): string {
  const parts = path.split(".");
  const checks = [`has(${TP})`];
  for (let i = 1; i <= parts.length; i++) checks.push(`has(${TP}.${parts.slice(0, i).join(".")})`);
  return checks.join(" && ");
}

/** Internal topics the brokers create; the engine exempts them from the policy. */
const INTERNAL = ["__consumer_offsets", "__transaction_state", "__cluster_metadata"];

function variables(mode: TopicPolicyMode): Array<{ name: string; expression: string }> {
  const segs = `${TP}.naming.segments`;
  return [
    {
      name: "cluster",
      expression: `has(object.metadata.labels) && ${lit(CLUSTER_LABEL)} in object.metadata.labels ? object.metadata.labels[${lit(CLUSTER_LABEL)}] : ''`,
    },
    { name: "mode", expression: `${hasTP("mode")} ? ${TP}.mode : 'Enforce'` },
    {
      name: "applies",
      expression: `variables.cluster == params.metadata.name && variables.mode == ${lit(mode)}`,
    },
    { name: "name", expression: "has(object.spec.topicName) ? object.spec.topicName : object.metadata.name" },
    { name: "internal", expression: `variables.name in [${INTERNAL.map(lit).join(", ")}]` },
    { name: "brokers", expression: "params.spec.replicas" },
    {
      name: "rf",
      expression:
        `has(object.spec.replicationFactor) ? object.spec.replicationFactor : ` +
        `(${hasTP("replicationFactor.default")} ? (${TP}.replicationFactor.default < variables.brokers ? ${TP}.replicationFactor.default : variables.brokers) ` +
        `: (3 < variables.brokers ? 3 : variables.brokers))`,
    },
    {
      name: "badPrefixes",
      expression: `(${hasTP("reservedPrefixes")} ? ${TP}.reservedPrefixes : ['__']).filter(p, p != '' && variables.name.startsWith(p))`,
    },
    { name: "pattern", expression: `${hasTP("naming.pattern")} ? ${TP}.naming.pattern : ''` },
    {
      // The engine uses the template only when there is no pattern.
      name: "template",
      expression: `${hasTP("naming.template")} && !has(${TP}.naming.pattern) ? ${TP}.naming.template : ''`,
    },
    {
      name: "sep",
      expression:
        "variables.template.indexOf('}') >= 0 && variables.template.size() > variables.template.indexOf('}') + 1 " +
        "? variables.template.substring(variables.template.indexOf('}') + 1, variables.template.indexOf('}') + 2) : '.'",
    },
    {
      name: "segNames",
      expression:
        "variables.template.split(variables.sep).all(s, s.matches('^[{][A-Za-z][A-Za-z0-9_-]*[}]$')) " +
        "? variables.template.split(variables.sep).map(s, s.substring(1, s.size() - 1)) : []",
    },
    { name: "parts", expression: "variables.name.split(variables.sep)" },
    {
      name: "segmentsFit",
      expression: "variables.segNames.size() == 0 || variables.parts.size() == variables.segNames.size()",
    },
    {
      name: "badSegments",
      expression: `variables.segNames.size() > 0 && variables.segmentsFit ? variables.segNames.filter(s, !(${segmentOk("s", segs)})) : []`,
    },
    { name: "synonyms", expression: celMap(synonyms()) },
    { name: "defaults", expression: defaultsMap() },
    {
      name: "badConfigs",
      expression: `${hasTP("requiredConfigs")} ? ${TP}.requiredConfigs.filter(k, !(${configOk("k")})) : []`,
    },
    {
      name: "cleanupPolicy",
      expression: `${effective(lit("cleanup.policy"))} == '' ? 'delete' : ${effective(lit("cleanup.policy"))}`,
    },
    {
      name: "badCleanup",
      expression: `${hasTP("allowedCleanupPolicies")} && ${TP}.allowedCleanupPolicies.size() > 0 ? variables.cleanupPolicy.split(',').map(u, u.trim()).filter(u, !(u in ${TP}.allowedCleanupPolicies)) : []`,
    },
  ];
}

/** The value of template segment s in the topic name. */
const partOf = (s: string) => `variables.parts[variables.segNames.indexOf(${s})]`;

/** The engine's segmentProblem, negated: the segment's value is allowed. */
function segmentOk(s: string, segs: string): string {
  const v = partOf(s);
  const rule = `${segs}[${s}]`;
  return (
    `${v} != '' && (!(${hasTP("naming.segments")} && ${s} in ${segs}) || ` +
    `(has(${rule}.values) && ${rule}.values.size() > 0 ? ${v} in ${rule}.values : ` +
    `(has(${rule}.pattern) ? ${v}.matches('^(?:' + ${rule}.pattern + ')$') : true)))`
  );
}

/** The engine's describeSegment. */
function describeSegment(s: string, segs: string): string {
  const rule = `${segs}[${s}]`;
  const has = `${hasTP("naming.segments")} && ${s} in ${segs}`;
  return (
    `(${has} && has(${rule}.values) && ${rule}.values.size() > 0 ? ${s} + ' must be one of ' + ${rule}.values.join(', ') : ` +
    `(${has} && has(${rule}.pattern) ? ${s} + ' must match ' + ${rule}.pattern : ${s} + ' can be any non-empty text'))`
  );
}

/**
 * The engine's fixSegment: a value that passes, close to the one given: for values, the
 * one equal ignoring case or with the same first letter; for a pattern, the value in
 * lower case, else with every run of other characters than [a-z0-9-] made one '-' and
 * leading and trailing dashes dropped (findAll/join/find do what the engine's replace does).
 */
function fixSegment(s: string, segs: string): string {
  const v = partOf(s);
  const rule = `${segs}[${s}]`;
  const has = `${hasTP("naming.segments")} && ${s} in ${segs}`;
  const lower = `${v}.lowerAscii()`;
  const first = `(${lower}.size() > 0 ? ${lower}.substring(0, 1) : '')`;
  const passes = (c: string) =>
    `(${c} != '' && (!(${has} && has(${rule}.pattern)) || ${c}.matches('^(?:' + ${rule}.pattern + ')$')))`;
  const dashed = `${lower}.findAll('[a-z0-9-]+').join('-').find('[a-z0-9](.*[a-z0-9])?')`;
  const close = `${rule}.values.filter(x, x.lowerAscii() == ${lower} || x.startsWith(${first}))`;
  return (
    `(${segmentOk(s, segs)} ? ${v} : ` +
    `(${has} && has(${rule}.values) && ${rule}.values.size() > 0 ? (${close}.size() > 0 ? ${close}[0] : ${rule}.values[0]) : ` +
    `(${passes(lower)} ? ${lower} : (${passes(dashed)} ? ${dashed} : '<' + ${s} + '>'))))`
  );
}

/** A topic config's effective value: the topic's own, the cluster's broker synonym, Kafka's default, or ''. */
function effective(k: string): string {
  return (
    `(has(object.spec.config) && ${k} in object.spec.config ? object.spec.config[${k}] : ` +
    `(${k} in variables.synonyms && has(params.spec.config) && variables.synonyms[${k}] in params.spec.config ? params.spec.config[variables.synonyms[${k}]] : ` +
    `(${k} in variables.defaults ? variables.defaults[${k}] : '')))`
  );
}

const NUMBER = `'^-?[0-9]+([.][0-9]+)?$'`;

function configOk(k: string): string {
  const v = effective(k);
  const req = `${TP}.requiredConfigs[${k}]`;
  return (
    `${v} != '' && (!(has(${req}.values) && ${req}.values.size() > 0) || ${v} in ${req}.values) && ` +
    `(!has(${req}.min) || (${v}.matches(${NUMBER}) && double(${v}) >= ${req}.min)) && ` +
    `(!has(${req}.max) || (${v}.matches(${NUMBER}) && double(${v}) <= ${req}.max))`
  );
}

/** A number from the schema (a double) as the engine prints it: 2, not 2.0. */
const num = (x: string) => `(${x} == double(int(${x})) ? string(int(${x})) : string(${x}))`;

function configMessage(k: string): string {
  const v = effective(k);
  const req = `${TP}.requiredConfigs[${k}]`;
  const shown = `(${v} == '' ? 'not set' : ${v} + (has(object.spec.config) && ${k} in object.spec.config ? '' : ' (the broker default)'))`;
  const problem =
    `(${v} == '' ? 'the policy requires it' : ` +
    `(has(${req}.values) && ${req}.values.size() > 0 && !(${v} in ${req}.values) ? 'allowed: ' + ${req}.values.join(', ') : ` +
    `(has(${req}.min) && !(${v}.matches(${NUMBER}) && double(${v}) >= ${req}.min) ? 'the policy requires at least ' + ${num(`${req}.min`)} : ` +
    `'the policy allows at most ' + (has(${req}.max) ? ${num(`${req}.max`)} : ''))))`;
  const suggestion =
    `(has(${req}.values) && ${req}.values.size() > 0 ? ${req}.values[0] : ` +
    `(has(${req}.min) ? ${num(`${req}.min`)} : (has(${req}.max) ? ${num(`${req}.max`)} : '')))`;
  return `'config ' + ${k} + ' is ' + ${shown} + '; ' + ${problem} + '. Set ' + ${k} + ': "' + ${suggestion} + '" on the topic'`;
}

function synonyms(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, def] of Object.entries(TOPIC_CONFIGS)) if (def.synonym) out[k] = def.synonym;
  return out;
}

function celMap(m: Record<string, string>): string {
  return `{${Object.entries(m)
    .map(([k, v]) => `${lit(k)}: ${lit(v)}`)
    .join(", ")}}`;
}

/**
 * Kafka's and the operator's default of every topic config, as the engine's callers
 * compute it (clusterTopicDefaults); defaults that depend on the broker count (the
 * operator sets min.insync.replicas from it) become a CEL choice on params.spec.replicas.
 */
function defaultsMap(): string {
  const at = (replicas: number) =>
    clusterTopicDefaults({
      apiVersion: "kafka.capstan.dev/v1alpha1",
      kind: "KafkaCluster",
      metadata: { name: "c", namespace: "n" },
      spec: { replicas },
    } satisfies KafkaCluster);
  const entries: string[] = [];
  for (const k of Object.keys(TOPIC_CONFIGS).sort()) {
    const [d1, d2, d3] = [1, 2, 3].map((r) => at(r)(k));
    if (d3 === undefined) continue;
    const value =
      d1 === d3 && d2 === d3
        ? lit(d3)
        : `(params.spec.replicas == 1 ? ${lit(d1 ?? "")} : (params.spec.replicas == 2 ? ${lit(d2 ?? "")} : ${lit(d3)}))`;
    entries.push(`${lit(k)}: ${value}`);
  }
  return `{${entries.join(", ")}}`;
}

interface CelValidation {
  /** True when the topic follows the rule (variables.applies and internal are added around it). */
  ok: string;
  /** The engine's message for the rule, prefixed with [rule] as describeViolations does. */
  message: string;
}

const nameQ = `'"' + variables.name + '"'`;
const segs = `${TP}.naming.segments`;

/** The engine's rules in CEL, one or more validations each ("topic-name" is the CRD's schema). */
const RULES: Record<Exclude<PolicyRule, "topic-name">, CelValidation[]> = {
  "reserved-prefix": [
    {
      ok: "variables.badPrefixes.size() == 0",
      message:
        `'[reserved-prefix] topic name ' + ${nameQ} + ' starts with the reserved prefix "' + variables.badPrefixes[0] + ` +
        `'"; choose a name that does not, e.g. "' + (variables.name.size() > variables.badPrefixes[0].size() ? ` +
        `variables.name.substring(variables.badPrefixes[0].size()) : 'my-topic') + '"'`,
    },
  ],
  naming: [
    {
      ok: "variables.pattern == '' || variables.name.matches('^(?:' + variables.pattern + ')$')",
      message: `'[naming] topic name ' + ${nameQ} + ' does not match the naming pattern ' + variables.pattern`,
    },
    {
      ok: "variables.segmentsFit",
      message:
        `'[naming] topic name ' + ${nameQ} + ' does not follow the naming template ' + variables.template + ': it has ' + ` +
        `string(variables.parts.size()) + ' \\'' + variables.sep + '\\'-separated segment' + (variables.parts.size() == 1 ? '' : 's') + ` +
        `', the template has ' + string(variables.segNames.size()) + '. A name that passes looks like "' + ` +
        `variables.segNames.map(s, ${hasTP("naming.segments")} && s in ${segs} && has(${segs}[s].values) && ${segs}[s].values.size() > 0 ? ${segs}[s].values[0] : '<' + s + '>').join(variables.sep) + '"'`,
    },
    {
      ok: "variables.badSegments.size() == 0",
      message:
        `'[naming] topic name ' + ${nameQ} + ' does not follow the naming template ' + variables.template + ': ' + ` +
        `variables.badSegments.map(s, 'segment ' + s + ' is "' + ${partOf("s")} + '" (' + ${describeSegment("s", segs)} + ')').join('; ') + ` +
        `'. A name that passes: "' + variables.segNames.map(s, ${fixSegment("s", segs)}).join(variables.sep) + '"'`,
    },
  ],
  "replication-factor": [
    {
      ok: "variables.rf <= variables.brokers",
      message:
        `'[replication-factor] replication factor ' + string(variables.rf) + ' is above the ' + string(variables.brokers) + ` +
        `' broker' + (variables.brokers == 1 ? '' : 's') + ' of the cluster; use at most ' + ` +
        `string(${hasTP("replicationFactor.max")} && ${TP}.replicationFactor.max < variables.brokers ? ${TP}.replicationFactor.max : variables.brokers)`,
    },
    {
      ok: `variables.rf > variables.brokers || !(${hasTP("replicationFactor.min")}) || variables.rf >= ${TP}.replicationFactor.min`,
      message:
        `'[replication-factor] replication factor ' + string(variables.rf) + ' is below the policy minimum ' + ` +
        `string(${TP}.replicationFactor.min) + '; use ' + string(${TP}.replicationFactor.min < variables.brokers ? ${TP}.replicationFactor.min : variables.brokers) + ' or more'`,
    },
    {
      ok:
        `variables.rf > variables.brokers || (${hasTP("replicationFactor.min")} && variables.rf < ${TP}.replicationFactor.min) || ` +
        `!(${hasTP("replicationFactor.max")}) || variables.rf <= ${TP}.replicationFactor.max`,
      message:
        `'[replication-factor] replication factor ' + string(variables.rf) + ' is above the policy maximum ' + ` +
        `string(${TP}.replicationFactor.max) + '; use ' + string(${TP}.replicationFactor.max) + ' or less'`,
    },
  ],
  "max-partitions": [
    {
      ok: `!(${hasTP("maxPartitions")}) || object.spec.partitions <= ${TP}.maxPartitions`,
      message:
        `'[max-partitions] ' + string(object.spec.partitions) + ' partitions is above the policy maximum of ' + ` +
        `string(${TP}.maxPartitions) + '; use ' + string(${TP}.maxPartitions) + ' or fewer'`,
    },
  ],
  "required-config": [
    {
      ok: "variables.badConfigs.size() == 0",
      message: `variables.badConfigs.map(k, '[required-config] ' + ${configMessage("k")}).join('; ')`,
    },
  ],
  "cleanup-policy": [
    {
      ok: "variables.badCleanup.size() == 0",
      message:
        `'[cleanup-policy] cleanup.policy ' + variables.cleanupPolicy + ' is not allowed here; allowed: ' + ` +
        `${TP}.allowedCleanupPolicies.join(', ')`,
    },
  ],
};

/** The order of describeViolations' output in the engine. */
const RULE_ORDER: Array<keyof typeof RULES> = [
  "reserved-prefix",
  "naming",
  "replication-factor",
  "max-partitions",
  "required-config",
  "cleanup-policy",
];
