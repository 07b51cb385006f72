import { readFile } from 'node:fs/promises';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { QuarantinedRecord, RawColumn, RawSink } from '../types.js';

/**
 * FX rates from a landing file into `raw.fx_rates (date, currency, usd_rate)`, where usd_rate is the USD value
 * of one unit of `currency` on `date` (so usd = amount × usd_rate). Accepted files:
 * - CSV with a header naming `date,currency,usd_rate` (any order, extra columns ignored);
 * - JSON: an array of `{date, currency, usd_rate}`, or of `{base: "USD", date, rates: {EUR: 0.92, …}}`
 *   (units per USD, as ECB-style feeds publish; inverted here), or a single such object.
 * Bad records are quarantined with their reason; rows dedupe on (date, currency): a published rate is final.
 */

export const FX_RATES_TABLE = 'raw.fx_rates';
export const FX_SOURCE = 'fx';
export const FX_DEDUPE_KEY = ['date', 'currency'] as const;
export const FX_RATE_COLUMNS: readonly RawColumn[] = [
  { name: 'date', type: 'date' },
  { name: 'currency', type: 'varchar' },
  { name: 'usd_rate', type: 'double' },
];

export type FxRateRow = { readonly date: string; readonly currency: string; readonly usd_rate: number };

const day = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && DateTime.fromISO(s).isValid, 'not a YYYY-MM-DD date');
const currency = z.string().regex(/^[A-Z]{3}$/, 'not an ISO-4217 code');
const rate = z.coerce.number().positive('rate must be > 0').finite();
const rowSchema = z.object({ date: day, currency, usd_rate: rate });
const baseSchema = z.object({ base: z.literal('USD'), date: day, rates: z.record(currency, rate) });

export interface FxParseResult {
  readonly rows: FxRateRow[];
  /** Records that could not be used, with where they were (`line 7`, `item 3`) and why. */
  readonly rejected: { readonly raw: string; readonly at: string; readonly reason: string }[];
}

const issues = (e: z.ZodError): string =>
  e.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ');

export function parseFxCsv(text: string): FxParseResult {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const idx = {
    date: header.indexOf('date'),
    currency: header.indexOf('currency'),
    usd_rate: header.indexOf('usd_rate'),
  };
  if (idx.date < 0 || idx.currency < 0 || idx.usd_rate < 0) {
    throw new Error(
      `fx csv: header must name date, currency, usd_rate; got ${JSON.stringify(lines[0] ?? '')}`,
    );
  }
  const out: FxParseResult = { rows: [], rejected: [] };
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const parsed = rowSchema.safeParse({
      date: cells[idx.date],
      currency: cells[idx.currency]?.toUpperCase(),
      usd_rate: cells[idx.usd_rate],
    });
    if (parsed.success) out.rows.push(parsed.data);
    else out.rejected.push({ raw: line, at: `line ${i + 2}`, reason: issues(parsed.error) });
  });
  return out;
}

export function parseFxJson(text: string): FxParseResult {
  const doc = JSON.parse(text) as unknown;
  const items = Array.isArray(doc) ? doc : [doc];
  const out: FxParseResult = { rows: [], rejected: [] };
  items.forEach((item, i) => {
    const asBase = baseSchema.safeParse(item);
    if (asBase.success) {
      for (const [cur, perUsd] of Object.entries(asBase.data.rates)) {
        if (cur !== 'USD') out.rows.push({ date: asBase.data.date, currency: cur, usd_rate: 1 / perUsd });
      }
      return;
    }
    const asRow = rowSchema.safeParse(item);
    if (asRow.success) out.rows.push(asRow.data);
    else out.rejected.push({ raw: JSON.stringify(item), at: `item ${i + 1}`, reason: issues(asRow.error) });
  });
  return out;
}

/** Lands a landing file's rates; returns how many were new and how many were quarantined. */
export async function ingestFxFile(
  path: string,
  sink: RawSink,
): Promise<{ inserted: number; quarantined: number }> {
  const text = await readFile(path, 'utf8');
  const parsed = path.endsWith('.json') ? parseFxJson(text) : parseFxCsv(text);
  await sink.ensureTable(FX_RATES_TABLE, FX_RATE_COLUMNS, FX_DEDUPE_KEY);
  const { inserted } =
    parsed.rows.length > 0 ? await sink.write(FX_RATES_TABLE, parsed.rows, FX_DEDUPE_KEY) : { inserted: 0 };
  const bad: QuarantinedRecord[] = parsed.rejected.map((r) => ({
    source: FX_SOURCE,
    raw: r.raw,
    reason: r.reason,
    origin: `${path}:${r.at}`,
  }));
  if (bad.length > 0) await sink.quarantine(bad);
  return { inserted, quarantined: bad.length };
}
