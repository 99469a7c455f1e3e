// The topic policy at admission (operator/admission/topic-policy-vap.ts) on a real API
// server: the generated ValidatingAdmissionPolicies type-check, `kubectl apply` of a
// violating KafkaTopic is refused in Enforce mode with exactly the policy engine's message,
// admitted with that message as a warning in Warn mode, and admitted quietly in Audit mode.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { KafkaCluster, KafkaTopic, TopicPolicySpec } from "../../operator/api/types.ts";
import { topicPolicyAdmission } from "../../operator/admission/topic-policy-vap.ts";
import { clusterTopicDefaults } from "../../operator/lint.ts";
import { checkTopic, describeViolations } from "../../policy/topic-policy.ts";
import { k8sUnavailable, startControlPlane, waitFor } from "./harness.ts";
import type { ControlPlane } from "./harness.ts";
import { apply, getJson, installOperator, kafkaCluster, kubectlOk } from "./operator-fixtures.ts";
import { ENV_TEAM_APP_TYPE } from "../../policy/testing.ts";

const unavailable = k8sUnavailable();
if (unavailable && process.env.CI) throw new Error(unavailable);

/** The example policy. */
const POLICY: TopicPolicySpec = {
  naming: ENV_TEAM_APP_TYPE,
  reservedPrefixes: ["__"],
  replicationFactor: { min: 2, default: 3, max: 3 },
  maxPartitions: 64,
  requiredConfigs: { "min.insync.replicas": { min: 2 } },
  allowedCleanupPolicies: ["delete"],
};

type Spec = KafkaTopic["spec"];

function topic(ns: string, name: string, spec: Spec, cluster = "demo"): KafkaTopic {
  return {
    apiVersion: "kafka.capstan.dev/v1alpha1",
    kind: "KafkaTopic",
    metadata: { name, namespace: ns, labels: { "kafka.capstan.dev/cluster": cluster } },
    spec,
  };
}

/** What the policy engine says of a topic in a cluster: "" when it passes. */
function engine(kc: KafkaCluster, spec: Spec, name: string): string {
  const violations = checkTopic(
    kc.spec.topicPolicy,
    {
      name: spec.topicName ?? name,
      partitions: spec.partitions,
      replicationFactor: spec.replicationFactor,
      configs: new Map(Object.entries(spec.config ?? {})),
    },
    { brokerCount: kc.spec.replicas, defaultConfig: clusterTopicDefaults(kc) },
  );
  return describeViolations(violations);
}

