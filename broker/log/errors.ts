// Errors the partition log throws. Those a client can see extend KafkaError, so a
// request handler answers with the right Kafka error code without translating;
// the rest describe damaged files and are handled inside this folder (an index is
// rebuilt, a snapshot is skipped).
import { KafkaError } from "../errors.ts";

/** A read or offset lookup outside [logStartOffset, logEndOffset]. */
export class OffsetOutOfRangeError extends KafkaError {
  readonly offset: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;

  constructor(offset: number, logStartOffset: number, logEndOffset: number, what = "Offset") {
    super(
      "OFFSET_OUT_OF_RANGE",
      `${what} ${offset} is out of range: the log holds offsets ${logStartOffset} to ${logEndOffset}`,
    );
    this.name = "OffsetOutOfRangeError";
    this.offset = offset;
    this.logStartOffset = logStartOffset;
    this.logEndOffset = logEndOffset;
  }
}

/** The idempotent-producer checks a batch failed (Kafka's ProducerAppendInfo errors). */
export type ProducerStateErrorName = "OUT_OF_ORDER_SEQUENCE_NUMBER" | "INVALID_PRODUCER_EPOCH";

export class ProducerStateError extends KafkaError {
  readonly producerId: bigint;

  constructor(name: ProducerStateErrorName, producerId: bigint, message: string) {
    super(name, message);
    this.name = "ProducerStateError";
    this.producerId = producerId;
  }
}

/**
 * The log can no longer be written: a write or fsync failed, or it was closed. Kafka
 * takes the whole log dir offline on an I/O error; we stop the one log, and clients
 * get KAFKA_STORAGE_ERROR, on which they refresh metadata and retry elsewhere.
 */
export class LogStorageError extends KafkaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("KAFKA_STORAGE_ERROR", message);
    this.name = "LogStorageError";
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** An index file that fails its sanity check; the segment's indexes are rebuilt. */
export class CorruptIndexError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "CorruptIndexError";
    this.path = path;
  }
}

/** A segment's batches do not frame or check out; recovery truncates at that point. */
export class CorruptRecordsError extends Error {
  readonly path: string;
  readonly position: number;

  constructor(path: string, position: number, message: string, options?: { cause?: unknown }) {
    super(`${path} at byte ${position}: ${message}`, options);
    this.name = "CorruptRecordsError";
    this.path = path;
    this.position = position;
  }
}

/** A producer-state snapshot that is unreadable; the next older one is tried. */
export class CorruptSnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorruptSnapshotError";
  }
}
