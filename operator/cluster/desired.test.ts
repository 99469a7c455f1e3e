import { test } from "node:test";
import assert from "node:assert/strict";
import type { KafkaCluster } from "../api/types.ts";
import { CONFIG_HASH_ANNOTATION, desiredObjects } from "./desired.ts";

function cluster(spec: Partial<KafkaCluster["spec"]> = {}): KafkaCluster {
  return {
    apiVersion: "kafka.capstan.dev/v1alpha1",
    kind: "KafkaCluster",
    metadata: { name: "demo", namespace: "kafka", uid: "uid-1" },
    spec: { replicas: 3, ...spec },
  };
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind}/${name}`);
  return o;
};
const hashOf = (objs: Obj[]) =>
  find(objs, "StatefulSet", "demo-broker").spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];

test("a KafkaCluster becomes a StatefulSet, two Services, a ConfigMap and a PDB, all owned by it", () => {
  const objs = desiredObjects(cluster(), "0.1.0") as Obj[];
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    "ConfigMap/demo-config",
    "PodDisruptionBudget/demo-broker",
    "Service/demo-bootstrap",
    "Service/demo-brokers",
    "StatefulSet/demo-broker",
  ]);
  for (const o of objs) {
    assert.equal(o.metadata.namespace, "kafka");
    assert.deepEqual(o.metadata.ownerReferences[0], {
      apiVersion: "kafka.capstan.dev/v1alpha1",
      kind: "KafkaCluster",
      name: "demo",
      uid: "uid-1",
      controller: true,
      blockOwnerDeletion: true,
    });
  }
  const sts = find(objs, "StatefulSet", "demo-broker");
  assert.equal(sts.spec.updateStrategy.type, "OnDelete");
  assert.equal(sts.spec.serviceName, "demo-brokers");
  assert.equal(sts.spec.replicas, 3);
  const c = sts.spec.template.spec.containers[0];
  assert.equal(c.image, "capstan/broker:0.1.0");
  assert.ok(c.args.includes("/etc/capstan/broker-$(NODE_ID).properties"));
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(sts.spec.template.spec.securityContext.runAsNonRoot, true);
  assert.equal(find(objs, "Service", "demo-brokers").spec.clusterIP, "None");
  assert.equal(find(objs, "PodDisruptionBudget", "demo-broker").spec.maxUnavailable, 1);
});

test("server.properties: quorum of the first three brokers, user config, operator-owned keys protected", () => {
  const objs = desiredObjects(
    cluster({ config: { "log.retention.hours": "72", "node.id": "9" } }),
    "0.1.0",
  ) as Obj[];
  const data = find(objs, "ConfigMap", "demo-config").data;
  assert.match(data["server.properties"], /^log\.retention\.hours=72$/m);
  assert.doesNotMatch(data["server.properties"], /node\.id=9/);
  assert.match(
    data["server.properties"],
    /controller\.quorum\.voters=0@demo-broker-0\.demo-brokers\.kafka\.svc:9093,1@demo-broker-1\.demo-brokers\.kafka\.svc:9093,2@demo-broker-2\.demo-brokers\.kafka\.svc:9093/,
  );
  assert.match(data["broker-1.properties"], /^node\.id=1$/m);
  assert.match(
    data["broker-1.properties"],
    /^advertised\.listeners=PLAINTEXT:\/\/demo-broker-1\.demo-brokers\.kafka\.svc:9092$/m,
  );
  const five = find(
    desiredObjects(cluster({ replicas: 5 }), "0.1.0") as Obj[],
    "ConfigMap",
    "demo-config",
  ).data;
  assert.match(five["broker-4.properties"], /^process\.roles=broker$/m);
  assert.match(five["broker-0.properties"], /^process\.roles=broker,controller$/m);
});

test("the config hash changes with configuration and image, not with scaling", () => {
  const base = hashOf(desiredObjects(cluster(), "0.1.0") as Obj[]);
  assert.notEqual(
    hashOf(desiredObjects(cluster({ config: { "log.retention.hours": "1" } }), "0.1.0") as Obj[]),
    base,
  );
  assert.notEqual(hashOf(desiredObjects(cluster({ image: "example/broker:2" }), "0.1.0") as Obj[]), base);
  assert.equal(
    hashOf(desiredObjects(cluster({ replicas: 4 }), "0.1.0") as Obj[]),
    hashOf(desiredObjects(cluster({ replicas: 5 }), "0.1.0") as Obj[]),
  );
});

test("a nodeport listener gets a bootstrap NodePort and one per broker, advertised on the node host", () => {
  const objs = desiredObjects(
    cluster({
      listeners: [
        { name: "EXTERNAL", port: 9094, type: "nodeport", nodePort: 30092, advertisedHost: "localhost" },
      ],
    }),
    "0.1.0",
  ) as Obj[];
  assert.equal(find(objs, "Service", "demo-external-bootstrap").spec.ports[0].nodePort, 30092);
  assert.equal(find(objs, "Service", "demo-external-2").spec.ports[0].nodePort, 30095);
  const data = find(objs, "ConfigMap", "demo-config").data;
  assert.match(data["broker-2.properties"], /EXTERNAL:\/\/localhost:30095/);
});
