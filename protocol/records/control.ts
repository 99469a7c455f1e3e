// Control records: the broker-written records of control batches. Their key says
// what they are (version int16 | type int16); the commonest are the transaction
// markers that end a transaction on each partition it wrote to, whose value is
// version int16 | coordinatorEpoch int32. Readers skip control records, except to
// learn where transactions end.
import { TimestampType } from "./batch.ts";
import { RecordBatchError } from "./errors.ts";
import { buildRecordBatch } from "./record.ts";

export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

const CONTROL_KEY_SIZE = 4;
const END_TXN_MARKER_SIZE = 6;

export interface ControlKey {
  version: number;
  /** A ControlRecordType, or a type newer than this code knows. */
  type: number;
}

export function encodeControlKey(type: number, version = 0): Buffer {
  const b = Buffer.allocUnsafe(CONTROL_KEY_SIZE);
  b.writeInt16BE(version, 0);
  b.writeInt16BE(type, 2);
  return b;
}

/** Reads a control record's key; bytes after the type are allowed (later versions may add fields). */
export function decodeControlKey(key: Buffer | null): ControlKey {
  if (key === null || key.length < CONTROL_KEY_SIZE) {
    throw new RecordBatchError(
      "INVALID_RECORD",
      `control record key of ${key?.length ?? "null"} bytes, need 4`,
    );
  }
  const version = key.readInt16BE(0);
  if (version < 0) throw new RecordBatchError("INVALID_RECORD", `control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

export interface EndTxnMarker {
  version: number;
  /** The epoch of the transaction coordinator that wrote it, to fence a deposed one. */
  coordinatorEpoch: number;
}

export function encodeEndTxnMarker(coordinatorEpoch: number, version = 0): Buffer {
  const b = Buffer.allocUnsafe(END_TXN_MARKER_SIZE);
  b.writeInt16BE(version, 0);
  b.writeInt32BE(coordinatorEpoch, 2);
  return b;
}

export function decodeEndTxnMarker(value: Buffer | null): EndTxnMarker {
  if (value === null || value.length < END_TXN_MARKER_SIZE) {
    throw new RecordBatchError(
      "INVALID_RECORD",
      `transaction marker value of ${value?.length ?? "null"} bytes, need ${END_TXN_MARKER_SIZE}`,
    );
  }
  const version = value.readInt16BE(0);
  if (version < 0) throw new RecordBatchError("INVALID_RECORD", `transaction marker version ${version}`);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

export interface EndTxnMarkerBatchOptions {
  /** Commit (true) or abort (false) the producer's open transaction. */
  commit: boolean;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  /** Defaults to now. */
  timestamp?: bigint;
}

/**
 * The one-record control batch the broker appends to end a transaction on a
 * partition: transactional and control bits set, no sequence number.
 */
export function buildEndTxnMarkerBatch(options: EndTxnMarkerBatchOptions): Buffer {
  const type = options.commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT;
  return buildRecordBatch({
    records: [{ key: encodeControlKey(type), value: encodeEndTxnMarker(options.coordinatorEpoch) }],
    baseOffset: options.baseOffset,
    partitionLeaderEpoch: options.partitionLeaderEpoch,
    timestampType: TimestampType.CREATE_TIME,
    timestamp: options.timestamp,
    transactional: true,
    control: true,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
  });
}
