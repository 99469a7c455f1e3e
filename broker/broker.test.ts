// The broker in-process, spoken to with exact protocol versions through the generated
// codecs: version negotiation, topic admin, produce/fetch/list-offsets, ordering,
// malformed input and restart. Real clients are exercised in test/interop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "./broker.ts";
import { BrokerConfig } from "./config.ts";
import { createLogger } from "../lib/logger.ts";
import { RawClient } from "../test/setup/raw-client.ts";
import * as apis from "../protocol/generated/apis.ts";
import { buildRecordBatch, iterateRecords, splitBatches } from "../protocol/records/index.ts";
import { defaultFetchRequest } from "../protocol/generated/messages/FetchRequest.ts";
import { ErrorCode } from "./errors.ts";

async function startBroker(dir: string): Promise<{ broker: Broker; port: number }> {
  const config = BrokerConfig.load(undefined, [
    "listeners=PLAINTEXT://127.0.0.1:0",
    `log.dirs=${dir}`,
    "num.partitions=2",
  ]);
  const broker = await Broker.start(config, createLogger("test-broker"));
  return { broker, port: broker.boundPorts().get("PLAINTEXT")! };
}

function batch(values: string[], key: string | null = null): Buffer {
  return buildRecordBatch({
    records: values.map((v) => ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(v) })),
  });
}

