// Everything generated codecs need, under one import.
export { Reader, type RawTaggedField } from "./reader.ts";
export { Writer } from "./writer.ts";
export { ProtocolError, EncodeError } from "./errors.ts";
export { ZERO_UUID } from "./uuid.ts";
export {
  EMPTY_BYTES,
  readString,
  writeString,
  readBytes,
  writeBytes,
  readArray,
  writeArray,
  readNullableStruct,
  writeNullableStruct,
  differs,
  checkAbsent,
} from "./fields.ts";
