// Partition storage in Apache Kafka's on-disk layout: segments (.log/.index/.timeindex),
// checkpoints, leader-epoch history and idempotent-producer state, per partition (Log)
// and per broker (LogManager).
export {
  CorruptIndexError,
  CorruptRecordsError,
  CorruptSnapshotError,
  LogStorageError,
  OffsetOutOfRangeError,
  ProducerStateError,
  type ProducerStateErrorName,
} from "./errors.ts";
export {
  DEFAULT_LOG_CONFIG,
  hasCompactPolicy,
  hasDeletePolicy,
  logConfigFromProperties,
  maxSegmentMs,
  type LogConfig,
  type TimestampTypeName,
} from "./log-config.ts";
export {
  EARLIEST_LOCAL_TIMESTAMP,
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  Log,
  MAX_TIMESTAMP,
  type AppendOptions,
  type LogAppendResult,
  type LogOpenOptions,
  type LogReadResult,
  type ReadOptions,
} from "./log.ts";
export { LogManager, METADATA_TOPIC, type LogManagerOptions } from "./log-manager.ts";
export {
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LogCleaner,
  type CleanResult,
  type LogCleanerOptions,
} from "./log-cleaner.ts";
export type { CleanableRange } from "./cleanable-range.ts";
export { LogSegment, type SegmentReadResult, type TimestampAndOffset } from "./log-segment.ts";
export { OffsetIndex, type OffsetPosition } from "./offset-index.ts";
export { TimeIndex, type TimestampOffset } from "./time-index.ts";
export { LeaderEpochFileCache, type EpochEndOffset, type EpochEntry } from "./leader-epoch-cache.ts";
export {
  NUM_BATCHES_TO_RETAIN,
  ProducerStateManager,
  type BatchMetadata,
  type ProducerBatch,
  type ProducerStateEntry,
} from "./producer-state.ts";
export {
  readMetaProperties,
  readOffsetCheckpoint,
  writeMetaProperties,
  writeOffsetCheckpoint,
  type MetaProperties,
  type OffsetCheckpointEntry,
} from "./checkpoints.ts";
export { readPartitionMetadata, writePartitionMetadata } from "./partition-metadata.ts";
