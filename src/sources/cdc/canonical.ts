import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { RawValue } from '../types.js';

/**
 * One spelling per value, whichever transport delivered it, so logical decoding and Debezium produce
 * byte-identical raw rows: bigints as numbers (strings beyond 2^53), decimals as strings with the
 * source's scale, timestamps as ISO-8601 UTC with exactly six fraction digits, dates `YYYY-MM-DD`,
 * times `HH:MM:SS.ffffff`, JSON as the source's text.
 */

export function canonicalBigint(value: string | number | bigint): RawValue {
  if (typeof value === 'number') return value;
  // Up to 15 digits always fits a double exactly: skip the BigInt round trip (every key of every change).
  if (typeof value === 'string' && value.length <= 15 && /^-?\d+$/.test(value)) return Number(value);
  const big =
    typeof value === 'bigint' ? value : BigInt(typeof value === 'number' ? Math.trunc(value) : value.trim());
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(big)
    : big.toString();
}

const PAD6 = '000000';

/** Microseconds since the epoch → `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export function isoFromMicros(micros: bigint): string {
  let seconds = micros / 1_000_000n;
  let frac = micros % 1_000_000n;
  if (frac < 0n) {
    frac += 1_000_000n;
    seconds -= 1n;
  }
  const base = DateTime.fromSeconds(Number(seconds), { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm:ss");
  return `${base}.${frac.toString().padStart(6, '0')}Z`;
}

export function isoFromMillis(millis: number): string {
  return isoFromMicros(BigInt(Math.trunc(millis)) * 1000n);
}

// PostgreSQL's ISO output in a UTC session: `2026-11-25 12:33:46.568876+00`. The fast path assembles the
// string without date arithmetic (this runs for every timestamp of every change); anything else
// (other offsets, Debezium's `...Z`, BC dates) goes through luxon.
const PG_UTC = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:\+00(?::?00)?|Z)?$/;

/** A timestamp text (PostgreSQL output or ISO-8601, offset or not; no offset = UTC) → canonical. */
export function canonicalTimestamp(text: string): string {
  if (text === 'infinity' || text === '-infinity') return text;
  const m = PG_UTC.exec(text);
  if (m) return `${m[1]}T${m[2]}.${((m[3] ?? '') + PAD6).slice(0, 6)}Z`;
  const iso = text.includes('T') ? text : text.replace(' ', 'T');
  const dt = DateTime.fromISO(iso.replace(/([+-]\d{2})$/, '$1:00'), { zone: 'utc', setZone: false });
  if (!dt.isValid) throw new Error(`unparseable timestamp ${JSON.stringify(text)}`);
  const frac = /\.(\d{1,9})/.exec(iso)?.[1] ?? '';
  const utc = dt.toUTC();
  return `${utc.toFormat("yyyy-MM-dd'T'HH:mm:ss")}.${(frac + PAD6).slice(0, 6)}Z`;
}

export function dateFromEpochDays(days: number): string {
  return DateTime.fromMillis(days * 86_400_000, { zone: 'utc' }).toISODate() ?? String(days);
}

/** Microseconds since midnight → `HH:MM:SS.ffffff`. */
export function timeFromMicros(micros: bigint): string {
  const s = micros / 1_000_000n;
  const pad = (n: bigint) => n.toString().padStart(2, '0');
  return `${pad(s / 3600n)}:${pad((s / 60n) % 60n)}:${pad(s % 60n)}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}

/** PostgreSQL time text `HH:MM:SS[.f]` → `HH:MM:SS.ffffff` (a trailing offset of timetz is kept). */
export function canonicalTime(text: string): string {
  const m = /^(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(.*)$/.exec(text);
  if (!m) return text;
  return `${m[1]}.${((m[2] ?? '') + PAD6).slice(0, 6)}${m[3] ?? ''}`;
}

/** Unscaled integer + scale → decimal text keeping the scale (`1250`, 2 → `12.50`). */
export function decimalFromUnscaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  if (scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/**
 * `_seq` of a snapshot row: rows read from a table have no order and no transaction, so their
 * position is derived from their content (63 bits of SHA-256 over the canonical row, as a decimal
 * string). Any transport computes the same value, and a re-read snapshot lands on the same keys.
 */
export function snapshotSeq(values: Readonly<Record<string, RawValue>>): string {
  const keys = Object.keys(values).sort();
  const h = createHash('sha256');
  for (const k of keys) h.update(`${k}\u0000${JSON.stringify(values[k] ?? null)}\u0001`);
  return (h.digest().readBigUInt64BE(0) & 0x7fffffffffffffffn).toString();
}
