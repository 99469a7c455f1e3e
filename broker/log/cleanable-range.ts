// Which part of a compacted log the cleaner may work on, and how dirty it is, as
// Kafka's LogCleanerManager judges it:
//   [log start, first dirty)           the clean section, compacted before
//   [first dirty, first uncleanable)   the dirty section the offset map is built over
//   [first uncleanable, log end)       untouchable: the active segment, anything at or
//                                      past the high watermark (it may still be
//                                      truncated), and segments holding records newer
//                                      than min.compaction.lag.ms
// The first uncleanable offset is rounded down to a segment's base offset: segments
// are cleaned whole.
import type { Log } from "./log.ts";
import type { LogSegment } from "./log-segment.ts";

export interface CleanableRange {
  /** Where the dirty section starts (the cleaner checkpoint, or the log start). */
  firstDirtyOffset: number;
  /** Where the cleanable part ends (exclusive), a segment base offset. */
  firstUncleanableOffset: number;
  /** Bytes of the segments before the dirty section. */
  cleanBytes: number;
  /** Bytes of the segments in the dirty section. */
  cleanableBytes: number;
  totalBytes: number;
  /** cleanableBytes / totalBytes: compared with min.cleanable.dirty.ratio. */
  dirtyRatio: number;
  /** max.compaction.lag.ms has passed for some dirty record: clean whatever the ratio. */
  needCompactionNow: boolean;
  /** The checkpoint was unusable (below the log start or past the log end) and was reset. */
  checkpointReset: boolean;
}

/**
 * The cleanable range of `log` at `now`, given the cleaner's checkpoint (null if it
 * has none) and the partition's high watermark (undefined: the log end).
 */
export async function cleanableRange(
  log: Log,
  checkpoint: number | null,
  now: number,
  highWatermark?: number,
): Promise<CleanableRange> {
  const segments = log.logSegments;
  const active = segments[segments.length - 1];
  const logStart = log.logStartOffset;
  const logEnd = active.nextOffset;
  const config = log.config;

  let firstDirty = checkpoint ?? logStart;
  let checkpointReset = false;
  if (firstDirty < logStart || firstDirty > logEnd) {
    // Below the start: retention or DeleteRecords removed what it pointed at. Past the
    // end: the log lost its tail (truncation, corruption); assume it all needs cleaning.
    firstDirty = logStart;
    checkpointReset = checkpoint !== null;
  }

  let uncleanable = Math.min(active.baseOffset, highWatermark ?? logEnd);
  const minLag = Math.max(0, config["min.compaction.lag.ms"]);
  const dirtyInactive = segmentsFrom(segments, firstDirty).slice(0, -1);
  if (minLag > 0) {
    const young = dirtyInactive.find((s) => s.largestTimestamp > now - minLag);
    if (young !== undefined) uncleanable = Math.min(uncleanable, young.baseOffset);
  }
  uncleanable = Math.max(firstDirty, uncleanable);
  const firstUncleanable = Math.min(
    segments[floorIndex(segments, uncleanable)].baseOffset,
    active.baseOffset,
  );

  const cleanBytes = sizeOf(segments.filter((s) => s.baseOffset < firstDirty));
  const cleanableBytes = sizeOf(
    segmentsFrom(segments, Math.min(firstDirty, firstUncleanable)).filter(
      (s) => s.baseOffset < firstUncleanable,
    ),
  );
  const totalBytes = cleanBytes + cleanableBytes;

  let needCompactionNow = false;
  const maxLag = Math.max(0, config["max.compaction.lag.ms"]);
  if (now - maxLag > 0) {
    for (const segment of dirtyInactive) {
      const first = await segment.firstBatchTimestamp();
      if (first !== null && first > 0 && first < now - maxLag) {
        needCompactionNow = true;
        break;
      }
    }
  }

  return {
    firstDirtyOffset: firstDirty,
    firstUncleanableOffset: firstUncleanable,
    cleanBytes,
    cleanableBytes,
    totalBytes,
    dirtyRatio: totalBytes > 0 ? cleanableBytes / totalBytes : 0,
    needCompactionNow,
    checkpointReset,
  };
}

export interface GroupLimits {
  /** segment.bytes: a group's .log files together. */
  maxBytes: number;
  /** segment.index.bytes: a group's offset indexes, and separately its time indexes, together. */
  maxIndexBytes: number;
}

/**
 * Splits consecutive segments into runs that are each rewritten into one segment,
 * so compaction also merges the small segments it leaves behind: a run stays within
 * segment.bytes of data and segment.index.bytes of each index, and spans offsets an
 * index can hold (int32 relative offsets). `upperBound` bounds the last segment's offsets.
 */
export function groupSegments(
  segments: readonly LogSegment[],
  limits: GroupLimits,
  upperBound: number,
): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]];
    let bytes = segments[i].size;
    let offsetIndexBytes = segments[i].offsetIndex.entries * 8;
    let timeIndexBytes = segments[i].timeIndex.entries * 12;
    i++;
    while (i < segments.length) {
      const next = segments[i];
      const lastOffset = i + 1 < segments.length ? segments[i + 1].baseOffset - 1 : upperBound - 1;
      if (
        bytes + next.size > limits.maxBytes ||
        offsetIndexBytes + next.offsetIndex.entries * 8 > limits.maxIndexBytes ||
        timeIndexBytes + next.timeIndex.entries * 12 > limits.maxIndexBytes ||
        (next.size > 0 && lastOffset - group[0].baseOffset > 0x7fffffff)
      ) {
        break;
      }
      group.push(next);
      bytes += next.size;
      offsetIndexBytes += next.offsetIndex.entries * 8;
      timeIndexBytes += next.timeIndex.entries * 12;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/** The segments from the one holding `offset` on (all of them if it precedes the first). */
export function segmentsFrom(segments: readonly LogSegment[], offset: number): readonly LogSegment[] {
  return segments.slice(floorIndex(segments, offset));
}

function sizeOf(segments: readonly LogSegment[]): number {
  let total = 0;
  for (const s of segments) total += s.size;
  return total;
}

/** Index of the last segment whose base offset is <= offset (0 when offset precedes them all). */
function floorIndex(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
