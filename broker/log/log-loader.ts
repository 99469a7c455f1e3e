// Opening a partition directory's segments, Kafka's LogLoader in small: tidy the
// leftovers of interrupted work, then for each segment either trust it (below the
// recovery point after a clean shutdown: load and sanity-check its indexes) or check
// it batch by batch (it may hold writes that never reached the disk whole), and
// rebuild the idempotent-producer state from a snapshot plus the batches after it.
import type { Logger } from "../../lib/logger.ts";
import type { RecordBatchHeader } from "../../protocol/records/index.ts";
import { CorruptIndexError, CorruptRecordsError } from "./errors.ts";
import { lastOffsetOf } from "./file-records.ts";
import type { LeaderEpochFileCache } from "./leader-epoch-cache.ts";
import { LogSegment, type LogSegmentOptions } from "./log-segment.ts";
import { producerBatchOf, type ProducerStateManager } from "./producer-state.ts";
import { prepareSegmentFiles } from "./segment-files.ts";

export interface LoadSegmentsOptions {
  dir: string;
  segmentOptions: LogSegmentOptions;
  /** Batches larger than this are treated as corruption during recovery. */
  maxBatchSize: number;
  hadCleanShutdown: boolean;
  /** Offset below which everything was fsynced; segments from the one holding it on are checked. */
  recoveryPoint: number;
  /** Recovered batches add their leader epochs here, as Kafka's recovery does. */
  epochCache: LeaderEpochFileCache;
  logger: Logger;
}

export interface LoadedSegments {
  /** Ascending by base offset; possibly empty. */
  segments: LogSegment[];
  /** Whether recovery added epochs to the cache (it then needs writing). */
  epochsChanged: boolean;
}

/** Opens, checks and if needed recovers the segments in `dir`. */
export async function loadSegments(o: LoadSegmentsOptions): Promise<LoadedSegments> {
  const { logger, epochCache } = o;
  const baseOffsets = await prepareSegmentFiles(o.dir, logger);
  const segments: LogSegment[] = [];
  try {
    for (const base of baseOffsets) segments.push(await LogSegment.open(o.dir, base, o.segmentOptions));
  } catch (e) {
    await Promise.allSettled(segments.map((s) => s.closeHandlers()));
    throw e;
  }

  let epochsChanged = false;
  const assignEpoch = (header: RecordBatchHeader): void => {
    const epoch = header.partitionLeaderEpoch;
    const latest = epochCache.latestEpoch;
    if (epoch >= 0 && (latest === null || epoch > latest)) {
      epochsChanged = epochCache.assign(epoch, Number(header.baseOffset)) || epochsChanged;
    }
  };

  try {
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      const next = segments[i + 1];
      const unflushed = !o.hadCleanShutdown && (next === undefined || next.baseOffset > o.recoveryPoint);
      let truncated = 0;
      if (unflushed) {
        truncated = await segment.recover(o.maxBatchSize, assignEpoch);
      } else {
        try {
          await segment.load();
        } catch (e) {
          if (!(e instanceof CorruptIndexError || e instanceof CorruptRecordsError)) throw e;
          logger.warn("rebuilding the indexes of a log segment", {
            file: segment.log.path,
            problem: e.message,
          });
          truncated = await segment.recover(o.maxBatchSize, assignEpoch);
        }
      }
      if (truncated === 0) continue;
      logger.warn("truncated the log during recovery", {
        file: segment.log.path,
        offset: segment.nextOffset,
        position: segment.size,
        truncatedBytes: truncated,
      });
      if (unflushed && next !== undefined) {
        // Nothing written after a torn write can be trusted to be complete: drop the later segments, as Kafka does.
        const dropped = segments.splice(i + 1);
        logger.warn("deleting the segments after it", {
          file: segment.log.path,
          deletedSegments: dropped.map((s) => s.baseOffset),
        });
        for (const s of dropped) await s.delete();
        break;
      }
    }
  } catch (e) {
    await Promise.allSettled(segments.map((s) => s.closeHandlers()));
    throw e;
  }
  return { segments, epochsChanged };
}

/**
 * Rebuilds the producer state for the log up to `lastOffset`: the newest snapshot at
 * or below it, then every batch from the snapshot's offset on (all of them if there
 * is no snapshot, e.g. a log first written by another broker).
 */
export async function rebuildProducerState(
  psm: ProducerStateManager,
  segments: readonly LogSegment[],
  lastOffset: number,
  logger: Logger,
): Promise<void> {
  const loaded = await psm.loadLatestSnapshot(lastOffset);
  const from = Math.max(loaded ?? 0, segments[0].baseOffset);
  psm.updateMapEndOffset(from);
  let replayed = 0;
  for (const segment of segments) {
    if (segment.nextOffset <= from || segment.size === 0) continue;
    if (segment.baseOffset >= lastOffset) break;
    const start = segment.offsetIndex.lookup(from).position;
    for await (const { header } of segment.log.batches(start)) {
      const base = Number(header.baseOffset);
      if (base >= lastOffset) break;
      if (base < from) continue;
      const batch = producerBatchOf(header);
      if (batch !== null) {
        psm.update({ ...batch, firstOffset: base, lastOffset: lastOffsetOf(header) });
        replayed++;
      }
    }
  }
  psm.updateMapEndOffset(lastOffset);
  if (replayed > 0 || loaded === null) {
    logger.debug("rebuilt producer state", {
      snapshot: loaded,
      from,
      to: lastOffset,
      replayedBatches: replayed,
    });
  }
}
