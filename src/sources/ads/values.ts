/**
 * Exact conversions of the APIs' number spellings: Meta and TikTok send money as decimal strings in major
 * units ("5339.5"), Google and X as integer micros, counts as strings or numbers. Money never goes through a
 * float: spend is kept as an integer count of micros in a decimal string (the bigint column).
 */

const DECIMAL = /^(-)?(\d*)(?:\.(\d*))?$/;

/** "5339.5" → "5339500000". More than 6 decimals round half away from zero. Throws on anything else. */
export function decimalToMicros(value: string | number): string {
  const s = typeof value === 'number' ? numberToPlain(value) : value.trim();
  const m = DECIMAL.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === ''))
    throw new Error(`not a decimal amount: ${JSON.stringify(value)}`);
  const neg = m[1] === '-';
  const whole = m[2] === '' ? '0' : (m[2] ?? '0');
  const frac = m[3] ?? '';
  let micros = BigInt(whole) * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
  if (frac.length > 6 && (frac.charCodeAt(6) ?? 48) >= 53) micros += 1n;
  return (neg && micros !== 0n ? -micros : micros).toString();
}

function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite amount: ${n}`);
  // toFixed avoids exponent notation for small/large values; 9 digits keeps rounding at the 7th decimal exact.
  return n.toFixed(9);
}

/** Integer micros from a JSON number or int64 string ("1230000"); throws on fractions or junk. */
export function microsOf(value: unknown): string {
  if (value === undefined || value === null || value === '') return '0';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value).toString();
  throw new Error(`not integer micros: ${JSON.stringify(value)}`);
}

/** A count (impressions, clicks) from a number or numeric string; absent means 0 (proto3 JSON omits zeros). */
export function countOf(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${JSON.stringify(value)}`);
  return n;
}

/** Sum of micros strings, exact. */
export function addMicros(a: string, b: string): string {
  return (BigInt(a) + BigInt(b)).toString();
}
