import { DateTime } from 'luxon';
import type { JsonValue } from '../types.js';

/**
 * Trino's JSON values → the engine contract's JSON-safe values (the same as DuckDB's, see
 * duckdb-values.ts), by the column's type signature:
 * - integers: numbers when they fit 2^53, else decimal strings (the protocol parser keeps them as text);
 * - DECIMAL (sent as text): numbers;
 * - TIMESTAMP(p) [WITH TIME ZONE]: ISO-8601 UTC `...SSSZ`, or `...SSSSSSZ` when sub-millisecond digits
 *   are not zero (Iceberg stores microseconds: a TIMESTAMP(6) value without them reads like TIMESTAMP(3));
 * - everything else as sent (DATE 'YYYY-MM-DD', VARCHAR, BOOLEAN, DOUBLE...).
 */
export function convertValue(type: string, value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  const t = type.toLowerCase();
  if (t === 'bigint' || t === 'integer' || t === 'smallint' || t === 'tinyint') return integer(value);
  if (t.startsWith('decimal')) return Number(String(value));
  if (t.startsWith('timestamp')) return timestamp(String(value), t.endsWith('with time zone'));
  return value as JsonValue;
}

function integer(value: unknown): number | string {
  if (typeof value === 'number') return value;
  const big = BigInt(String(value));
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(big)
    : big.toString();
}

/** `2026-11-24 13:05:00.123456[ zone]` → ISO-8601 UTC; naive timestamps are UTC by convention. */
function timestamp(text: string, withZone: boolean): string {
  const m = /^(-?\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?(?: (.+))?$/.exec(text);
  if (!m) return text;
  const [, date, time, fraction = '', zone] = m;
  const digits = fraction.padEnd(6, '0');
  const dt = DateTime.fromISO(`${date ?? ''}T${time ?? ''}.${digits.slice(0, 3)}`, {
    zone: withZone && zone ? zoneOf(zone) : 'utc',
  });
  if (!dt.isValid) return text;
  const iso = dt.toUTC().toISO({ includeOffset: false }) ?? text;
  const micros = digits.slice(3, 6);
  return micros === '000' ? `${iso}Z` : `${iso}${micros}Z`;
}

/** Trino prints zones as ids (`UTC`, `Europe/Paris`) or offsets (`+02:00`). */
function zoneOf(zone: string): string {
  return /^[+-]\d\d:\d\d$/.test(zone) ? `UTC${zone}` : zone;
}
