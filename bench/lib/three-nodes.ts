// The three-node cluster of scenarios 2 and 6: Kafka as three combined KRaft nodes, Capstan as
// three `capstan broker` processes sharing a controller.quorum.voters. A Capstan build that
// does not form the cluster (each process its own single-node cluster) or does not accept
// replication factor 3 yields NotApplicable with what was seen, so the run goes on.
import { startCluster } from "./cluster.ts";
import type { Cluster } from "./cluster.ts";
import { NotApplicable } from "./scenario.ts";
import type { BrokerKind } from "./table.ts";
import { createTopic } from "./tools.ts";

/** Starts three nodes and checks that Metadata lists all three. */
export async function startThreeNodes(broker: BrokerKind): Promise<Cluster> {
  const cluster = await startCluster(broker, { nodes: 3 });
  const count = await cluster.brokerCount(3, broker === "kafka" ? 60_000 : 15_000);
  if (count < 3) {
    await cluster.stop();
    const what = `Metadata lists ${count} of 3 brokers: the nodes did not form one cluster`;
    if (broker === "capstan") throw new NotApplicable(`${what} on this build`);
    throw new Error(what);
  }
  return cluster;
}

/** Creates a topic with replication factor 3; on Capstan a refusal means no replication yet. */
export async function createReplicatedTopic(cluster: Cluster, topic: string, partitions = 1): Promise<void> {
  try {
    await createTopic(cluster.bootstrap, topic, partitions, 3);
  } catch (err) {
    if (cluster.kind !== "capstan") throw err;
    throw new NotApplicable(
      `CreateTopics with replication factor 3 refused: ${err instanceof Error ? err.message : err}`,
    );
  }
}