test("broker: negotiation, admin, produce, fetch, list offsets, bad input, restart", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "capstan-broker-"));
  let { broker, port } = await startBroker(dir);
  t.after(async () => {
    await broker.shutdown();
    await rm(dir, { recursive: true, force: true });
  });
  const c = await RawClient.connect(port);

  await t.test("ApiVersions lists Produce 3-9 and Fetch 4-12", async () => {
    const r = await c.request(apis.ApiVersions, 3, {
      clientSoftwareName: "capstan-test",
      clientSoftwareVersion: "1.0",
    });
    assert.equal(r.errorCode, 0);
    const produce = r.apiKeys.find((k) => k.apiKey === 0)!;
    assert.deepEqual([produce.minVersion, produce.maxVersion], [3, 9]);
    const fetch = r.apiKeys.find((k) => k.apiKey === 1)!;
    assert.deepEqual([fetch.minVersion, fetch.maxVersion], [4, 12]);
  });

  await t.test("an ApiVersions version we do not know gets a v0 UNSUPPORTED_VERSION answer", async () => {
    const raw = await RawClient.connect(port);
    // ApiVersions v9, correlation id 7, client id "x", then a body we cannot know.
    const body = Buffer.from([0, 18, 0, 9, 0, 0, 0, 7, 0, 1, 0x78, 0, 1, 2, 3]);
    const frame = Buffer.alloc(4 + body.length);
    frame.writeInt32BE(body.length, 0);
    body.copy(frame, 4);
    raw.sendRaw(frame);
    const resp = await raw.nextFrame();
    assert.equal(resp.readInt32BE(0), 7);
    const decoded = apis.ApiVersions.decodeResponse(
      new (await import("../protocol/wire/index.ts")).Reader(resp, 4),
      0,
    );
    assert.equal(decoded.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(
      decoded.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
      [[18, 0, 3]],
    );
    raw.close();
  });

  await t.test("CreateTopics: created, already exists, illegal name, validate only", async () => {
    const create = (name: string, validateOnly = false) =>
      c.request(apis.CreateTopics, 7, {
        topics: [{ name, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 1000,
        validateOnly,
      });
    const r = await create("orders");
    assert.equal(r.topics[0].errorCode, 0);
    assert.equal(r.topics[0].numPartitions, 3);
    assert.notEqual(r.topics[0].topicId, "AAAAAAAAAAAAAAAAAAAAAA");
    assert.equal((await create("orders")).topics[0].errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    const bad = (await create("bad/name")).topics[0];
    assert.equal(bad.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.match(bad.errorMessage ?? "", /illegal/);
    assert.equal((await create("dry-run", true)).topics[0].errorCode, 0);
    const md = await c.request(apis.Metadata, 12, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.deepEqual(
      md.topics.map((x) => x.name),
      ["orders"],
    );
    assert.equal(md.topics[0].partitions.length, 3);
    assert.equal(md.controllerId, broker.nodeId);
  });

  await t.test(
    "Produce then Fetch returns the batches; ListOffsets answers latest and earliest",
    async () => {
      for (let i = 0; i < 3; i++) {
        const r = await c.request(apis.Produce, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: "orders", partitionData: [{ index: 0, records: batch([`a${i}`, `b${i}`]) }] }],
        });
        const p = r.responses[0].partitionResponses[0];
        assert.equal(p.errorCode, 0);
        assert.equal(p.baseOffset, BigInt(i * 2));
      }
      const f = await c.request(apis.Fetch, 12, {
        ...defaultFetchRequest(),
        replicaId: -1,
        maxWaitMs: 100,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [
          {
            topic: "orders",
            topicId: "AAAAAAAAAAAAAAAAAAAAAA",
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: 1n,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: 1 << 20,
                replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
              },
            ],
          },
        ],
      });
      const pd = f.responses[0].partitions[0];
      assert.equal(pd.errorCode, 0);
      assert.equal(pd.highWatermark, 6n);
      const values = splitBatches(pd.records!)
        .batches.flatMap((b) => [...iterateRecords(b)])
        .map((r) => `${r.offset}:${r.value}`);
      assert.deepEqual(values, ["0:a0", "1:b0", "2:a1", "3:b1", "4:a2", "5:b2"]);
      const lo = await c.request(apis.ListOffsets, 7, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 1000,
        topics: [
          {
            name: "orders",
            partitions: [
              { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 },
              { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -2n, maxNumOffsets: 1 },
            ],
          },
        ],
      });
      assert.deepEqual(
        lo.topics[0].partitions.map((p) => [p.errorCode, p.offset]),
        [
          [0, 6n],
          [0, 0n],
        ],
      );
    },
  );

  await t.test(
    "a fetch past the end is OFFSET_OUT_OF_RANGE; an unknown partition is UNKNOWN_TOPIC_OR_PARTITION",
    async () => {
      const fetchAt = (partition: number, offset: bigint) =>
        c.request(apis.Fetch, 11, {
          ...defaultFetchRequest(),
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          topics: [
            {
              topic: "orders",
              topicId: "AAAAAAAAAAAAAAAAAAAAAA",
              partitions: [
                {
                  partition,
                  currentLeaderEpoch: -1,
                  fetchOffset: offset,
                  lastFetchedEpoch: -1,
                  logStartOffset: -1n,
                  partitionMaxBytes: 1 << 20,
                  replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
                },
              ],
            },
          ],
        });
      assert.equal(
        (await fetchAt(0, 99n)).responses[0].partitions[0].errorCode,
        ErrorCode.OFFSET_OUT_OF_RANGE,
      );
      assert.equal(
        (await fetchAt(9, 0n)).responses[0].partitions[0].errorCode,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
    },
  );

  await t.test("a malformed request closes that connection only", async () => {
    const bad = await RawClient.connect(port);
    bad.sendRaw(Buffer.from([0, 0, 0, 12, 0, 3, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]));
    await bad.closed();
    const md = await c.request(apis.Metadata, 12, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(md.topics.length, 1);
  });

  await t.test("data and topics survive a restart", async () => {
    c.close();
    await broker.shutdown();
    ({ broker, port } = await startBroker(dir));
    const c2 = await RawClient.connect(port);
    const lo = await c2.request(apis.ListOffsets, 1, {
      replicaId: -1,
      isolationLevel: 0,
      timeoutMs: 1000,
      topics: [
        {
          name: "orders",
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
        },
      ],
    });
    assert.equal(lo.topics[0].partitions[0].offset, 6n);
    c2.close();
  });
});
