// Every API the broker advertises, at every version it advertises, answers both a
// default request and generated ones (random names, numbers, nulls and tagged fields)
// with a well-formed response of that version: no handler sets a field its version
// cannot carry, and no odd request closes the connection or stops the broker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../broker.ts";
import { BrokerConfig } from "../config.ts";
import { createLogger } from "../../lib/logger.ts";
import { RawClient } from "../../test/setup/raw-client.ts";
import { HANDLERS } from "./index.ts";
import { loadFolder, specRoot } from "../../protocol/codegen/spec.ts";
import { type CodecModule, SampleGenerator } from "../../protocol/codegen/samples.ts";
import type { ApiDefinition } from "../../protocol/generated/apis.ts";
import { buildRecordBatch } from "../../protocol/records/index.ts";
import { EncodeError } from "../../protocol/wire/index.ts";

const specs = new Map(loadFolder(specRoot(), "messages").map((m) => [m.name, m]));

/** Keeps generated requests from asking the broker to wait or to stay silent. */
function tame(api: string, body: Record<string, unknown>): Record<string, unknown> {
  if (api === "Produce") body.acks = 1;
  if (api === "Fetch") {
    body.maxWaitMs = 0;
    body.sessionId = 0;
  }
  return body;
}

/** Requests about the existing topic "sweep", so the success paths answer at every version too. */
function meaningful(api: string, mod: CodecModule, version: number): Array<Record<string, unknown>> {
  const base = (mod[`default${api}Request`] as () => Record<string, unknown>)();
  const partition = (fields: Record<string, unknown>) => fields;
  switch (api) {
    case "Metadata":
      return [
        { ...base, topics: null },
        { ...base, topics: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "sweep" }] },
      ];
    case "DescribeConfigs":
      return [
        {
          ...base,
          resources: [
            { resourceType: 2, resourceName: "sweep", configurationKeys: null },
            { resourceType: 4, resourceName: "1", configurationKeys: null },
          ],
          includeSynonyms: true,
          includeDocumentation: true,
        },
      ];
    case "ListOffsets":
      return [-1n, -2n, -3n, 0n].map((timestamp) => ({
        ...base,
        topics: [
          {
            name: "sweep",
            partitions: [
              partition({ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }),
            ],
          },
        ],
      }));
    case "Fetch":
      return [
        {
          ...base,
          maxWaitMs: 0,
          topics: [
            {
              topic: "sweep",
              topicId: "AAAAAAAAAAAAAAAAAAAAAA",
              partitions: [
                partition({
                  partition: 0,
                  currentLeaderEpoch: -1,
                  fetchOffset: 0n,
                  lastFetchedEpoch: -1,
                  logStartOffset: -1n,
                  partitionMaxBytes: 1 << 20,
                  replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
                }),
              ],
            },
          ],
        },
      ];
    case "OffsetForLeaderEpoch":
      return [
        {
          ...base,
          topics: [
            {
              topic: "sweep",
              partitions: [partition({ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 })],
            },
          ],
        },
      ];
    case "DescribeLogDirs":
      return [{ ...base, topics: version >= 2 ? null : [{ topic: "sweep", partitions: [0] }] }];
    case "DeleteRecords":
      return [
        { ...base, topics: [{ name: "sweep", partitions: [partition({ partitionIndex: 1, offset: 0n })] }] },
      ];
    case "DescribeCluster":
      return [{ ...base, endpointType: 1 }];
    default:
      return [];
  }
}

test("every advertised API and version answers default and generated requests", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "capstan-sweep-"));
  const config = BrokerConfig.load(undefined, ["listeners=PLAINTEXT://127.0.0.1:0", `log.dirs=${dir}`]);
  const broker = await Broker.start(config, createLogger("sweep"));
  t.after(async () => {
    await broker.shutdown();
    await rm(dir, { recursive: true, force: true });
  });
  const port = broker.boundPorts().get("PLAINTEXT")!;
  const setup = await RawClient.connect(port);
  await setup.request(HANDLERS.find((h) => h.api.name === "CreateTopics")!.api as ApiDefinition, 7, {
    topics: [{ name: "sweep", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  setup.close();

  let answered = 0;
  for (const h of HANDLERS) {
    const api = h.api as ApiDefinition;
    const spec = specs.get(`${api.name}Request`)!;
    const mod = (await import(`../../protocol/generated/messages/${api.name}Request.ts`)) as CodecModule;
    for (let version = h.minVersion; version <= h.maxVersion; version++) {
      const bodies: Array<Record<string, unknown>> = [
        tame(api.name, (mod[`default${api.name}Request`] as () => Record<string, unknown>)()),
      ];
      for (let seed = 1; seed <= 3; seed++) {
        bodies.push(tame(api.name, new SampleGenerator(spec, mod, seed * 31 + version).message(version)));
      }
      bodies.push(...meaningful(api.name, mod, version));
      if (api.name === "Produce") {
        bodies.push({
          transactionalId: null,
          acks: -1,
          timeoutMs: 1000,
          topicData: [
            {
              name: "sweep",
              partitionData: [
                { index: 0, records: buildRecordBatch({ records: [{ value: Buffer.from("x") }] }) },
              ],
            },
          ],
        });
      }
      for (const body of bodies) {
        const c = await RawClient.connect(port);
        try {
          await c.request(api, version, body);
          answered++;
        } catch (err) {
          // A default body some version cannot carry is the test's problem, not the broker's.
          if (err instanceof EncodeError) continue;
          assert.fail(
            `${api.name} v${version}: ${err instanceof Error ? err.message : String(err)} for ${JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)).slice(0, 300)}`,
          );
        } finally {
          c.close();
        }
      }
    }
  }
  assert.ok(answered > 200, `${answered} requests answered`);
});
