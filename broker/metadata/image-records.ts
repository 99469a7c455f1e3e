// The metadata image written out as the records that rebuild it: what a metadata
// snapshot holds. Applying these records to an empty image gives an equal image.
import { ConfigResourceType, type MetadataImage } from "./image.ts";
import type { MetadataRecord } from "./records.ts";

export function imageRecords(image: MetadataImage): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const b of [...image.brokers.values()].sort((x, y) => x.id - y.id)) {
    out.push({
      type: "RegisterBroker",
      value: {
        brokerId: b.id,
        isMigratingZkBroker: false,
        incarnationId: b.incarnationId,
        brokerEpoch: b.epoch,
        endPoints: b.endpoints.map((e) => ({
          name: e.name,
          host: e.host,
          port: e.port,
          securityProtocol: 0,
        })),
        features: [],
        rack: b.rack,
        fenced: b.fenced,
        inControlledShutdown: b.inControlledShutdown,
        logDirs: [],
      },
    });
  }
  for (const [resourceName, configs] of image.brokerConfigs) {
    for (const [name, value] of configs) {
      out.push({
        type: "Config",
        value: { resourceType: ConfigResourceType.BROKER, resourceName, name, value },
      });
    }
  }
  for (const t of image.topicsByName.values()) {
    out.push({ type: "Topic", value: { name: t.name, topicId: t.id } });
    for (const p of t.partitions) {
      if (!p) continue;
      out.push({
        type: "Partition",
        value: {
          partitionId: p.partition,
          topicId: t.id,
          replicas: p.replicas,
          isr: p.isr,
          removingReplicas: p.removingReplicas,
          addingReplicas: p.addingReplicas,
          leader: p.leader,
          leaderRecoveryState: 0,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          directories: [],
          eligibleLeaderReplicas: null,
          lastKnownElr: null,
        },
      });
    }
    for (const [name, value] of t.configs) {
      out.push({
        type: "Config",
        value: { resourceType: ConfigResourceType.TOPIC, resourceName: t.name, name, value },
      });
    }
  }
  if (image.nextProducerId > 0n) {
    out.push({
      type: "ProducerIds",
      value: { brokerId: -1, brokerEpoch: -1n, nextProducerId: image.nextProducerId },
    });
  }
  return out;
}
