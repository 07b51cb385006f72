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

/** Type of a value without a schema (schemas.enable=false): a best guess, null when it cannot tell. */
export function inferRawType(value: unknown): RawColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'bigint' : 'double';
  if (typeof value === 'string') return 'varchar';
  return 'json';
}

/** Big-endian two's complement bytes (Connect's Decimal encoding) → integer. */
export function unscaledFromBase64(b64: string): bigint {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) return 0n;
  const n = BigInt(`0x${bytes.toString('hex')}`);
  return (bytes[0] ?? 0) & 0x80 ? n - (1n << BigInt(bytes.length * 8)) : n;
}

const asBigint = (v: unknown): bigint => BigInt(typeof v === 'number' ? Math.trunc(v) : String(v));

/** One value under its Connect schema → canonical raw value (undefined schema: passed through as JSON). */
export function decodeConnectValue(s: ConnectSchema | undefined, value: unknown): RawValue {
  if (value === null || value === undefined) return null;
  if (!s) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    return JSON.stringify(value);
  }
  switch (s.name) {
    case DECIMAL:
      return decimalFromUnscaled(unscaledFromBase64(String(value)), Number(s.parameters?.['scale'] ?? 0));
    case VARIABLE_DECIMAL: {
      const v = value as { scale?: number; value?: string };
      return decimalFromUnscaled(unscaledFromBase64(String(v.value ?? '')), Number(v.scale ?? 0));
    }
    case 'io.debezium.time.Date':
    case 'org.apache.kafka.connect.data.Date':
      return dateFromEpochDays(Number(value));
    case 'io.debezium.time.Timestamp':
    case 'org.apache.kafka.connect.data.Timestamp':
      return isoFromMicros(asBigint(value) * 1000n);
    case 'io.debezium.time.MicroTimestamp':
      return isoFromMicros(asBigint(value));
    case 'io.debezium.time.NanoTimestamp':
      return isoFromMicros(asBigint(value) / 1000n);
    case 'io.debezium.time.ZonedTimestamp':
      return canonicalTimestamp(String(value));
    case 'io.debezium.time.Time':
    case 'org.apache.kafka.connect.data.Time':
      return timeFromMicros(asBigint(value) * 1000n);
    case 'io.debezium.time.MicroTime':
      return timeFromMicros(asBigint(value));
    case 'io.debezium.time.NanoTime':
      return timeFromMicros(asBigint(value) / 1000n);
    default:
      break;
  }
  switch (s.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return canonicalBigint(typeof value === 'number' ? value : String(value));
    case 'float32':
    case 'float64': {
      const n = Number(value);
      return Number.isFinite(n) ? n : String(value);
    }
    case 'boolean':
      return value === true || value === 'true';
    case 'bytes':
      // PostgreSQL's bytea text form, so both transports agree.
      return `\\x${Buffer.from(String(value), 'base64').toString('hex')}`;
    case 'array':
      return JSON.stringify((value as unknown[]).map((v) => decodeElement(s.items, v)));
    case 'map':
    case 'struct':
      return JSON.stringify(value);
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
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
