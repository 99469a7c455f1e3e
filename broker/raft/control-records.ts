// The Raft layer's own records in the metadata log and in snapshots: control batches
// holding a LeaderChangeMessage (the first entry of every leader epoch, which commits
// the epoch), and the SnapshotHeader / SnapshotFooter that frame a snapshot file. As
// in Kafka, a control record's key is (version int16, type int16) and its value the
// message at version 0. Also the NoOpRecord the leader writes when idle: an ordinary
// metadata record (frame version 1, type 20, version 0, empty body).
import { ControlRecordType, encodeControlKey, decodeControlKey } from "../../protocol/records/control.ts";
import { buildRecordBatch } from "../../protocol/records/record.ts";
import { TimestampType } from "../../protocol/records/batch.ts";
import { Reader, Writer } from "../../protocol/wire/index.ts";
import {
  type LeaderChangeMessage,
  decodeLeaderChangeMessage,
  encodeLeaderChangeMessage,
} from "../../protocol/generated/messages/LeaderChangeMessage.ts";
import { encodeSnapshotHeaderRecord } from "../../protocol/generated/messages/SnapshotHeaderRecord.ts";
import { encodeSnapshotFooterRecord } from "../../protocol/generated/messages/SnapshotFooterRecord.ts";
import { NoOpRecordSchema, encodeNoOpRecord } from "../../protocol/generated/metadata/NoOpRecord.ts";
import { ZERO_UUID } from "../../protocol/wire/index.ts";

function controlBatch(
  type: number,
  value: Buffer,
  epoch: number,
  timestamp: bigint,
  baseOffset = 0n,
): Buffer {
  return buildRecordBatch({
    records: [{ key: encodeControlKey(type), value }],
    baseOffset,
    partitionLeaderEpoch: epoch,
    timestampType: TimestampType.CREATE_TIME,
    timestamp,
    control: true,
  });
}

/** The LeaderChangeMessage batch a new leader appends first in its epoch. */
export function leaderChangeBatch(
  leaderId: number,
  epoch: number,
  voters: readonly number[],
  grantingVoters: readonly number[],
  now = Date.now(),
): Buffer {
  const w = new Writer(64);
  encodeLeaderChangeMessage(
    w,
    {
      version: 0,
      leaderId,
      voters: voters.map((voterId) => ({ voterId, voterDirectoryId: ZERO_UUID })),
      grantingVoters: grantingVoters.map((voterId) => ({ voterId, voterDirectoryId: ZERO_UUID })),
    },
    0,
  );
  return controlBatch(ControlRecordType.LEADER_CHANGE, w.toBuffer(), epoch, BigInt(now));
}

export function snapshotHeaderBatch(lastContainedLogTimestamp: number, epoch: number): Buffer {
  const w = new Writer(16);
  encodeSnapshotHeaderRecord(
    w,
    { version: 0, lastContainedLogTimestamp: BigInt(lastContainedLogTimestamp) },
    0,
  );
  return controlBatch(ControlRecordType.SNAPSHOT_HEADER, w.toBuffer(), epoch, BigInt(Date.now()));
}

export function snapshotFooterBatch(epoch: number, baseOffset: bigint): Buffer {
  const w = new Writer(8);
  encodeSnapshotFooterRecord(w, { version: 0 }, 0);
  return controlBatch(ControlRecordType.SNAPSHOT_FOOTER, w.toBuffer(), epoch, BigInt(Date.now()), baseOffset);
}

/** The type of a control record, from its key. */
export function controlTypeOf(key: Buffer | null): number {
  return decodeControlKey(key).type;
}

export function decodeLeaderChange(value: Buffer): LeaderChangeMessage {
  return decodeLeaderChangeMessage(new Reader(value), 0);
}

/** A framed NoOpRecord: the leader's heartbeat through the log. */
export function noOpRecordValue(): Buffer {
  const w = new Writer(8);
  w.uvarint(1);
  w.uvarint(NoOpRecordSchema.apiKey);
  w.uvarint(0);
  encodeNoOpRecord(w, {}, 0);
  return w.toBuffer();
}
