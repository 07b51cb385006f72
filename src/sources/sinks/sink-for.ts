import type { Engine } from '../../engines/types.js';
import { BulkDuckDbSink } from '../snowplow/duckdb-bulk-sink.js';
import type { RawSink } from '../types.js';
import { EngineRawSink, type EngineRawSinkOptions } from './engine-sink.js';
import { PortableRawSink } from './portable-sink.js';
import type { CdcSink } from './types.js';

/**
 * The one place a loader gets its sink: DuckDB keeps its own (a key index, rows staged as files, `INSERT OR
 * IGNORE`); Trino, BigQuery and Spark get the portable sink over their dialect (portable-sink.ts).
 */
export function rawSinkFor(engine: Engine, options: EngineRawSinkOptions = {}): CdcSink {
  return engine.name === 'duckdb' ? new EngineRawSink(engine, options) : new PortableRawSink(engine);
}

/**
 * The sink for high-volume raw tables (the clickstream): on DuckDB the bulk sink (anti-join inserts, batches
 * serialized on the caller's turn), elsewhere the portable sink.
 */
export function bulkRawSinkFor(engine: Engine, options: EngineRawSinkOptions = {}): RawSink {
  return engine.name === 'duckdb'
    ? new BulkDuckDbSink(engine, new EngineRawSink(engine, options), options)
    : new PortableRawSink(engine);
}
