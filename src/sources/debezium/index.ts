/**
 * Debezium (PostgreSQL connector, JSON converter) change events → the same raw rows as logical decoding:
 * decoding of envelopes, flattened records and Connect logical types; the landing-folder reader; an
 * encoder that writes captured changes in Debezium's format (demo data, tests). Kafka transport: ../kafka.
 */
export { DebeziumDecoder } from './decoder.js';
export type { DebeziumInput, DecoderStats } from './decoder.js';
export { readDebeziumFile, readDebeziumFolder } from './file.js';
export type { FolderResult } from './file.js';
export { DebeziumStream, debeziumInput } from './stream.js';
export type { DebeziumResult, DebeziumSourceOptions } from './stream.js';
export { DebeziumEncoder } from './encode.js';
export type { EncodedEvent, EncoderOptions, SnapshotColumn } from './encode.js';
export { decodeConnectValue, declaredSchema, rawTypeOfSchema, unscaledFromBase64 } from './connect.js';
export type { ConnectSchema, DeclaredColumnTypes } from './connect.js';
