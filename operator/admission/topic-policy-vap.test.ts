import assert from "node:assert/strict";
import { test } from "node:test";
import { topicPolicyAdmission } from "./topic-policy-vap.ts";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test("one policy and binding per mode, bound to every KafkaCluster of the topic's namespace", () => {
  const objs = topicPolicyAdmission({ name: "p", labels: { team: "kafka" } }) as Obj[];
  assert.deepEqual(
    objs.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      "ValidatingAdmissionPolicy/p-enforce",
      "ValidatingAdmissionPolicyBinding/p-enforce",
      "ValidatingAdmissionPolicy/p-warn",
      "ValidatingAdmissionPolicyBinding/p-warn",
      "ValidatingAdmissionPolicy/p-audit",
      "ValidatingAdmissionPolicyBinding/p-audit",
    ],
  );
  const bindings = objs.filter((o) => o.kind === "ValidatingAdmissionPolicyBinding");
  assert.deepEqual(
    bindings.map((b) => b.spec.validationActions),
    [["Deny"], ["Warn"], ["Audit"]],
  );
  for (const b of bindings) {
    assert.deepEqual(b.spec.paramRef, { selector: {}, parameterNotFoundAction: "Allow" });
    assert.equal(b.metadata.labels.team, "kafka");
  }
  const [enforce] = objs;
  assert.deepEqual(enforce.spec.paramKind, {
    apiVersion: "kafka.capstan.dev/v1alpha1",
    kind: "KafkaCluster",
  });
  assert.equal(enforce.spec.failurePolicy, "Fail");
  assert.equal(enforce.spec.validations.length, 1);
  // The operator's min.insync.replicas default depends on the broker count, as in the engine's callers.
  const defaults = enforce.spec.variables.find((v: Obj) => v.name === "defaults").expression as string;
  assert.match(
    defaults,
    /'min\.insync\.replicas': \(params\.spec\.replicas == 1 \? '1' : \(params\.spec\.replicas == 2 \? '1' : '2'\)\)/,
  );
});
