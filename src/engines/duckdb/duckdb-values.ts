import {
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBValueConverter,
  type Json,
} from '@duckdb/node-api';
import { DateTime } from 'luxon';

/**
 * DuckDB values → JSON-safe values:
 * - integers: numbers when they fit 2^53, else decimal strings (BIGINT, HUGEINT, UBIGINT...);
 * - DECIMAL: numbers (doubles; beyond ~15 significant digits precision is lost);
 * - TIMESTAMP / TIMESTAMPTZ (+ _S/_MS/_NS): ISO-8601 UTC `YYYY-MM-DDTHH:mm:ss.SSSZ`, with microseconds
 *   (`.SSSSSSZ`) when the value has sub-millisecond digits; ±infinity as 'infinity' / '-infinity';
 * - DATE 'YYYY-MM-DD', TIME 'HH:mm:ss', everything else as DuckDB's JSON converter does.
 */

function integer(value: unknown): number | string {
  if (typeof value === 'number') return value;
  const big = typeof value === 'bigint' ? value : BigInt(String(value));
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(big)
    : big.toString();
}

/** Microseconds since the epoch → ISO-8601 UTC. */
export function isoFromMicros(micros: bigint): string {
  let ms = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    sub += 1000n;
    ms -= 1n;
  }
  const iso =
    DateTime.fromMillis(Number(ms), { zone: 'utc' }).toISO({ includeOffset: false }) ?? String(micros);
  return sub === 0n ? `${iso}Z` : `${iso}${String(sub).padStart(3, '0')}Z`;
}

type AnyTimestamp =
  | DuckDBTimestampValue
  | DuckDBTimestampTZValue
  | DuckDBTimestampSecondsValue
  | DuckDBTimestampMillisecondsValue
  | DuckDBTimestampNanosecondsValue;

function timestamp(value: unknown): string {
  const v = value as AnyTimestamp;
  if (!v.isFinite) return String(v).startsWith('-') ? '-infinity' : 'infinity';
  if (v instanceof DuckDBTimestampSecondsValue) return isoFromMicros(v.seconds * 1_000_000n);
  if (v instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(v.millis * 1000n);
  if (v instanceof DuckDBTimestampNanosecondsValue) return isoFromMicros(v.nanos / 1000n);
  return isoFromMicros(v.micros);
}

export const tesseraValueConverter: DuckDBValueConverter<Json> = (value, type, converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return integer(value);
    case DuckDBTypeId.DECIMAL:
      return Number(String(value));
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return timestamp(value);
    default:
      return JsonDuckDBValueConverter(value, type, converter);
  }
};
