// Step 5 of a poll: the timestamp of the record at a group's committed offset, i.e. of
// the oldest record the group has not consumed, by a bounded Fetch. That is the exact
// time lag, where kafka-lag-exporter extrapolates from a table and reports "3 years".
//
// One Fetch per partition leader, each partition with a small byte limit. Kafka returns
// data from the batch that holds the offset, cut at the limit (only the first partition
// of a response may exceed it, KIP-74). A cut batch still has its 61-byte header: when the
// wanted record is the batch's first, the header's timestamp is the answer; otherwise
// the partition is asked again with the batch's full size (up to maxBatchBytes). A
// partition may appear only once per Fetch, so offsets of several groups on the same
// partition go out in rounds. Needs READ on the topic (lag alone needs DESCRIBE); a
// failure here only falls back to interpolation.
import { Fetch } from "../../protocol/generated/apis.ts";
import {
  defaultFetchPartition,
  defaultFetchRequest,
  defaultFetchTopic,
} from "../../protocol/generated/messages/FetchRequest.ts";
import {
  RECORD_BATCH_HEADER_SIZE,
  TimestampType,
  iterateRecords,
  readBatchHeader,
  splitBatches,
} from "../../protocol/records/index.ts";
import type { ClusterClient } from "./cluster-client.ts";
import { ErrorCode } from "./cluster-client.ts";
import { messageOf } from "./connection.ts";

export interface TimestampQuery {
  topic: string;
  partition: number;
  leader: number;
  offset: number;
}

export interface RecordTimestampOptions {
  /** Bytes asked per partition in the first pass; default 16 KiB. */
  partitionMaxBytes?: number;
  /** Largest batch fetched whole in the second pass; default 1 MiB. */
  maxBatchBytes?: number;
  /** Response size limit per Fetch; default 8 MiB. */
  maxResponseBytes?: number;
}

export interface RecordTimestamps {
  /** timestampKey(topic, partition, offset) → record timestamp (ms since the epoch). */
  found: Map<string, number>;
  /** Fetch requests sent. */
  requests: number;
  errors: string[];
}

export function timestampKey(topic: string, partition: number, offset: number): string {
  return `${topic}\0${partition}\0${offset}`;
}

/** Records of open and aborted transactions count too: the lag is in offsets either way. */
const READ_UNCOMMITTED = 0;

/** Bytes to ask for when a cut batch does not even show its length. */
const UNKNOWN_BATCH_GUESS = 256 * 1024;

type Parsed = { timestamp: number } | { retryBytes: number } | null;

export async function fetchRecordTimestamps(
  client: ClusterClient,
  queries: readonly TimestampQuery[],
  opts: RecordTimestampOptions = {},
): Promise<RecordTimestamps> {
  const partitionMaxBytes = opts.partitionMaxBytes ?? 16 * 1024;
  const maxBatchBytes = opts.maxBatchBytes ?? 1024 * 1024;
  const maxResponseBytes = opts.maxResponseBytes ?? 8 * 1024 * 1024;
  const result: RecordTimestamps = { found: new Map(), requests: 0, errors: [] };

  // Rounds: round i holds, for every partition, its i-th distinct offset.
  const rounds: TimestampQuery[][] = [];
  const perPartition = new Map<string, number>();
  const seen = new Set<string>();
  for (const q of queries) {
    const key = timestampKey(q.topic, q.partition, q.offset);
    if (seen.has(key)) continue;
    seen.add(key);
    const pk = `${q.topic}\0${q.partition}`;
    const i = perPartition.get(pk) ?? 0;
    perPartition.set(pk, i + 1);
    (rounds[i] ??= []).push(q);
  }

  for (const round of rounds) {
    const retries: { q: TimestampQuery; bytes: number }[] = [];
    await fetchRound(
      client,
      round.map((q) => ({ q, bytes: partitionMaxBytes })),
      maxResponseBytes,
      result,
      (q, parsed) => {
        if (parsed && "retryBytes" in parsed && parsed.retryBytes <= maxBatchBytes) {
          retries.push({ q, bytes: parsed.retryBytes });
        }
      },
    );
    if (retries.length > 0) await fetchRound(client, retries, maxResponseBytes, result, () => {});
  }
  return result;
}

