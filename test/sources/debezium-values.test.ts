/** Debezium/Kafka Connect value encodings → canonical raw values (unit tests, with round-trip properties). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalTimestamp, decimalFromUnscaled, isoFromMicros } from '../../src/sources/cdc/canonical.js';
import { fromPg, parsePgArray, PgTypeRegistry } from '../../src/sources/cdc/pg-types.js';
import {
  decodeConnectValue,
  rawTypeOfSchema,
  unscaledFromBase64,
  type ConnectSchema,
} from '../../src/sources/debezium/connect.js';
import { DebeziumEncoder } from '../../src/sources/debezium/encode.js';

const decimal = (scale: number): ConnectSchema => ({
  type: 'bytes',
  name: 'org.apache.kafka.connect.data.Decimal',
  version: 1,
  parameters: { scale: String(scale), 'connect.decimal.precision': '12' },
});
const named = (type: string, name: string): ConnectSchema => ({ type, name, version: 1 });

describe('Connect decimals', () => {
  it('decodes base64 two-complement unscaled values with the schema scale', () => {
    expect(decodeConnectValue(decimal(2), 'MNk=')).toBe('125.05'); // 0x30D9 = 12505
    expect(decodeConnectValue(decimal(2), 'AIA=')).toBe('1.28'); // 0x0080: leading zero byte keeps it positive
    expect(decodeConnectValue(decimal(2), '/w==')).toBe('-0.01'); // 0xFF = -1
    expect(decodeConnectValue(decimal(4), 'BLA=')).toBe('0.1200'); // 1200, scale kept
    expect(decodeConnectValue(decimal(0), 'AQ==')).toBe('1');
    expect(decodeConnectValue(decimal(2), '')).toBe('0.00');
    expect(
      decodeConnectValue(named('struct', 'io.debezium.data.VariableScaleDecimal'), {
        scale: 3,
        value: 'BNI=',
      }),
    ).toBe('1.234');
    expect(rawTypeOfSchema(decimal(2))).toBe('decimal');
  });

  it('round-trips any decimal through the encoder', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: 0, max: 10 }),
        (unscaled, scale) => {
          const text = decimalFromUnscaled(unscaled, scale);
          const enc = new DebeziumEncoder(new PgTypeRegistry(), { server: 's', db: 'd' });
          const ev = enc.transaction({
            xid: 1,
            commitLsn: '0/10',
            endLsn: '0/20',
            commitTime: '2026-01-01 00:00:00+00',
            messages: [],
            changes: [
              {
                action: 'I',
                xid: 1,
                timestamp: '',
                lsn: '0/8',
                schema: 'public',
                table: 't',
                columns: [{ name: 'n', type: `numeric(38,${scale})`, typeoid: 1700, value: text }],
              },
            ],
          });
          const after = (ev[0]?.value['payload'] as { after: { n: string } }).after.n;
          expect(unscaledFromBase64(after)).toBe(unscaled);
          expect(decodeConnectValue(decimal(scale), after)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Debezium time encodings', () => {
  it('decodes dates, timestamps and times to the same spelling as logical decoding', () => {
    expect(decodeConnectValue(named('int32', 'io.debezium.time.Date'), 20_454)).toBe('2026-01-01');
    expect(decodeConnectValue(named('int32', 'io.debezium.time.Date'), -1)).toBe('1969-12-31');
    expect(decodeConnectValue(named('int64', 'io.debezium.time.Timestamp'), 1_767_261_600_123)).toBe(
      '2026-01-01T10:00:00.123000Z',
    );
    expect(decodeConnectValue(named('int64', 'io.debezium.time.MicroTimestamp'), 1_767_261_600_123_456)).toBe(
      '2026-01-01T10:00:00.123456Z',
    );
    expect(decodeConnectValue(named('int64', 'io.debezium.time.MicroTimestamp'), -1)).toBe(
      '1969-12-31T23:59:59.999999Z',
    );
    expect(decodeConnectValue(named('int64', 'io.debezium.time.NanoTimestamp'), '1767261600123456789')).toBe(
      '2026-01-01T10:00:00.123456Z',
    );
    expect(
      decodeConnectValue(named('string', 'io.debezium.time.ZonedTimestamp'), '2026-01-01T10:00:00.5Z'),
    ).toBe('2026-01-01T10:00:00.500000Z');
    expect(
      decodeConnectValue(
        named('string', 'io.debezium.time.ZonedTimestamp'),
        '2026-01-01T12:00:00.123456+02:00',
      ),
    ).toBe('2026-01-01T10:00:00.123456Z');
    expect(decodeConnectValue(named('int64', 'io.debezium.time.MicroTime'), 37_800_000_001)).toBe(
      '10:30:00.000001',
    );
    expect(decodeConnectValue(named('int32', 'org.apache.kafka.connect.data.Date'), 0)).toBe('1970-01-01');
    for (const n of [
      'io.debezium.time.Timestamp',
      'io.debezium.time.MicroTimestamp',
      'io.debezium.time.ZonedTimestamp',
    ])
      expect(rawTypeOfSchema(named('int64', n))).toBe('timestamp');
  });

  it('agrees with PostgreSQL text output for any instant', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 4n * 10n ** 15n }), (micros) => {
        const iso = isoFromMicros(micros);
        const pgText = `${iso.slice(0, 10)} ${iso.slice(11, 26)}+00`;
        expect(canonicalTimestamp(pgText)).toBe(iso);
        expect(decodeConnectValue(named('int64', 'io.debezium.time.MicroTimestamp'), Number(micros))).toBe(
          iso,
        );
        expect(fromPg({ oid: 1184, kind: 'timestamp' }, pgText)).toBe(iso);
      }),
      { numRuns: 300 },
    );
  });
});

describe('other Connect values', () => {
  it('decodes JSON, bytes, arrays, integers and booleans', () => {
    expect(decodeConnectValue(named('string', 'io.debezium.data.Json'), '{"a": 1}')).toBe('{"a": 1}');
    expect(rawTypeOfSchema(named('string', 'io.debezium.data.Json'))).toBe('json');
    expect(decodeConnectValue({ type: 'bytes' }, 'AQL/')).toBe('\\x0102ff');
    expect(decodeConnectValue({ type: 'array', items: { type: 'string' } }, ['wifi', 'free parking'])).toBe(
      '["wifi","free parking"]',
    );
    expect(decodeConnectValue({ type: 'int64' }, 9_007_199_254_740_991)).toBe(9_007_199_254_740_991);
    expect(decodeConnectValue({ type: 'int64' }, '9007199254740993')).toBe('9007199254740993');
    expect(decodeConnectValue({ type: 'boolean' }, true)).toBe(true);
    expect(decodeConnectValue(undefined, { nested: 1 })).toBe('{"nested":1}');
  });

  it('parses PostgreSQL array literals like Debezium arrays', () => {
    const text = { oid: 25, kind: 'text' } as const;
    expect(parsePgArray('{wifi,"free parking","say \\"hi\\"",NULL}', text)).toEqual([
      'wifi',
      'free parking',
      'say "hi"',
      null,
    ]);
    expect(parsePgArray('{{1,2},{3,4}}', { oid: 23, kind: 'bigint' })).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parsePgArray('{}', text)).toEqual([]);
    expect(fromPg({ oid: 1009, kind: 'array', elem: text }, '{a,b}')).toBe('["a","b"]');
  });
});
