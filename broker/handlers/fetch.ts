// Fetch (1): a long poll. Reads whole batches from each requested partition up to the
// high watermark (or last stable offset for read_committed), then, if fewer than
// MinBytes are ready and MaxWait has not passed, waits for appends and reads again.
// Fetch sessions are declined (session id 0), so every response is a full one with
// exactly the requested partitions, which every client accepts (KIP-227).
// A follower's fetch (ReplicaId >= 0) reads up to the log end instead, tells the leader
// how far the follower is (which moves the high watermark and the ISR), and is answered
// with a diverging epoch when the follower's tail is not in the leader's log.
import { Fetch } from "../../protocol/generated/apis.ts";
import type { FetchRequest } from "../../protocol/generated/messages/FetchRequest.ts";
import type { FetchResponse, PartitionData } from "../../protocol/generated/messages/FetchResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode, KafkaError, errorCodeOf } from "../errors.ts";
import type { Partition } from "../replica-manager.ts";
import type { Handler } from "./handler.ts";

const READ_COMMITTED = 1;

interface Slot {
  topic: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
}

function emptyPartition(partitionIndex: number, errorCode: number): PartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    // Kafka sends an empty record set, never a null one, with a partition error:
    // librdkafka rejects MessageSetSize -1 as a protocol error (and never sees the
    // error, e.g. OFFSET_OUT_OF_RANGE, that would trigger its auto.offset.reset).
    records: Buffer.alloc(0),
  };
}

async function readAll(
  broker: Broker,
  slots: Slot[],
  maxBytes: number,
  readCommitted: boolean,
  v: number,
  replicaId: number,
): Promise<{ results: PartitionData[]; bytes: number; partitions: Partition[]; urgent: boolean }> {
  let remaining = maxBytes;
  // A follower is answered at once when it must act (truncate, find the new leader).
  let urgent = false;
  let bytes = 0;
  const results: PartitionData[] = [];
  const partitions: Partition[] = [];
  for (const s of slots) {
    let p: Partition | undefined;
    try {
      let upTo: number;
      if (replicaId >= 0) {
        const check = broker.replicas.checkReplicaFetch(
          s.topic,
          s.partition,
          replicaId,
          v >= 9 ? s.currentLeaderEpoch : -1,
          s.fetchOffset,
          v >= 12 ? s.lastFetchedEpoch : -1,
        );
        p = check.partition;
        if (check.kind === "diverging") {
          results.push({
            ...emptyPartition(s.partition, ErrorCode.NONE),
            highWatermark: BigInt(p.highWatermark),
            lastStableOffset: BigInt(p.lastStableOffset),
            logStartOffset: BigInt(p.log.logStartOffset),
            divergingEpoch: { epoch: check.epoch, endOffset: BigInt(check.endOffset) },
          });
          urgent = true;
          continue;
        }
        partitions.push(p);
        upTo = p.log.logEndOffset;
      } else {
        p = broker.replicas.leaderPartition(s.topic, s.partition, v >= 9 ? s.currentLeaderEpoch : -1);
        partitions.push(p);
        upTo = readCommitted ? p.lastStableOffset : p.highWatermark;
      }
      const log = p.log;
      if (s.fetchOffset < log.logStartOffset || s.fetchOffset > log.logEndOffset) {
        throw new KafkaError(
          "OFFSET_OUT_OF_RANGE",
          `Offset ${s.fetchOffset} is outside ${log.logStartOffset}-${log.logEndOffset}.`,
        );
      }
      let records: Buffer | null = null;
      if (s.fetchOffset < upTo && remaining > 0) {
        // KIP-74: the first partition with data returns at least one whole batch, even past the limits.
        const read = await log.read(s.fetchOffset, Math.min(s.maxBytes, remaining), {
          maxOffset: upTo,
          minOneBatch: bytes === 0,
        });
        if (read.records.length > 0) {
          records = read.records;
          bytes += read.records.length;
          remaining -= read.records.length;
        }
      }
      results.push({
        ...emptyPartition(s.partition, ErrorCode.NONE),
        highWatermark: BigInt(p.highWatermark),
        lastStableOffset: BigInt(p.lastStableOffset),
        logStartOffset: BigInt(log.logStartOffset),
        abortedTransactions: readCommitted ? [] : null,
        records: records ?? Buffer.alloc(0),
      });
    } catch (err) {
      const failed = emptyPartition(s.partition, errorCodeOf(err));
      // A follower behind the leader's log start starts over there.
      const hosted = p ?? broker.replicas.get(s.topic, s.partition);
      if (replicaId >= 0 && hosted) failed.logStartOffset = BigInt(hosted.log.logStartOffset);
      if (replicaId >= 0) urgent = true;
      results.push(failed);
    }
  }
  return { results, bytes, partitions, urgent };
}

export const fetch: Handler<FetchRequest, FetchResponse, Broker> = {
  api: Fetch,
  minVersion: 4,
  maxVersion: 12,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    if (v >= 7 && req.sessionId !== 0) {
      // We never hand out sessions, so an incremental fetch names one we do not know.
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
        nodeEndpoints: [],
      };
    }
    const slots: Slot[] = req.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.topic,
        partition: p.partition,
        fetchOffset: Number(p.fetchOffset),
        maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
        lastFetchedEpoch: p.lastFetchedEpoch,
      })),
    );
    const replicaId = v >= 15 ? req.replicaState.replicaId : req.replicaId;
    const readCommitted = req.isolationLevel === READ_COMMITTED;
    const maxBytes = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    let read = await readAll(broker, slots, maxBytes, readCommitted, v, replicaId);
    while (
      read.bytes < Math.max(1, req.minBytes) &&
      !read.urgent &&
      Date.now() < deadline &&
      !broker.stopping
    ) {
      const wait = deadline - Date.now();
      await new Promise<void>((resolve) => {
        const cancels: Array<() => void> = [];
        const done = (): void => {
          clearTimeout(timer);
          for (const c of cancels) c();
          resolve();
        };
        const timer = setTimeout(done, wait);
        for (const p of read.partitions) cancels.push(p.onAppend(done));
        cancels.push(broker.onStopping(done));
      });
      read = await readAll(broker, slots, maxBytes, readCommitted, v, replicaId);
    }
    let i = 0;
    const responses = req.topics.map((t) => ({
      topic: t.topic,
      topicId: t.topicId,
      partitions: t.partitions.map(() => read.results[i++]),
    }));
    for (const t of responses) {
      for (const p of t.partitions)
        if (p.records && p.records.length > 0)
          broker.metrics.bytesOut.inc({ topic: t.topic }, p.records.length);
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses, nodeEndpoints: [] };
  },
};
