// Where the coordinator keeps its records: the partitions of __consumer_offsets. The
// coordinator only appends whole batches (acknowledged once committed, acks=all) and,
// when it takes over a partition, reads the partition's batches back from the start.
// The broker's implementation goes through the replica manager, so appends advance
// the high watermark and wake fetchers (Burrow and Kafka's tools read this topic);
// tests use testing.ts's in-memory one.
import { readBatchHeader } from "../../protocol/records/index.ts";
import type { ReplicaManager } from "../replica-manager.ts";

export const OFFSETS_TOPIC = "__consumer_offsets";

export interface OffsetsLog {
  /** Appends one batch to a partition; resolves once it is committed. */
  append(partition: number, batch: Buffer): Promise<void>;
  /** The partition's committed batches in offset order, each a whole batch. */
  batches(partition: number): AsyncIterable<Buffer>;
}

/** Bytes read per step while loading a partition. */
const LOAD_READ_BYTES = 1 << 20;

export class ReplicaOffsetsLog implements OffsetsLog {
  private readonly replicas: ReplicaManager;

  constructor(replicas: ReplicaManager) {
    this.replicas = replicas;
  }

  async append(partition: number, batch: Buffer): Promise<void> {
    await this.replicas.appendRecords(OFFSETS_TOPIC, partition, batch, -1);
  }

  async *batches(partition: number): AsyncGenerator<Buffer> {
    const p = this.replicas.get(OFFSETS_TOPIC, partition);
    if (!p) return;
    let offset = p.log.logStartOffset;
    // Up to the log end, as Kafka does: a new leader's high watermark may trail what its
    // predecessor acknowledged, and everything in the leader's log stays (it never truncates).
    const end = p.log.logEndOffset;
    while (offset < end) {
      const read = await p.log.read(offset, LOAD_READ_BYTES, { maxOffset: end, minOneBatch: true });
      if (read.records.length === 0) break;
      const before = offset;
      let pos = 0;
      while (pos < read.records.length) {
        const header = readBatchHeader(read.records, pos);
        if (!header.isComplete) break;
        // A read may start inside a batch (compaction leaves gaps); skip what was seen.
        if (header.nextOffset > BigInt(offset)) {
          yield read.records.subarray(pos, header.end);
          offset = Number(header.nextOffset);
        }
        pos = header.end;
      }
      if (offset === before) break;
    }
  }
}
