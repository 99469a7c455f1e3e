// Tidies a partition directory before its segments are opened, as Kafka's LogLoader
// does after a crash: half-done work leaves files behind.
//   *.deleted   segments already dropped (retention, truncation)   -> delete
//   *.cleaned   compaction output never swapped in                  -> delete
//   *.tmp       checkpoint or snapshot writes never renamed         -> delete
//   *.log.swap  a replacement segment that was ready to swap in     -> finish the swap
//               (Log.replaceSegments fsyncs it, and its .swap name, before touching
//               the segments it replaces, so it is always complete)
//   an .index or .timeindex without its .log                        -> delete
import { readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../lib/logger.ts";
import { CorruptRecordsError } from "./errors.ts";
import { FileRecords, lastOffsetOf } from "./file-records.ts";
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
  TMP_FILE_SUFFIX,
  TXN_INDEX_FILE_SUFFIX,
  logFilePath,
  offsetFromFileName,
  offsetIndexFilePath,
  timeIndexFilePath,
} from "./file-names.ts";

const SEGMENT_SUFFIXES = [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX];

/** Cleans up `dir` and returns the base offsets of its segments, ascending. */
export async function prepareSegmentFiles(dir: string, logger: Logger): Promise<number[]> {
  let names = await readdir(dir);
  for (const name of names) {
    if (
      name.endsWith(DELETED_FILE_SUFFIX) ||
      name.endsWith(CLEANED_FILE_SUFFIX) ||
      name.endsWith(TMP_FILE_SUFFIX)
    ) {
      logger.debug("deleting a leftover file", { file: path.join(dir, name) });
      await rm(path.join(dir, name), { force: true });
    }
  }
  names = await readdir(dir);
  for (const name of names) {
    if (name.endsWith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX)) await completeSwap(dir, name, names, logger);
  }
  names = await readdir(dir);
  for (const name of names) {
    if (name.endsWith(SWAP_FILE_SUFFIX)) await rm(path.join(dir, name), { force: true }); // index swaps: rebuilt
  }

  names = await readdir(dir);
  const logs = new Set<number>();
  for (const name of names) {
    if (!name.endsWith(LOG_FILE_SUFFIX)) continue;
    const offset = offsetFromFileName(name);
    if (offset !== null && name === path.basename(logFilePath(dir, offset))) logs.add(offset);
  }
  for (const name of names) {
    if (
      !name.endsWith(INDEX_FILE_SUFFIX) &&
      !name.endsWith(TIME_INDEX_FILE_SUFFIX) &&
      !name.endsWith(TXN_INDEX_FILE_SUFFIX)
    ) {
      continue;
    }
    const offset = offsetFromFileName(name);
    if (offset !== null && !logs.has(offset)) {
      logger.warn("deleting an index file whose log file is missing", { file: path.join(dir, name) });
      await rm(path.join(dir, name), { force: true });
    }
  }
  return [...logs].sort((a, b) => a - b);
}

/**
 * A crash came after compaction wrote its replacement segment (X.log.swap) but
 * before the segments it replaces were deleted: delete those and rename the swap
 * file into place. Its indexes are rebuilt when the segment is loaded.
 */
async function completeSwap(
  dir: string,
  swapName: string,
  names: readonly string[],
  logger: Logger,
): Promise<void> {
  const swapPath = path.join(dir, swapName);
  const base = offsetFromFileName(swapName);
  if (base === null) {
    await rm(swapPath, { force: true });
    return;
  }
  let next = base;
  const records = await FileRecords.open(swapPath, false);
  try {
    for await (const { header } of records.batches()) next = lastOffsetOf(header) + 1;
  } catch (e) {
    if (!(e instanceof CorruptRecordsError)) throw e;
    logger.warn("deleting an unreadable swap segment", { file: swapPath, problem: e.message });
    await records.close();
    await rm(swapPath, { force: true });
    return;
  }
  await records.close();
  for (const name of names) {
    if (name.endsWith(SWAP_FILE_SUFFIX) || !SEGMENT_SUFFIXES.some((s) => name.endsWith(s))) continue;
    const offset = offsetFromFileName(name);
    if (offset !== null && offset >= base && offset < Math.max(next, base + 1)) {
      logger.info("deleting a segment replaced by a swap segment", {
        file: path.join(dir, name),
        swap: swapPath,
      });
      await rm(path.join(dir, name), { force: true });
    }
  }
  await rm(offsetIndexFilePath(dir, base), { force: true });
  await rm(timeIndexFilePath(dir, base), { force: true });
  await rename(swapPath, logFilePath(dir, base));
  logger.info("completed an interrupted segment swap", { file: logFilePath(dir, base) });
}
