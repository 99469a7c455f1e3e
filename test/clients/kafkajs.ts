// Client driver for kafkajs (the npm devDependency), run by Node 24:
//   node test/clients/kafkajs.ts BOOTSTRAP TOPIC GROUP [COUNT]
//
// Same scenario as every driver in test/clients/ (see README.md there): produce COUNT
// (default 3) keyed records "key-i" -> "value-i" to TOPIC (auto-created by the broker),
// the last one with headers h1=v1 and h2=v2, then consume them in consumer group GROUP
// from the earliest offset, commit and exit 0. Exits non-zero on failure or after 60 s.
import { Kafka, logLevel } from "kafkajs";

const TIMEOUT_MS = 60_000;

export interface DriverArgs {
  bootstrap: string;
  topic: string;
  group: string;
  count?: number;
  log?: (line: string) => void;
}

/** Runs the scenario in this process; rejects on failure or timeout. */
export async function runKafkajs(args: DriverArgs): Promise<void> {
  const count = args.count ?? 3;
  const log = args.log ?? ((line: string) => console.log(line));
  const kafka = new Kafka({ brokers: [args.bootstrap], logLevel: logLevel.WARN });

  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      key: `key-${i}`,
      value: `value-${i}`,
      ...(i === count - 1 ? { headers: { h1: "v1", h2: "v2" } } : {}),
    }));
    const results = await producer.send({ topic: args.topic, acks: -1, messages });
    for (const r of results) log(`produced ${r.topicName}-${r.partition}@${r.baseOffset}`);
  } finally {
    await producer.disconnect();
  }

  const consumer = kafka.consumer({ groupId: args.group });
  await consumer.connect();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await consumer.subscribe({ topics: [args.topic], fromBeginning: true });
    let received = 0;
    let headersSeen = false;
    const next = new Map<number, string>();
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: consumed ${received} of ${count}`)), TIMEOUT_MS);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const hs = Object.entries(message.headers ?? {})
              .map(([k, v]) => ` ${k}=${String(v)}`)
              .join("");
            headersSeen ||= hs.length > 0;
            log(`consumed ${partition}@${message.offset} ${message.key}=${message.value}${hs}`);
            next.set(partition, String(BigInt(message.offset) + 1n));
            if (++received >= count) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.commitOffsets(
      [...next].map(([partition, offset]) => ({ topic: args.topic, partition, offset })),
    );
    if (!headersSeen) throw new Error("no record carried headers");
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  log("ok");
}

// `node --test` runs every .ts under test/ as a test file: only act when started by hand.
if (import.meta.main && !process.env.NODE_TEST_CONTEXT) {
  const [bootstrap, topic, group, count] = process.argv.slice(2);
  if (!group) {
    console.error("usage: node test/clients/kafkajs.ts BOOTSTRAP TOPIC GROUP [COUNT]");
    process.exit(2);
  }
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";
  runKafkajs({ bootstrap, topic, group, count: count ? Number(count) : undefined }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
