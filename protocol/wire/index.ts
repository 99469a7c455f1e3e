export { Reader, type RawTaggedField } from "./reader.ts";
export { Writer } from "./writer.ts";
export { ProtocolError, EncodeError, type ProtocolErrorKind } from "./errors.ts";
export { ZERO_UUID, randomUuid, uuidFromBytes, uuidToBytes } from "./uuid.ts";
