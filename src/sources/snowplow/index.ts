/**
 * Snowplow clickstream source: enriched events (131-field TSV) from Kafka or landing files into
 * `raw.snowplow_events`, flattened (experiment exposure, listing, link click), deduplicated on event_id,
 * quarantined with reasons, partitioned hourly by derived_tstamp, with an event-time watermark.
 *
 * - parse.ts / encode.ts   TSV ⇄ rows (pure, hot path); fields.ts the field order; tstamp.ts timestamps
 * - loader.ts              parse → quarantine → dedupe → RawSink, touched/re-opened hours (transport-free)
 * - kafka.ts / files.ts    the two transports
 * - duckdb-bulk-sink.ts     a RawSink for DuckDB that stages batches as files (the clickstream's volume)
 * - duckdb-native.ts       landing files parsed, checked and landed by DuckDB itself (same rows as the JS path)
 * May import: ../types.js, engine *types*, luxon, kafkajs, node built-ins. Not: workflows, activities.
 */
export { ENRICHED_FIELDS, ENRICHED_FIELD_COUNT, FIELD_INDEX, SCHEMAS, type EnrichedField } from './fields.js';
export { parseEnrichedLine, type ParseResult, type QuarantineCode } from './parse.js';
export {
  encodeEnrichedEvent,
  contextsJson,
  unstructEventJson,
  experimentExposureContext,
  listingContext,
  linkClickEvent,
  type EnrichedEventInput,
  type EnrichedValue,
  type SelfDescribingJson,
} from './encode.js';
export { parseSnowplowTstamp, formatSnowplowTstamp, hourKeyOf } from './tstamp.js';
export {
  SNOWPLOW_EVENTS_TABLE,
  SNOWPLOW_EVENT_COLUMNS,
  SNOWPLOW_DEDUPE_KEY,
  SNOWPLOW_SOURCE,
  type SnowplowEventRow,
  type SnowplowEventName,
} from './schema.js';
export { EventTimeWatermark } from './watermark.js';
export {
  SnowplowLoader,
  type SnowplowLoaderOptions,
  type SnowplowRecord,
  type SnowplowBatchResult,
} from './loader.js';
export { ingestSnowplowFile, type SnowplowFileOptions, type SnowplowFileSummary } from './files.js';
export {
  SnowplowKafkaSource,
  type SnowplowKafkaOptions,
  type SnowplowKafkaBatchResult,
  type SnowplowIngestSummary,
} from './kafka.js';
export { BulkDuckDbSink, type BulkDuckDbSinkOptions } from './duckdb-bulk-sink.js';
export {
  ingestSnowplowFileNative,
  nativeLandSql,
  type NativeFileOptions,
  type NativeFileSummary,
} from './duckdb-native.js';
