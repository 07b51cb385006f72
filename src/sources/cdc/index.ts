/**
 * Change data capture from the OLTP databases (PostgreSQL logical decoding with wal2json) and the pieces
 * every change transport shares: canonical values, ChangeRecord, the lander (PII → drift → idempotent
 * write), typed errors. Debezium decoding lives in ../debezium, Kafka transport in ../kafka, sinks in
 * ../sinks. May import: ../types, ../pii, ../sinks, pg, zod, luxon. Not: engines (only through a sink; the
 * pipeline's loader.ts takes an Engine to build its sink and report partitions), workflows, activities.
 */
export { PostgresCdcSource, HEARTBEAT_PREFIX } from './postgres-source.js';
export type { PostgresCdcConfig, InitResult, PollResult } from './postgres-source.js';
export { PostgresStreamCdcSource } from './postgres-stream-source.js';
export type { PostgresStreamCdcConfig } from './postgres-stream-source.js';
export { PostgresCdcLoader } from './loader.js';
export type { PostgresCdcLoaderOptions } from './loader.js';
export { REPLAY_CLOCK_PREFIX, withReplayClock } from './replay-clock.js';
export { ChangeLander, rawChangeTable, stderrLogger } from './lander.js';
export type { LandResult, SourceLogger } from './lander.js';
export type { ChangeRecord } from './change.js';
export { SourceError, SchemaDriftError, SlotLostError, SourceConfigError } from './errors.js';
export type { IncompatibleColumn } from './errors.js';
export { parsePgLsn, formatPgLsn, lsnHex, pgLsnToHex } from './lsn.js';
export { PgTypeRegistry } from './pg-types.js';
export { describePgTable, parseTableRef } from './snapshot.js';
export type { TableRef } from './snapshot.js';
export { PEEK_SQL, PEEK_SQL_TYPED, addTablesOption, parseWal2json, groupTransactions } from './wal2json.js';
export type { Wal2JsonTransaction, Wal2JsonMessage } from './wal2json.js';
