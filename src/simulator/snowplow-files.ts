import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeEnrichedEvent, type EnrichedEventInput } from '../sources/snowplow/encode.js';
import { RATES } from './config.js';
import type { Rng } from './rng.js';
import { hourKey, isoMillis, US_PER_HOUR, US_PER_MS, utcDate } from './time.js';

/**
 * Hourly landing files `snowplow/<yyyy-MM-dd>T<HH>.tsv` (by derived_tstamp, UTC), written once every session
 * that can reach an hour has been generated. Adds the noise the loader must handle: exact duplicate lines
 * (same event_id, a few lines later in the same file) and malformed lines at known places.
 */

export interface MalformedLine {
  readonly file: string;
  readonly line: number;
  readonly reason: 'field_count' | 'bad_timestamp';
}

interface Pending {
  readonly ms: number;
  readonly seq: number;
  readonly line: string;
}

export class SnowplowFiles {
  readonly malformed: MalformedLine[] = [];
  /** Duplicate lines per UTC day (of the duplicated event's derived_tstamp). */
  readonly duplicatesByDay = new Map<string, number>();
  readonly files: string[] = [];
  lines = 0;
  private readonly buckets = new Map<string, Pending[]>();
  private seq = 0;
  private nextHourUs: number;

  constructor(
    private readonly dir: string,
    private readonly rng: Rng,
    private readonly startUs: number,
    private readonly endUs: number,
    /** Builds a valid event at `ms` for the malformed lines (a junk browser's page view). */
    private readonly junkEvent: (ms: number) => EnrichedEventInput,
  ) {
    this.nextHourUs = startUs;
  }

  add(ms: number, fields: EnrichedEventInput): void {
    const key = hourKey(ms * US_PER_MS);
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = []));
    b.push({ ms, seq: this.seq++, line: encodeEnrichedEvent(fields) });
  }

  /** Writes every hour that ends at or before `limitUs` (all of them with `limitUs` = Infinity). */
  async flush(limitUs: number): Promise<void> {
    await mkdir(join(this.dir, 'snowplow'), { recursive: true });
    while (this.nextHourUs < this.endUs && this.nextHourUs + US_PER_HOUR <= limitUs) {
      await this.writeHour(this.nextHourUs);
      this.nextHourUs += US_PER_HOUR;
    }
  }

  private async writeHour(hourUs: number): Promise<void> {
    const key = hourKey(hourUs);
    const name = `${key}.tsv`;
    const events = (this.buckets.get(key) ?? []).sort((a, b) => a.ms - b.ms || a.seq - b.seq);
    this.buckets.delete(key);
    const out: string[] = [];
    let waiting: { left: number; line: string }[] = [];
    const day = utcDate(hourUs);
    for (const e of events) {
      out.push(e.line);
      waiting = waiting.filter((w) => (w.left-- > 0 ? true : (out.push(w.line), false)));
      if (this.rng.chance(RATES.duplicateEvent)) {
        waiting.push({ left: this.rng.int(0, 20), line: e.line });
        this.duplicatesByDay.set(day, (this.duplicatesByDay.get(day) ?? 0) + 1);
      }
    }
    for (const w of waiting) out.push(w.line);
    for (const reason of this.malformedAt(hourUs)) {
      const at = this.rng.int(0, out.length);
      const ms = Math.floor(hourUs / US_PER_MS) + this.rng.int(0, 3_599_999);
      out.splice(at, 0, this.malformedLine(ms, reason));
      for (const m of this.malformed)
        if (m.file === `snowplow/${name}` && m.line >= at + 1) (m as { line: number }).line++;
      this.malformed.push({ file: `snowplow/${name}`, line: at + 1, reason });
    }
    this.lines += out.length;
    this.files.push(`snowplow/${name}`);
    await writeFile(join(this.dir, 'snowplow', name), out.length > 0 ? `${out.join('\n')}\n` : '');
  }

  /** One malformed line a day: even days a truncated line at 10:00, odd days a bad timestamp at 15:00; day 0 also a truncated line at 18:00. */
  private malformedAt(hourUs: number): MalformedLine['reason'][] {
    const dayIndex = Math.floor((hourUs - this.startUs) / (24 * US_PER_HOUR));
    const hour = Math.floor((hourUs - this.startUs) / US_PER_HOUR) % 24;
    const out: MalformedLine['reason'][] = [];
    if (dayIndex % 2 === 0 && hour === 10) out.push('field_count');
    if (dayIndex % 2 === 1 && hour === 15) out.push('bad_timestamp');
    if (dayIndex === 0 && hour === 18) out.push('field_count');
    return out;
  }

  private malformedLine(ms: number, reason: MalformedLine['reason']): string {
    const fields = this.junkEvent(ms);
    if (reason === 'bad_timestamp') {
      const iso = isoMillis(ms * US_PER_MS);
      // A collector clock gone wrong: month 13, hour 25.
      return encodeEnrichedEvent({
        ...fields,
        collector_tstamp: `${iso.slice(0, 4)}-13-${iso.slice(8, 10)} 25:${iso.slice(14, 23)}`,
      });
    }
    return encodeEnrichedEvent(fields).split('\t').slice(0, 100).join('\t'); // a write cut short
  }
}
