// The four naming conventions from the seed notes, written as policies: each accepts its
// example and refuses near-misses with a message naming the segment; plus the other rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TopicPolicySpec } from "../operator/api/types.ts";
import { checkTopic, describeViolations } from "./topic-policy.ts";
import { ENV_TEAM_APP_TYPE } from "./testing.ts";

const ctx = { brokerCount: 3 };
const check = (
  policy: TopicPolicySpec,
  name: string,
  extra: Partial<Parameters<typeof checkTopic>[1]> = {},
) => checkTopic(policy, { name, partitions: 3, replicationFactor: 3, configs: new Map(), ...extra }, ctx);

const conventions: Array<{ policy: TopicPolicySpec; ok: string; bad: Array<[string, RegExp]> }> = [
  {
    policy: {
      naming: ENV_TEAM_APP_TYPE,
    },
    ok: "prd.marketing-team.sms-platform.json",
    bad: [
      ["prd.marketing-team.json", /3 '\.'-separated segments, the template has 4/],
      [
        "prod.marketing-team.sms-platform.json",
        /segment env is "prod" \(env must be one of dev, stg, prd\).*"prd\.marketing-team\.sms-platform\.json"/,
      ],
      [
        "prd.Marketing-Team.sms-platform.json",
        /segment team is "Marketing-Team".*"prd\.marketing-team\.sms-platform\.json"/,
      ],
      ["prd.marketing-team.sms-platform.xml", /segment type is "xml"/],
      ["prd.marketing team.sms.json", /characters Kafka does not allow/],
    ],
  },
  {
    policy: {
      naming: {
        template: "{project}.{service}.{env}.{event}",
        segments: {
          project: { pattern: "[a-z]+" },
          service: { pattern: "[a-z]+" },
          env: { values: ["dev", "stg", "prd"] },
          event: { pattern: "[a-z-]+" },
        },
      },
    },
    ok: "commerce.payment.prd.notification",
    bad: [
      ["commerce.payment.production.notification", /segment env is "production"/],
      ["commerce.payment.prd", /3 '\.'-separated segments/],
    ],
  },
  {
    policy: {
      naming: {
        template: "{env}.{service}.{ticket}.{type}",
        segments: {
          env: { values: ["dev", "stg", "prd"] },
          service: { pattern: "[a-z0-9-]+" },
          ticket: { pattern: "jira-[0-9]+" },
          type: { pattern: "[a-z0-9-]+" },
        },
      },
    },
    ok: "dev.email-sender.jira-1234.email-vo-custom",
    bad: [
      [
        "dev.email-sender.JIRA-1234.email-vo-custom",
        /segment ticket is "JIRA-1234" \(ticket must match jira-\[0-9\]\+\).*"dev\.email-sender\.jira-1234\.email-vo-custom"/,
      ],
      ["dev.email-sender.ticket-1234.email-vo-custom", /segment ticket is "ticket-1234"/],
    ],
  },
  {
    policy: {
      naming: {
        template: "{cluster}.{env}.{service}.{type}",
        segments: {
          cluster: { values: ["aws-kafka", "gcp-kafka"] },
          env: { values: ["live", "stage"] },
          service: { pattern: "[a-z0-9-]+" },
          type: { values: ["json", "avro"] },
        },
      },
    },
    ok: "aws-kafka.live.marketing-platform.json",
    bad: [
      ["azure-kafka.live.marketing-platform.json", /segment cluster is "azure-kafka"/],
      [
        "aws-kafka.live.marketing_platform.json",
        /segment service is "marketing_platform".*"aws-kafka\.live\.marketing-platform\.json"/,
      ],
    ],
  },
];

for (const [i, c] of conventions.entries()) {
  test(`convention ${i + 1} (${c.policy.naming?.template}) accepts ${c.ok} and refuses near-misses`, () => {
    assert.deepEqual(check(c.policy, c.ok), []);
    for (const [name, expected] of c.bad) {
      const v = check(c.policy, name);
      assert.ok(v.length > 0, `${name} should be refused`);
      assert.match(describeViolations(v), expected, name);
    }
  });
}

test("a naming pattern instead of a template", () => {
  const p: TopicPolicySpec = { naming: { pattern: "[a-z]+(\\.[a-z]+)*" } };
  assert.deepEqual(check(p, "orders.created"), []);
  assert.match(describeViolations(check(p, "Orders")), /does not match the naming pattern/);
});

test("reserved prefixes: __ by default, and the policy's own", () => {
  assert.match(describeViolations(check({}, "__mine")), /reserved prefix "__"/);
  assert.deepEqual(check({}, "__consumer_offsets"), []);
  assert.match(
    describeViolations(check({ reservedPrefixes: ["_confluent"] }, "_confluent-x")),
    /reserved prefix "_confluent"/,
  );
});

test("replication factor: never above the broker count, within the policy's bounds, both numbers in the message", () => {
  assert.match(
    describeViolations(check({}, "t", { replicationFactor: 4 })),
    /replication factor 4 is above the 3 brokers/,
  );
  assert.match(
    describeViolations(check({ replicationFactor: { min: 2 } }, "t", { replicationFactor: 1 })),
    /replication factor 1 is below the policy minimum 2/,
  );
  assert.match(
    describeViolations(check({ replicationFactor: { max: 2 } }, "t", { replicationFactor: 3 })),
    /above the policy maximum 2/,
  );
  assert.deepEqual(
    check({ replicationFactor: { min: 2, default: 3 } }, "t", { replicationFactor: undefined }),
    [],
  );
});

test("max partitions, required configs (own or broker default) and cleanup policies", () => {
  assert.match(
    describeViolations(check({ maxPartitions: 2 }, "t")),
    /3 partitions is above the policy maximum of 2/,
  );
  const req: TopicPolicySpec = { requiredConfigs: { "min.insync.replicas": { min: 2 } } };
  assert.match(
    describeViolations(
      checkTopic(
        req,
        { name: "t", partitions: 1, replicationFactor: 3, configs: new Map() },
        { brokerCount: 3, defaultConfig: () => "1" },
      ),
    ),
    /config min\.insync\.replicas is 1 \(the broker default\); the policy requires at least 2\. Set min\.insync\.replicas: "2"/,
  );
  assert.deepEqual(check(req, "t", { configs: new Map([["min.insync.replicas", "2"]]) }), []);
  assert.match(
    describeViolations(
      check({ allowedCleanupPolicies: ["delete"] }, "t", {
        configs: new Map([["cleanup.policy", "compact"]]),
      }),
    ),
    /cleanup\.policy compact is not allowed/,
  );
});