async function fetchRound(
  client: ClusterClient,
  items: readonly { q: TimestampQuery; bytes: number }[],
  maxResponseBytes: number,
  result: RecordTimestamps,
  onParsed: (q: TimestampQuery, parsed: Parsed) => void,
): Promise<void> {
  const byLeader = new Map<number, { q: TimestampQuery; bytes: number }[]>();
  for (const it of items) {
    const list = byLeader.get(it.q.leader) ?? [];
    list.push(it);
    byLeader.set(it.q.leader, list);
  }
  await Promise.all(
    [...byLeader].map(async ([leader, list]) => {
      const wanted = new Map(list.map((it) => [`${it.q.topic}\0${it.q.partition}`, it.q]));
      const topics = new Map<string, { partition: number; offset: number; bytes: number }[]>();
      for (const it of list) {
        const ps = topics.get(it.q.topic) ?? [];
        ps.push({ partition: it.q.partition, offset: it.q.offset, bytes: it.bytes });
        topics.set(it.q.topic, ps);
      }
      try {
        result.requests++;
        const { body } = await client.send(leader, Fetch, 4, 12, () => ({
          ...defaultFetchRequest(),
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: maxResponseBytes,
          isolationLevel: READ_UNCOMMITTED,
          sessionId: 0,
          sessionEpoch: -1, // no fetch session: a one-off full fetch
          topics: [...topics].map(([topic, ps]) => ({
            ...defaultFetchTopic(),
            topic,
            partitions: ps.map((p) => ({
              ...defaultFetchPartition(),
              partition: p.partition,
              fetchOffset: BigInt(p.offset),
              partitionMaxBytes: p.bytes,
            })),
          })),
        }));
        for (const t of body.responses) {
          for (const p of t.partitions) {
            const q = wanted.get(`${t.topic}\0${p.partitionIndex}`);
            if (!q) continue;
            if (p.errorCode !== ErrorCode.NONE || !p.records || p.records.length === 0) {
              onParsed(q, null);
              continue;
            }
            let parsed: Parsed;
            try {
              parsed = timestampAt(p.records, BigInt(q.offset));
            } catch (err) {
              result.errors.push(`${q.topic}-${q.partition}@${q.offset}: ${messageOf(err)}`);
              parsed = null;
            }
            if (parsed && "timestamp" in parsed) {
              result.found.set(timestampKey(q.topic, q.partition, q.offset), parsed.timestamp);
            }
            onParsed(q, parsed);
          }
        }
      } catch (err) {
        result.errors.push(`Fetch from broker ${leader}: ${messageOf(err)}`);
      }
    }),
  );
}

/**
 * The timestamp of the first data record at or after `offset` in fetched bytes, or how
 * many bytes to ask for to see it, or null (not there: only control records, no
 * timestamp, or an undecodable batch).
 */
export function timestampAt(records: Buffer, offset: bigint): Parsed {
  const { batches, truncated } = splitBatches(records, { allowTruncated: true });
  for (const b of batches) {
    if (b.lastOffset < offset || b.isControl) continue;
    for (const r of iterateRecords(b)) {
      if (r.offset >= offset) return r.timestamp >= 0n ? { timestamp: Number(r.timestamp) } : null;
    }
  }
  if (!truncated) return null;
  if (truncated.available < RECORD_BATCH_HEADER_SIZE) {
    // Not even the length field (a tiny limit): guess generously, the cap still applies.
    return { retryBytes: truncated.size ?? UNKNOWN_BATCH_GUESS };
  }
  const h = readBatchHeader(records, truncated.pos);
  if (!h.isControl && h.baseOffset >= offset) {
    // The wanted record is the batch's first: its timestamp is in the header.
    const ts = h.timestampType === TimestampType.LOG_APPEND_TIME ? h.maxTimestamp : h.baseTimestamp;
    return ts >= 0n ? { timestamp: Number(ts) } : null;
  }
  return { retryBytes: h.size };
}
