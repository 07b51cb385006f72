/** Where raw rows land: the DuckDB engine sink, an in-memory sink, and the drift rules both apply. */
export { EngineRawSink } from './engine-sink.js';
export { MemorySink } from './memory-sink.js';
export { planDrift, compatibility, unionColumns } from './drift.js';
export type { DriftPlan, Compatibility } from './drift.js';
export { IncompatibleColumnError, CHANGE_DEDUPE_KEY, QUARANTINE_TABLE } from './types.js';
export type { CdcSink } from './types.js';
