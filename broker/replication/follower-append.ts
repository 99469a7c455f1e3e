// A follower's append: batches fetched from the leader keep the offsets and leader
// epochs the leader gave them. The log assigns offsets from its end and stamps one
// epoch per append, so runs of batches of the same epoch are appended together, and
// the first offset must be exactly the log end (anything else means the caller
// fetched from the wrong place and must not write).
import { splitBatches } from "../../protocol/records/batch.ts";
import type { Log } from "../log/log.ts";

export class FollowerAppendError extends Error {
  override name = "FollowerAppendError";
}

/** Appends whole fetched batches (a partial last one is left for the next fetch); returns the record count. */
export async function appendReplicated(log: Log, records: Buffer, maxBatchSize?: number): Promise<number> {
  const { batches } = splitBatches(records, { allowTruncated: true, maxBatchSize });
  if (batches.length === 0) return 0;
  if (Number(batches[0].baseOffset) !== log.logEndOffset) {
    throw new FollowerAppendError(
      `fetched batches of ${log.topic}-${log.partition} start at ${batches[0].baseOffset}, the log ends at ${log.logEndOffset}`,
    );
  }
  let appended = 0;
  let i = 0;
  while (i < batches.length) {
    const epoch = batches[i].partitionLeaderEpoch;
    let j = i;
    while (j + 1 < batches.length && batches[j + 1].partitionLeaderEpoch === epoch) j++;
    const r = await log.append(records.subarray(batches[i].pos, batches[j].end), {
      leaderEpoch: epoch,
      timestampType: "CreateTime",
      now: Date.now(),
      replicated: true,
    });
    if (r.duplicateOf === null && r.firstOffset !== Number(batches[i].baseOffset)) {
      throw new FollowerAppendError(
        `follower append landed at ${r.firstOffset}, not ${batches[i].baseOffset}`,
      );
    }
    appended += Number(batches[j].nextOffset - batches[i].baseOffset);
    i = j + 1;
  }
  return appended;
}
