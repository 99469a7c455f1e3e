// Scenario 5, start-up half: from spawning the broker process to the first acknowledged
// produce (acks=1, to a topic the produce auto-creates). The broker's port is polled with a
// Metadata request every 10 ms; as soon as it answers, a librdkafka producer (its Python
// process started beforehand, so that start-up is not counted) connects and produces. Not
// letting librdkafka find the broker itself: its reconnect timer has a 1 s granularity.
// For Kafka the one-off `kafka-storage format` runs before the spawn and is not counted.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { probeMetadata } from "../../test/setup/kafka.ts";
import { startCluster } from "../lib/cluster.ts";
import type { BenchContext, Scenario } from "../lib/scenario.ts";
import type { BrokerKind } from "../lib/table.ts";

const PROBE = `
import sys, time
from confluent_kafka import Producer
print("ready", flush=True)
sys.stdin.readline()
p = Producer({"bootstrap.servers": sys.argv[1], "acks": "1", "retry.backoff.ms": 20,
              "topic.metadata.refresh.fast.interval.ms": 20, "message.timeout.ms": 170000,
              "log_level": 0})
delivered = []
while True:
    delivered.clear()
    p.produce("startup", b"x", on_delivery=lambda err, msg: delivered.append(err))
    while not delivered:
        p.poll(0.005)
    if delivered[0] is None:
        break
print(int(time.time() * 1000), flush=True)
`;

function lineFrom(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`probe: no answer in ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: string) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      resolve(buf.slice(0, nl));
    };
    child.stdout!.setEncoding("utf8").on("data", onData);
    child.once("exit", (code) => reject(new Error(`probe exited ${code}`)));
  });
}

export const startup: Scenario = {
  name: "startup",
  title: "5. start-up to first produce",
  metrics: [
    {
      id: "ready-ms",
      label: "5. spawn to Metadata served",
      unit: "ms",
      client: "Metadata v4 probe",
      better: "lower",
    },
    {
      id: "startup-ms",
      label: "5. spawn to first acked produce",
      unit: "ms",
      client: "librdkafka probe",
      better: "lower",
    },
  ],
  async run(broker: BrokerKind, ctx: BenchContext) {
    const out: Record<string, number[]> = { "ready-ms": [], "startup-ms": [] };
    for (let i = 1; i <= ctx.repeat; i++) {
      let probe: ChildProcess | undefined;
      const cluster = await startCluster(broker, {
        waitReady: false,
        beforeSpawn: async (bootstrap) => {
          probe = spawn("/usr/bin/python3", ["-c", PROBE, bootstrap], { stdio: ["pipe", "pipe", "inherit"] });
          const ready = await lineFrom(probe, 30_000);
          if (ready !== "ready") throw new Error(`probe: ${ready}`);
        },
      });
      try {
        for (const node of cluster.nodes) {
          while (
            !(await probeMetadata("127.0.0.1", node.port, 1000).then(
              (m) => m.brokers.length > 0,
              () => false,
            ))
          ) {
            if (!node.alive()) throw new Error(`${broker} exited during start-up\n${cluster.logs()}`);
            await new Promise((r) => setTimeout(r, 10));
          }
        }
        const readyAt = Date.now();
        probe!.stdin!.write("go\n");
        const ackedAt = Number(await lineFrom(probe!, 180_000));
        out["ready-ms"].push(readyAt - cluster.spawnedAt);
        out["startup-ms"].push(ackedAt - cluster.spawnedAt);
        ctx.log(
          `run ${i}: Metadata after ${readyAt - cluster.spawnedAt} ms, first ack after ${ackedAt - cluster.spawnedAt} ms`,
        );
      } finally {
        probe?.kill("SIGKILL");
        await cluster.stop();
      }
    }
    return out;
  },
};
