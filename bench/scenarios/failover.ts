// Scenario 6: failover. Three brokers, a replication-factor-3 topic, and an idempotent
// acks=all librdkafka producer sending a record every millisecond or so; after 3 s the
// partition leader is killed with SIGKILL, and the figure is the time from the kill to the
// acknowledgement of the first record produced after it (by the new leader). librdkafka finds
// the new leader by refreshing metadata, so the figure has a granularity of about a second. The killed node is restarted and
// rejoins before the next run, which uses a new topic.
import type { BenchContext, Scenario } from "../lib/scenario.ts";
import type { BrokerKind } from "../lib/table.ts";
import { createReplicatedTopic, startThreeNodes } from "../lib/three-nodes.ts";
import { python } from "../lib/tools.ts";

const PROBE = `
import json, os, signal, sys, time
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
bootstrap, topic, pids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
admin = AdminClient({"bootstrap.servers": bootstrap})
# A broker that has not applied the new topic yet lists it without partitions: ask again.
for _ in range(300):
    parts = admin.list_topics(topic, timeout=30).topics[topic].partitions
    if 0 in parts and parts[0].leader >= 0:
        break
    time.sleep(0.1)
leader = parts[0].leader
p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
              "linger.ms": 1, "message.timeout.ms": 120000, "reconnect.backoff.max.ms": 100,
              "retry.backoff.ms": 50, "topic.metadata.refresh.fast.interval.ms": 50, "log_level": 0})
# Only records produced after the kill count: a delivery report is served by poll(), so
# one the old leader acknowledged just before the kill can surface just after it.
after = []
errors = []
def cb(sent):
    def report(err, msg):
        if err is not None: errors.append(str(err))
        elif killed is not None and sent > killed: after.append(time.time())
    return report
start = time.time()
killed = None
while True:
    now = time.time()
    p.produce(topic, b"x" * 1024, on_delivery=cb(now))
    p.poll(0.001)
    if killed is None and now - start > 3:
        killed = time.time()
        os.kill(pids[str(leader)], signal.SIGKILL)
    if after or (killed is not None and now - killed > 110):
        break
p.flush(10)
print(json.dumps({"leader": leader, "resumeMs": (after[0] - killed) * 1000 if after else None, "errors": errors[:3]}))
`;

export const failover: Scenario = {
  name: "failover",
  title: "6. failover: kill -9 of the leader",
  metrics: [
    {
      id: "resume-ms",
      label: "6. kill -9 of leader until produce resumes",
      unit: "ms",
      client: "librdkafka probe",
      better: "lower",
    },
  ],
  async run(broker: BrokerKind, ctx: BenchContext) {
    const out: Record<string, number[]> = { "resume-ms": [] };
    const cluster = await startThreeNodes(broker);
    try {
      for (let i = 1; i <= ctx.repeat; i++) {
        const topic = `failover-${i}`;
        await createReplicatedTopic(cluster, topic);
        const pids = Object.fromEntries(cluster.nodes.map((n) => [String(n.id), n.pid]));
        const r = JSON.parse(
          await python(PROBE, [cluster.bootstrap, topic, JSON.stringify(pids)], 180_000),
        ) as {
          leader: number;
          resumeMs: number | null;
          errors: string[];
        };
        if (r.resumeMs === null)
          throw new Error(
            `produce did not resume within 110 s of killing node ${r.leader} (${r.errors.join("; ")})`,
          );
        out["resume-ms"].push(r.resumeMs);
        ctx.log(`run ${i}: killed leader ${r.leader}, produce resumed after ${r.resumeMs.toFixed(0)} ms`);
        const dead = cluster.nodes.find((n) => n.id === r.leader)!;
        await dead.restart();
        await cluster.brokerCount(3, 60_000);
      }
    } finally {
      await cluster.stop();
    }
    return out;
  },
};
