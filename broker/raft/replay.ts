// Handing committed entries to the state machine: the data records of each batch
// (control batches, the Raft layer's own, are skipped). Also the start-up replay: a
// broker rebuilds its metadata image from the latest snapshot and the log up to what
// it knows was committed, before it opens partition logs or contacts the quorum.
import type { RecordBatchHeader } from "../../protocol/records/index.ts";
import { iterateRecords, splitBatches } from "../../protocol/records/index.ts";
import type { CommittedBatch, RaftListener } from "./raft-client.ts";
import type { RaftLog } from "./raft-log.ts";

/** The batch's data records at or after `from`, or null for a control batch. */
export function committedBatch(b: RecordBatchHeader, from: number): CommittedBatch | null {
  if (b.isControl) return null;
  const values: Buffer[] = [];
  for (const r of iterateRecords(b)) if (r.value !== null && Number(r.offset) >= from) values.push(r.value);
  return {
    baseOffset: Number(b.baseOffset),
    lastOffset: Number(b.nextOffset) - 1,
    epoch: b.partitionLeaderEpoch,
    appendTimestamp: Number(b.maxTimestamp),
    values,
  };
}

/**
 * Gives `listener` the latest snapshot and the entries below `upTo`; returns the
 * offset after the last one given.
 */
export async function replayCommitted(log: RaftLog, upTo: number, listener: RaftListener): Promise<number> {
  let next = log.startOffset;
  const snap = log.latestSnapshot;
  if (snap && snap.endOffset > 0) {
    await listener.handleLoadSnapshot({ id: snap, values: await log.readSnapshot(snap) });
    next = snap.endOffset;
  }
  const limit = Math.min(upTo, log.endOffset);
  while (next < limit) {
    const records = await log.read(next, 1 << 20, limit);
    const { batches } = splitBatches(records);
    if (batches.length === 0) break;
    for (const b of batches) {
      if (Number(b.nextOffset) <= next) continue;
      const batch = committedBatch(b, next);
      if (batch) await listener.handleCommit(batch);
      next = Number(b.nextOffset);
    }
  }
  return next;
}
