import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { SnowplowBatchResult, SnowplowLoader, SnowplowRecord } from './loader.js';

/**
 * Snowplow enriched events from landing files (TSV, one event per line; `.gz` is gunzipped), e.g. what the
 * S3/GCS loader writes. Re-loading a file is harmless: rows dedupe on event_id, quarantine on (source, origin).
 */

export interface SnowplowFileOptions {
  readonly loader: SnowplowLoader;
  /** Lines per sink write (default 10,000). */
  readonly batchSize?: number;
  /** Watermark sub-stream; files of one landing folder share one (default 'landing'). */
  readonly stream?: string;
  readonly onBatch?: (result: SnowplowBatchResult) => void | Promise<void>;
}

export interface SnowplowFileSummary {
  readonly lines: number;
  /** Lines that parsed into an event (landed now, or duplicates of events already landed). */
  readonly parsed: number;
  readonly inserted: number;
  readonly quarantined: number;
  readonly touchedHours: readonly string[];
  readonly reopenedHours: readonly string[];
  readonly watermark: string | undefined;
}

export async function ingestSnowplowFile(
  path: string,
  options: SnowplowFileOptions,
): Promise<SnowplowFileSummary> {
  const batchSize = options.batchSize ?? 10_000;
  const stream = options.stream ?? 'landing';
  const input = path.endsWith('.gz') ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Infinity });

  let lineNo = 0;
  let inserted = 0;
  let parsed = 0;
  let quarantined = 0;
  const hours = new Set<string>();
  const reopened = new Set<string>();
  let batch: SnowplowRecord[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const res = await options.loader.load(batch);
    batch = [];
    inserted += res.inserted;
    parsed += res.parsed;
    quarantined += res.quarantined;
    res.touchedHours.forEach((h) => hours.add(h));
    res.reopenedHours.forEach((h) => reopened.add(h));
    if (options.onBatch) await options.onBatch(res);
  };

  for await (const line of lines) {
    lineNo++;
    if (line === '') continue; // blank lines (a trailing newline) are not events
    batch.push({ line, origin: `${path}:${lineNo}`, stream });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return {
    lines: lineNo,
    parsed,
    inserted,
    quarantined,
    touchedHours: [...hours].sort(),
    reopenedHours: [...reopened].sort(),
    watermark: options.loader.watermark.value,
  };
}
