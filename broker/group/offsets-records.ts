// The records of __consumer_offsets in Kafka's own format, so Kafka's tools, Burrow
// and a Kafka broker reading the same log see what Kafka would have written: the key
// is an int16 version that doubles as the record type (0/1 offset commit, 2 group
// metadata; 3+ belong to KIP-848/KIP-932 groups and are skipped here) followed by the
// key struct; the value is an int16 version followed by the value struct, or null for
// a tombstone that deletes the key. The structs are the generated codecs of
// protocol/generated/internal.
import {
  decodeGroupMetadataKey,
  encodeGroupMetadataKey,
} from "../../protocol/generated/internal/GroupMetadataKey.ts";
import {
  type GroupMetadataValue,
  decodeGroupMetadataValue,
  encodeGroupMetadataValue,
} from "../../protocol/generated/internal/GroupMetadataValue.ts";
import {
  decodeOffsetCommitKey,
  encodeOffsetCommitKey,
} from "../../protocol/generated/internal/OffsetCommitKey.ts";
import {
  type OffsetCommitValue,
  decodeOffsetCommitValue,
  encodeOffsetCommitValue,
} from "../../protocol/generated/internal/OffsetCommitValue.ts";
import { Reader, Writer } from "../../protocol/wire/index.ts";

export type {
  GroupMetadataValue,
  MemberMetadata,
} from "../../protocol/generated/internal/GroupMetadataValue.ts";
export type { OffsetCommitValue } from "../../protocol/generated/internal/OffsetCommitValue.ts";

/** Key version Kafka writes for offset commits (0 was the ZooKeeper-era twin). */
export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
/**
 * Value versions Kafka 2.1+ writes (MetadataVersion.offsetCommitValueVersion and
 * groupMetadataValueVersion): the newest non-flexible ones, which every reader of
 * __consumer_offsets understands. An offset committed with an explicit retention time
 * (OffsetCommit v2-4) carries an expire timestamp, which only value version 1 has.
 */
export const OFFSET_COMMIT_VALUE_VERSION = 3;
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1;
export const GROUP_METADATA_VALUE_VERSION = 3;

export type OffsetsTopicRecord =
  | { type: "offset"; group: string; topic: string; partition: number; value: OffsetCommitValue | null }
  | { type: "group"; group: string; value: GroupMetadataValue | null }
  /** A record type this coordinator does not keep (consumer-protocol and share groups). */
  | { type: "other"; keyVersion: number };

/** The key and value bytes of a record; value null is a tombstone. */
export function encodeOffsetsTopicRecord(r: OffsetsTopicRecord): { key: Buffer; value: Buffer | null } {
  const key = new Writer(64);
  let value: Writer | null = null;
  switch (r.type) {
    case "offset": {
      key.int16(OFFSET_COMMIT_KEY_VERSION);
      encodeOffsetCommitKey(key, { group: r.group, topic: r.topic, partition: r.partition }, 1);
      if (r.value) {
        const version =
          r.value.expireTimestamp >= 0n
            ? OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY
            : OFFSET_COMMIT_VALUE_VERSION;
        value = new Writer(64);
        value.int16(version);
        encodeOffsetCommitValue(value, r.value, version);
      }
      break;
    }
    case "group": {
      key.int16(GROUP_METADATA_KEY_VERSION);
      encodeGroupMetadataKey(key, { group: r.group }, GROUP_METADATA_KEY_VERSION);
      if (r.value) {
        value = new Writer(256);
        value.int16(GROUP_METADATA_VALUE_VERSION);
        encodeGroupMetadataValue(value, r.value, GROUP_METADATA_VALUE_VERSION);
      }
      break;
    }
    case "other":
      throw new Error(`record type ${r.keyVersion} is not written by the classic group coordinator`);
  }
  return { key: key.toBuffer(), value: value ? value.toBuffer() : null };
}

/** Decodes a record read from __consumer_offsets. Throws ProtocolError on bytes that do not parse. */
export function decodeOffsetsTopicRecord(key: Buffer, value: Buffer | null): OffsetsTopicRecord {
  const k = new Reader(key);
  const keyVersion = k.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const ck = decodeOffsetCommitKey(k, keyVersion);
    let v: OffsetCommitValue | null = null;
    if (value !== null) {
      const r = new Reader(value);
      v = decodeOffsetCommitValue(r, r.int16());
    }
    return { type: "offset", group: ck.group, topic: ck.topic, partition: ck.partition, value: v };
  }
  if (keyVersion === GROUP_METADATA_KEY_VERSION) {
    const gk = decodeGroupMetadataKey(k, keyVersion);
    let v: GroupMetadataValue | null = null;
    if (value !== null) {
      const r = new Reader(value);
      v = decodeGroupMetadataValue(r, r.int16());
    }
    return { type: "group", group: gk.group, value: v };
  }
  return { type: "other", keyVersion };
}
