// The high watermarks of a log dir's partitions, in Kafka's
// replication-offset-checkpoint file, written every few seconds and at shutdown. A
// restarted broker starts each partition's high watermark there rather than at the
// log end: records above it may never have reached the other replicas, and consumers
// must not see them before the leader says they are committed.
import path from "node:path";
import { readOffsetCheckpoint, writeOffsetCheckpoint } from "../log/checkpoints.ts";

export const REPLICATION_OFFSET_CHECKPOINT_FILE = "replication-offset-checkpoint";

export interface HighWatermarkEntry {
  logDir: string;
  topic: string;
  partition: number;
  offset: number;
}

const key = (topic: string, partition: number) => `${topic}-${partition}`;

/** Every partition's checkpointed high watermark, by "topic-partition". */
export async function readHighWatermarks(logDirs: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const dir of logDirs) {
    try {
      for (const e of await readOffsetCheckpoint(path.join(dir, REPLICATION_OFFSET_CHECKPOINT_FILE))) {
        out.set(key(e.topic, e.partition), e.offset);
      }
    } catch {
      // An unreadable checkpoint only costs visibility until the leaders report again.
    }
  }
  return out;
}

/** Rewrites each log dir's checkpoint with its partitions' entries. */
export async function writeHighWatermarks(
  logDirs: readonly string[],
  entries: readonly HighWatermarkEntry[],
): Promise<void> {
  for (const dir of logDirs) {
    await writeOffsetCheckpoint(
      path.join(dir, REPLICATION_OFFSET_CHECKPOINT_FILE),
      entries.filter((e) => path.resolve(e.logDir) === path.resolve(dir)),
    );
  }
}
