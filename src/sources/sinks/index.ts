/** Where raw rows land: the DuckDB engine sink, the portable sink of server engines, an in-memory sink, and the drift rules they apply. */
export { EngineRawSink } from './engine-sink.js';
export { PortableRawSink } from './portable-sink.js';
export { rawSinkFor, bulkRawSinkFor } from './sink-for.js';
export { engineDialect } from './sql-rows.js';
export { MemorySink } from './memory-sink.js';
export { planDrift, compatibility, unionColumns } from './drift.js';
export type { DriftPlan, Compatibility } from './drift.js';
export { IncompatibleColumnError, CHANGE_DEDUPE_KEY, QUARANTINE_TABLE } from './types.js';
export type { CdcSink } from './types.js';
