import { z } from 'zod';
import {
  canonicalBigint,
  canonicalTimestamp,
  dateFromEpochDays,
  decimalFromUnscaled,
  isoFromMicros,
  timeFromMicros,
} from '../cdc/canonical.js';
import type { RawColumnType, RawValue } from '../types.js';

/**
 * Kafka Connect JSON schemas as Debezium writes them (`{schema, payload}` with schemas.enable=true), and
 * the values they describe → raw types and canonical values, equal to what logical decoding produces
 * for the same PostgreSQL columns (canonical.ts). Logical types follow Debezium's PostgreSQL connector
 * defaults (decimal.handling.mode=precise, time.precision.mode=adaptive).
 */

export interface ConnectSchema {
  readonly type: string;
  readonly optional?: boolean;
  readonly name?: string;
  readonly version?: number;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly field?: string;
  readonly fields?: readonly ConnectSchema[];
  readonly items?: ConnectSchema;
}

export const connectSchema: z.ZodType<ConnectSchema> = z.lazy(() =>
  z.object({
    type: z.string(),
    optional: z.boolean().optional(),
    name: z.string().optional(),
    version: z.number().optional(),
    parameters: z.record(z.string(), z.string()).optional(),
    field: z.string().optional(),
    fields: z.array(connectSchema).optional(),
    items: connectSchema.optional(),
  }),
);

export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

const DECIMAL = 'org.apache.kafka.connect.data.Decimal';
const VARIABLE_DECIMAL = 'io.debezium.data.VariableScaleDecimal';

const BY_NAME: Readonly<Record<string, RawColumnType>> = {
  [DECIMAL]: 'decimal',
  [VARIABLE_DECIMAL]: 'decimal',
  'io.debezium.time.Date': 'date',
  'org.apache.kafka.connect.data.Date': 'date',
  'io.debezium.time.Timestamp': 'timestamp',
  'io.debezium.time.MicroTimestamp': 'timestamp',
  'io.debezium.time.NanoTimestamp': 'timestamp',
  'io.debezium.time.ZonedTimestamp': 'timestamp',
  'org.apache.kafka.connect.data.Timestamp': 'timestamp',
  'io.debezium.data.Json': 'json',
};

const BY_TYPE: Readonly<Record<string, RawColumnType>> = {
  int8: 'bigint',
  int16: 'bigint',
  int32: 'bigint',
  int64: 'bigint',
  float32: 'double',
  float64: 'double',
  boolean: 'boolean',
  string: 'varchar',
  bytes: 'varchar',
  array: 'json',
  map: 'json',
  struct: 'json',
};

export function rawTypeOfSchema(s: ConnectSchema): RawColumnType {
  return (s.name ? BY_NAME[s.name] : undefined) ?? BY_TYPE[s.type] ?? 'varchar';
}

/**
 * A column type a source declares for events that carry no schema (the JSON converter with
 * `schemas.enable=false`), spelled for config files: `decimal(<scale>)` (Connect's base64 two's complement
 * bytes, decimal.handling.mode=precise), `timestamp(ms|us|ns)` (epoch integers, Debezium's Timestamp,
 * MicroTimestamp, NanoTimestamp), `timestamp(iso)` (ZonedTimestamp text), `date` (epoch days),
 * `time(us)`, `bytes` (base64), or a plain `bigint`, `double`, `boolean`, `varchar`, `json`.
 */
export type DeclaredColumnTypes = Readonly<Record<string, string>>;

const DECLARED: Readonly<Record<string, ConnectSchema>> = {
  bigint: { type: 'int64' },
  double: { type: 'float64' },
  boolean: { type: 'boolean' },
  varchar: { type: 'string' },
  json: { type: 'string', name: 'io.debezium.data.Json' },
  bytes: { type: 'bytes' },
  date: { type: 'int32', name: 'io.debezium.time.Date' },
  'timestamp(ms)': { type: 'int64', name: 'io.debezium.time.Timestamp' },
  'timestamp(us)': { type: 'int64', name: 'io.debezium.time.MicroTimestamp' },
  'timestamp(ns)': { type: 'int64', name: 'io.debezium.time.NanoTimestamp' },
  'timestamp(iso)': { type: 'string', name: 'io.debezium.time.ZonedTimestamp' },
  'time(us)': { type: 'int64', name: 'io.debezium.time.MicroTime' },
};

/** The Connect schema a declared type stands for; undefined when the spelling is not one of the above. */
export function declaredSchema(spec: string): ConnectSchema | undefined {
  const decimal = /^decimal\((\d{1,2})\)$/.exec(spec.trim());
  if (decimal) return { type: 'bytes', name: DECIMAL, parameters: { scale: decimal[1] ?? '0' } };
  return DECLARED[spec.trim()];
}

export const DECLARED_TYPE_NAMES = ['decimal(<scale>)', ...Object.keys(DECLARED)];

/** Type of a value without a schema (schemas.enable=false): a best guess, null when it cannot tell. */
export function inferRawType(value: unknown): RawColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'bigint' : 'double';
  if (typeof value === 'string') return 'varchar';
  return 'json';
}