describe(
  "admission: the topic policy as ValidatingAdmissionPolicies",
  { skip: unavailable ?? false, timeout: 300_000 },
  () => {
    let cp: ControlPlane;

    before(async () => {
      cp = await startControlPlane();
      await installOperator(cp);
      await kubectlOk(
        cp,
        ["apply", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: topicPolicyAdmission() }),
      );
    });
    after(async () => {
      await cp?.stop();
    });

    /** kubectl apply (server-side dry run unless real), as a user would. */
    const kubectlApply = (obj: unknown, real = false) =>
      cp.kubectl(["apply", ...(real ? [] : ["--dry-run=server"]), "-f", "-"], { input: JSON.stringify(obj) });

    const DENIED = /denied request: (.*)$/m;

    /** A namespace with a KafkaCluster "demo"; resolves once its policy answers at admission. */
    async function clusterIn(ns: string, spec: Partial<KafkaCluster["spec"]>): Promise<KafkaCluster> {
      await kubectlOk(cp, ["create", "namespace", ns]);
      const kc = kafkaCluster(ns, "demo", spec);
      await apply(cp, kc);
      // Policies, bindings and params reach the admission plugin through informers.
      const probe = topic(ns, "probe", { topicName: "__probe", partitions: 1 });
      await waitFor(
        `the policy to apply in ${ns}`,
        async () => {
          const r = await kubectlApply(probe);
          const mode = spec.topicPolicy?.mode ?? "Enforce";
          if (mode === "Enforce") return r.code !== 0 && DENIED.test(r.stderr);
          if (mode === "Warn") return r.code === 0 && /reserved-prefix/.test(r.stderr);
          return r.code === 0;
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      return kc;
    }

    test("the generated policies type-check against the KafkaCluster and KafkaTopic schemas", async () => {
      for (const mode of ["enforce", "warn", "audit"]) {
        const vap = await waitFor(`capstan-topic-policy-${mode} type-checked`, async () => {
          const v = await getJson(cp, ["validatingadmissionpolicy", `capstan-topic-policy-${mode}`]);
          return v?.status?.typeChecking ? v : undefined;
        });
        assert.deepEqual(
          vap.status.typeChecking.expressionWarnings ?? [],
          [],
          JSON.stringify(vap.status, null, 2),
        );
      }
    });

    test("Enforce: kubectl apply is refused with the policy engine's message; a compliant topic is admitted", async () => {
      const kc = await clusterIn("enforce", { replicas: 3, topicPolicy: POLICY });
      const cases: Array<[string, Spec]> = [
        ["ok", { topicName: "prd.payments.ledger.json", partitions: 3 }],
        ["many", { topicName: "qa.payments.ledger.json", partitions: 100, replicationFactor: 1 }],
        ["short", { topicName: "prd.payments", partitions: 3 }],
        ["upper", { topicName: "prd.Payments.ledger.xml", partitions: 3 }],
        ["chars", { topicName: "stg.pay_ments.Led__ger.json", partitions: 3 }],
        ["reserved", { topicName: "__prd.payments.ledger.json", partitions: 3 }],
        ["rf4", { topicName: "prd.payments.ledger.json", partitions: 3, replicationFactor: 4 }],
        [
          "isr",
          { topicName: "dev.payments.ledger.avro", partitions: 3, config: { "min.insync.replicas": "1" } },
        ],
        ["metadata-name", { partitions: 65 }],
        [
          "compacted",
          {
            topicName: "prd.payments.ledger.json",
            partitions: 3,
            config: { "cleanup.policy": "compact,delete" },
          },
        ],
      ];
      for (const [name, spec] of cases) {
        const expected = engine(kc, spec, name);
        const r = await kubectlApply(topic("enforce", name, spec));
        if (expected === "") {
          assert.equal(r.code, 0, `${name} should be admitted:\n${r.stderr}`);
          continue;
        }
        assert.notEqual(r.code, 0, `${name} should be refused (${expected})`);
        assert.equal(DENIED.exec(r.stderr)?.[1], expected, `${name}: the admission message is the engine's`);
      }
      // The message names the rule, the offending value and a value that passes.
      const r = await kubectlApply(topic("enforce", "rf4", cases[6][1]), true);
      assert.match(
        r.stderr,
        /\[replication-factor\] replication factor 4 is above the 3 brokers of the cluster; use at most 3/,
      );
      assert.equal(
        await getJson(cp, ["kafkatopic", "rf4", "-n", "enforce"]),
        undefined,
        "nothing was stored",
      );
      const ok = await kubectlApply(topic("enforce", "ok", cases[0][1]), true);
      assert.equal(ok.code, 0, ok.stderr);
      assert.doesNotMatch(ok.stderr, /Warning/);
    });

    test("the notes' four naming conventions: the example admitted, near-misses refused as the engine says", async () => {
      const conventions: Array<{ naming: TopicPolicySpec["naming"]; names: string[] }> = [
        {
          naming: POLICY.naming,
          names: [
            "prd.marketing-team.sms-platform.json",
            "prd.marketing-team.json",
            "prod.marketing-team.sms-platform.json",
            "prd.Marketing-Team.sms-platform.json",
            "prd.marketing-team.sms-platform.xml",
          ],
        },
        {
          naming: {
            template: "{project}.{service}.{env}.{event}",
            segments: {
              project: { pattern: "[a-z]+" },
              service: { pattern: "[a-z]+" },
              env: { values: ["dev", "stg", "prd"] },
              event: { pattern: "[a-z-]+" },
            },
          },
          names: [
            "commerce.payment.prd.notification",
            "commerce.payment.production.notification",
            "commerce.payment.prd",
          ],
        },
        {
          naming: {
            template: "{env}.{service}.{ticket}.{type}",
            segments: {
              env: { values: ["dev", "stg", "prd"] },
              service: { pattern: "[a-z0-9-]+" },
              ticket: { pattern: "jira-[0-9]+" },
              type: { pattern: "[a-z0-9-]+" },
            },
          },
          names: [
            "dev.email-sender.jira-1234.email-vo-custom",
            "dev.email-sender.JIRA-1234.email-vo-custom",
            "dev.email-sender.ticket-1234.email-vo-custom",
          ],
        },
        {
          naming: {
            template: "{cluster}.{env}.{service}.{type}",
            segments: {
              cluster: { values: ["aws-kafka", "gcp-kafka"] },
              env: { values: ["live", "stage"] },
              service: { pattern: "[a-z0-9-]+" },
              type: { values: ["json", "avro"] },
            },
          },
          names: [
            "aws-kafka.live.marketing-platform.json",
            "azure-kafka.live.marketing-platform.json",
            "aws-kafka.live.marketing_platform.json",
          ],
        },
        // A pattern instead of a template.
        { naming: { pattern: "[a-z]+(\\.[a-z]+)*" }, names: ["orders.eu", "Orders.eu"] },
      ];
      for (const [i, c] of conventions.entries()) {
        const ns = `convention-${i + 1}`;
        const kc = await clusterIn(ns, { replicas: 3, topicPolicy: { naming: c.naming } });
        for (const [j, topicName] of c.names.entries()) {
          const spec = { topicName, partitions: 3 };
          const expected = engine(kc, spec, `t${j}`);
          assert.equal(
            expected === "",
            j === 0,
            `the engine admits exactly the example (${topicName}: ${expected})`,
          );
          const r = await kubectlApply(topic(ns, `t${j}`, spec));
          if (j === 0) assert.equal(r.code, 0, r.stderr);
          else assert.equal(DENIED.exec(r.stderr)?.[1], expected, topicName);
        }
      }
    });

    test("Warn: a violating topic is admitted with the message as a warning; Audit: admitted quietly", async () => {
      await clusterIn("warn", { replicas: 3, topicPolicy: { ...POLICY, mode: "Warn" } });
      const bad = topic("warn", "orders", { partitions: 3 });
      const r = await kubectlApply(bad, true);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /Warning: .*\[naming\] topic name "orders" does not follow the naming template \{env\}\.\{team\}\.\{app\}\.\{type\}: it has 1 '\.'-separated segment, the template has 4/,
      );
      assert.ok(await getJson(cp, ["kafkatopic", "orders", "-n", "warn"]));

      await clusterIn("audit", { replicas: 3, topicPolicy: { ...POLICY, mode: "Audit" } });
      const quiet = await kubectlApply(topic("audit", "orders", { partitions: 3 }), true);
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.doesNotMatch(quiet.stderr, /Warning/);
    });

    test("only the cluster the label names applies; metadata edits of an admitted topic are never refused", async () => {
      await clusterIn("scoped", { replicas: 3, topicPolicy: { ...POLICY, mode: "Warn" } });
      // Another cluster in the namespace without a policy: its topics are not this policy's business.
      await apply(cp, kafkaCluster("scoped", "free", { replicas: 1 }));
      const free = await kubectlApply(topic("scoped", "anything", { partitions: 3 }, "free"), true);
      assert.equal(free.code, 0, free.stderr);
      assert.doesNotMatch(free.stderr, /Warning/);

      // A topic admitted in Warn mode, then the policy turns to Enforce.
      await kubectlOk(cp, ["apply", "-f", "-"], JSON.stringify(topic("scoped", "legacy", { partitions: 3 })));
      await apply(cp, kafkaCluster("scoped", "demo", { replicas: 3, topicPolicy: POLICY }));
      await waitFor(
        "Enforce to apply",
        async () => (await kubectlApply(topic("scoped", "legacy", { partitions: 4 }))).code !== 0,
        { timeoutMs: 30_000, intervalMs: 300 },
      );
      // The operator's finalizer and a user's label still go through.
      await kubectlOk(cp, [
        "patch",
        "kafkatopic",
        "legacy",
        "-n",
        "scoped",
        "--type=merge",
        "-p",
        JSON.stringify({
          metadata: { finalizers: ["kafka.capstan.dev/topic-cleanup"], labels: { team: "x" } },
        }),
      ]);
      const grow = await kubectlApply(topic("scoped", "legacy", { partitions: 4 }), true);
      assert.notEqual(grow.code, 0);
      assert.match(grow.stderr, /\[naming\] topic name "legacy"/);
    });
  },
);
