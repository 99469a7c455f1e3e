// KRaft metadata records as the metadata log stores them: each record is the value
// of an ordinary record in a v2 batch, framed as unsigned varints (frame version 1,
// record type = the schema's apiKey, record version) followed by the flexible body.
import { METADATA_RECORD_TYPES } from "../../protocol/generated/metadata-records.ts";
import { type TopicRecord, TopicRecordSchema } from "../../protocol/generated/metadata/TopicRecord.ts";
import {
  type PartitionRecord,
  PartitionRecordSchema,
} from "../../protocol/generated/metadata/PartitionRecord.ts";
import {
  type PartitionChangeRecord,
  PartitionChangeRecordSchema,
} from "../../protocol/generated/metadata/PartitionChangeRecord.ts";
import { type ConfigRecord, ConfigRecordSchema } from "../../protocol/generated/metadata/ConfigRecord.ts";
import {
  type RemoveTopicRecord,
  RemoveTopicRecordSchema,
} from "../../protocol/generated/metadata/RemoveTopicRecord.ts";
import {
  type RegisterBrokerRecord,
  RegisterBrokerRecordSchema,
} from "../../protocol/generated/metadata/RegisterBrokerRecord.ts";
import {
  type ProducerIdsRecord,
  ProducerIdsRecordSchema,
} from "../../protocol/generated/metadata/ProducerIdsRecord.ts";
import {
  type FenceBrokerRecord,
  FenceBrokerRecordSchema,
} from "../../protocol/generated/metadata/FenceBrokerRecord.ts";
import {
  type UnfenceBrokerRecord,
  UnfenceBrokerRecordSchema,
} from "../../protocol/generated/metadata/UnfenceBrokerRecord.ts";
import {
  type BrokerRegistrationChangeRecord,
  BrokerRegistrationChangeRecordSchema,
} from "../../protocol/generated/metadata/BrokerRegistrationChangeRecord.ts";
import {
  type UnregisterBrokerRecord,
  UnregisterBrokerRecordSchema,
} from "../../protocol/generated/metadata/UnregisterBrokerRecord.ts";
import { ProtocolError, Reader, Writer } from "../../protocol/wire/index.ts";

/** The records this broker writes and applies, as a tagged union. */
export type MetadataRecord =
  | { type: "Topic"; value: TopicRecord }
  | { type: "Partition"; value: PartitionRecord }
  | { type: "PartitionChange"; value: PartitionChangeRecord }
  | { type: "Config"; value: ConfigRecord }
  | { type: "RemoveTopic"; value: RemoveTopicRecord }
  | { type: "RegisterBroker"; value: RegisterBrokerRecord }
  | { type: "ProducerIds"; value: ProducerIdsRecord }
  | { type: "FenceBroker"; value: FenceBrokerRecord }
  | { type: "UnfenceBroker"; value: UnfenceBrokerRecord }
  | { type: "BrokerRegistrationChange"; value: BrokerRegistrationChangeRecord }
  | { type: "UnregisterBroker"; value: UnregisterBrokerRecord };

const KEYS: Record<MetadataRecord["type"], number> = {
  Topic: TopicRecordSchema.apiKey,
  Partition: PartitionRecordSchema.apiKey,
  PartitionChange: PartitionChangeRecordSchema.apiKey,
  Config: ConfigRecordSchema.apiKey,
  RemoveTopic: RemoveTopicRecordSchema.apiKey,
  RegisterBroker: RegisterBrokerRecordSchema.apiKey,
  ProducerIds: ProducerIdsRecordSchema.apiKey,
  FenceBroker: FenceBrokerRecordSchema.apiKey,
  UnfenceBroker: UnfenceBrokerRecordSchema.apiKey,
  BrokerRegistrationChange: BrokerRegistrationChangeRecordSchema.apiKey,
  UnregisterBroker: UnregisterBrokerRecordSchema.apiKey,
};

const TYPES = new Map(Object.entries(KEYS).map(([name, key]) => [key, name as MetadataRecord["type"]]));

/** The version we write each record type at: the newest the schema defines. */
function writeVersion(key: number): number {
  return METADATA_RECORD_TYPES.get(key)!.maxVersion;
}

export function encodeMetadataRecord(rec: MetadataRecord): Buffer {
  const key = KEYS[rec.type];
  const version = writeVersion(key);
  const w = new Writer(128);
  w.uvarint(1);
  w.uvarint(key);
  w.uvarint(version);
  METADATA_RECORD_TYPES.get(key)!.encode(w, rec.value, version);
  return w.toBuffer();
}

/** Decodes a record value; record types this broker does not apply come back as undefined. */
export function decodeMetadataRecord(value: Buffer): MetadataRecord | undefined {
  const r = new Reader(value);
  const frame = r.uvarint();
  if (frame !== 1) throw new ProtocolError("invalid-value", `metadata record frame version ${frame}`, 0);
  const key = r.uvarint();
  const version = r.uvarint();
  const type = METADATA_RECORD_TYPES.get(key);
  if (!type) throw new ProtocolError("invalid-value", `unknown metadata record type ${key}`, 1);
  const body = type.decode(r, version);
  r.expectEnd(type.name);
  const name = TYPES.get(key);
  return name === undefined ? undefined : ({ type: name, value: body } as MetadataRecord);
}