/** Strict base64 (Buffer.from silently skips characters outside the alphabet, which would land garbage). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64Bytes(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new Error(`${what}: expected base64 bytes, got ${preview(value)}`);
  }
  return Buffer.from(value, 'base64');
}

/** Big-endian two's complement bytes (Connect's Decimal encoding) → integer. */
export function unscaledFromBase64(b64: string): bigint {
  const bytes = base64Bytes(b64, 'decimal');
  if (bytes.length === 0) return 0n;
  const n = BigInt(`0x${bytes.toString('hex')}`);
  return (bytes[0] ?? 0) & 0x80 ? n - (1n << BigInt(bytes.length * 8)) : n;
}

/** A short, single-line rendering of a bad value for a quarantine reason. */
function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** An integer carried as a JSON number or a decimal string; anything else cannot be decoded. */
function asBigint(value: unknown, what: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d{1,40}$/.test(value)) return BigInt(value);
  throw new Error(`${what}: expected an integer, got ${preview(value)}`);
}

function scaleOf(raw: unknown): number {
  const scale = Number(raw ?? 0);
  if (!Number.isInteger(scale) || scale < -64 || scale > 64) {
    throw new Error(`decimal: bad scale ${preview(raw)}`);
  }
  return scale;
}

const FLOAT_WORDS = new Set(['NaN', 'Infinity', '-Infinity']);

/**
 * One value under its Connect schema → canonical raw value (undefined schema: passed through as JSON).
 * Throws, saying what was expected, when the value cannot be what the schema says: the caller quarantines
 * the event instead of landing garbage or failing the whole batch.
 */
export function decodeConnectValue(s: ConnectSchema | undefined, value: unknown): RawValue {
  if (value === null || value === undefined) return null;
  if (!s) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    return JSON.stringify(value);
  }
  switch (s.name) {
    case DECIMAL:
      return decimalFromUnscaled(unscaledFromBase64(value as string), scaleOf(s.parameters?.['scale']));
    case VARIABLE_DECIMAL: {
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new Error(`variable-scale decimal: expected {scale, value}, got ${preview(value)}`);
      }
      const v = value as { scale?: unknown; value?: unknown };
      return decimalFromUnscaled(unscaledFromBase64(v.value as string), scaleOf(v.scale));
    }
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date': {
      const days = asBigint(value, 'date');
      if (days < -3_000_000n || days > 3_000_000n) throw new Error(`date: ${days} days is out of range`);
      return dateFromEpochDays(Number(days));
    }
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return timestampFromMicros(asBigint(value, 'timestamp (ms)') * 1000n);
    case 'io.debezium.time.MicroTimestamp':
      return timestampFromMicros(asBigint(value, 'timestamp (µs)'));
    case 'io.debezium.time.NanoTimestamp':
      return timestampFromMicros(asBigint(value, 'timestamp (ns)') / 1000n);
    case 'io.debezium.time.ZonedTimestamp':
      if (typeof value !== 'string') throw new Error(`timestamp: expected ISO text, got ${preview(value)}`);
      return canonicalTimestamp(value);
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return timeFromMicros(asBigint(value, 'time (ms)') * 1000n);
    case 'io.debezium.time.MicroTime':
      return timeFromMicros(asBigint(value, 'time (µs)'));
    case 'io.debezium.time.NanoTime':
      return timeFromMicros(asBigint(value, 'time (ns)') / 1000n);
    default:
      break;
  }
  switch (s.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return canonicalBigint(asBigint(value, s.type));
    case 'float32':
    case 'float64': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && FLOAT_WORDS.has(value)) return value;
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (Number.isFinite(n)) return n;
      throw new Error(`${s.type}: expected a number, got ${preview(value)}`);
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new Error(`boolean: expected true or false, got ${preview(value)}`);
    case 'bytes':
      // PostgreSQL's bytea text form, so both transports agree.
      return `\\x${base64Bytes(value, 'bytes').toString('hex')}`;
    case 'array':
      if (!Array.isArray(value)) throw new Error(`array: expected a JSON array, got ${preview(value)}`);
      return JSON.stringify(value.map((v) => decodeElement(s.items, v)));
    case 'map':
    case 'struct':
      return JSON.stringify(value);
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** Canonical ISO text, refusing instants outside what a timestamp column holds (years 0001–9999 here). */
function timestampFromMicros(micros: bigint): string {
  // 0001-01-01 and 9999-12-31 in microseconds since the epoch.
  if (micros < -62_135_596_800_000_000n || micros > 253_402_300_799_999_999n) {
    throw new Error(`timestamp: ${micros} µs is out of range`);
  }
  return isoFromMicros(micros);
}

/** Array elements keep JSON types (numbers stay numbers), logical types become their canonical text. */
function decodeElement(s: ConnectSchema | undefined, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (s && (s.type === 'array' || s.name !== undefined || s.type === 'bytes')) {
    const decoded = decodeConnectValue(s, v);
    return s.type === 'array' && typeof decoded === 'string' ? JSON.parse(decoded) : decoded;
  }
  return v;
}
