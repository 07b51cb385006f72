import type { QuarantinedRecord, RawSink, WatermarkReport } from '../types.js';
import { parseEnrichedLine } from './parse.js';
import {
  SNOWPLOW_DEDUPE_KEY,
  SNOWPLOW_EVENTS_TABLE,
  SNOWPLOW_EVENT_COLUMNS,
  SNOWPLOW_SOURCE,
  type SnowplowEventRow,
} from './schema.js';
import { EventTimeWatermark } from './watermark.js';

/**
 * Transport-independent core of Snowplow ingestion: a batch of raw lines (from Kafka or a landing file) is
 * parsed, bad lines quarantined with their reason, duplicates dropped, good rows landed through a RawSink
 * (deduplicated on event_id, so replays insert nothing twice), and the hour partitions it touched reported.
 */

export interface SnowplowRecord {
  readonly line: string;
  /** Where it came from, unique per record: `topic/partition/offset` or `file:line`. */
  readonly origin: string;
  /** Sub-stream for the watermark: the Kafka partition or the file. */
  readonly stream: string;
}

export interface SnowplowBatchResult {
  readonly received: number;
  readonly parsed: number;
  readonly quarantined: number;
  /** Quarantined lines per reason code (`field_count`, `bad_timestamp`, `invalid_json`, …). */
  readonly quarantinedByCode: Readonly<Record<string, number>>;
  /** Same event_id more than once in this batch (the first by collector_tstamp is kept). */
  readonly duplicatesInBatch: number;
  /** Rows new to the table (the sink skips event_ids it already holds). */
  readonly inserted: number;
  /**
   * Hour partitions (`2026-11-24T13`, by derived_tstamp) that may have new rows: re-plan their dependents.
   * Exact when every row was new or none was; otherwise every hour of the batch's rows (a safe superset).
   */
  readonly touchedHours: readonly string[];
  /** Subset of touchedHours already closed before this batch (watermark past hour end + lateness): re-opened. */
  readonly reopenedHours: readonly string[];
  /** Event time reached after this batch; undefined before the first event. */
  readonly watermark: WatermarkReport | undefined;
}

export interface SnowplowLoaderOptions {
  readonly sink: RawSink;
  /** Minutes after an hour's end during which events for it are still on time (config `lateness`). */
  readonly allowedLatenessMinutes: number;
  readonly table?: string;
  /** Persisted per-stream watermark state (EventTimeWatermark.snapshot()) to resume from. */
  readonly watermarkState?: Readonly<Record<string, string>>;
}

export class SnowplowLoader {
  readonly watermark: EventTimeWatermark;
  private readonly sink: RawSink;
  private readonly table: string;
  private tableReady: Promise<void> | undefined;

  constructor(options: SnowplowLoaderOptions) {
    this.sink = options.sink;
    this.table = options.table ?? SNOWPLOW_EVENTS_TABLE;
    this.watermark = new EventTimeWatermark(options.allowedLatenessMinutes, options.watermarkState);
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.sink.ensureTable(this.table, SNOWPLOW_EVENT_COLUMNS, SNOWPLOW_DEDUPE_KEY);
    return this.tableReady;
  }

  async load(records: readonly SnowplowRecord[]): Promise<SnowplowBatchResult> {
    await this.ensureTable();
    const quarantine: QuarantinedRecord[] = [];
    const byCode: Record<string, number> = {};
    const firstById = new Map<string, SnowplowEventRow>();
    // Latest derived_tstamp per stream (what the watermark keeps), observed once the batch has landed.
    const latest = new Map<string, string>();
    let parsed = 0;
    let duplicates = 0;

    for (const rec of records) {
      const res = parseEnrichedLine(rec.line);
      if (!res.ok) {
        quarantine.push({ source: SNOWPLOW_SOURCE, raw: rec.line, reason: res.reason, origin: rec.origin });
        const code = res.reason.slice(0, res.reason.indexOf(':'));
        byCode[code] = (byCode[code] ?? 0) + 1;
        continue;
      }
      parsed++;
      const row = res.row;
      const seen = latest.get(rec.stream);
      if (seen === undefined || row.derived_tstamp > seen) latest.set(rec.stream, row.derived_tstamp);
      const prev = firstById.get(row.event_id);
      if (prev === undefined) {
        firstById.set(row.event_id, row);
      } else {
        duplicates++;
        if (row.collector_tstamp < prev.collector_tstamp) firstById.set(row.event_id, row);
      }
    }

    const rows = [...firstById.values()];
    // Closed-ness is judged against the watermark *before* this batch moves it.
    const hours = new Set<string>();
    for (const r of rows) hours.add(r.event_hour);
    const closedBefore = new Set([...hours].filter((h) => this.watermark.isClosed(h)));

    let inserted = 0;
    if (rows.length > 0) {
      ({ inserted } = await this.sink.write(this.table, rows, SNOWPLOW_DEDUPE_KEY));
    }
    if (quarantine.length > 0) await this.sink.quarantine(quarantine);
    for (const [stream, derived] of latest) this.watermark.observe(stream, derived);

    const touched = inserted === 0 ? [] : [...hours].sort();
    const wm = this.watermark.value;
    return {
      received: records.length,
      parsed,
      quarantined: quarantine.length,
      quarantinedByCode: byCode,
      duplicatesInBatch: duplicates,
      inserted,
      touchedHours: touched,
      reopenedHours: touched.filter((h) => closedBefore.has(h)),
      watermark: wm === undefined ? undefined : { source: SNOWPLOW_SOURCE, watermark: wm },
    };
  }
}
