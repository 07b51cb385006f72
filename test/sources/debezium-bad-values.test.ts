/**
 * Values that cannot be what their schema says (issue 15 finding 2) and Debezium JSON without schemas
 * (issue 18): a bad event is quarantined with its reason and `file:line`, the events after it land, and a
 * source can declare column types so schema-less decimals and timestamps decode to the right values.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceConfigError } from '../../src/sources/cdc/errors.js';
import { DebeziumDecoder } from '../../src/sources/debezium/decoder.js';
import { readDebeziumFolder } from '../../src/sources/debezium/file.js';
import { PiiPolicy } from '../../src/sources/pii.js';
import { MemorySink } from '../../src/sources/sinks/memory-sink.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-bad-values-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const userSchema = {
  type: 'struct',
  fields: [
    { type: 'int64', optional: false, field: 'user_id' },
    { type: 'string', optional: true, field: 'country' },
  ],
};
const envelopeSchema = {
  type: 'struct',
  fields: [
    { ...userSchema, field: 'before' },
    { ...userSchema, field: 'after' },
    { type: 'struct', field: 'source', fields: [] },
    { type: 'string', field: 'op' },
  ],
};

const source = (txId: number, lsn: number, last: number, table: string) => ({
  ts_us: 1_764_064_800_000_000 + lsn,
  txId,
  lsn,
  sequence: JSON.stringify([String(last), String(lsn)]),
  table,
});

/** A users insert with a schema (schemas.enable=true). */
const userEvent = (txId: number, lsn: number, last: number, userId: unknown) =>
  JSON.stringify({
    schema: envelopeSchema,
    payload: {
      op: 'c',
      before: null,
      after: { user_id: userId, country: 'DE' },
      source: source(txId, lsn, last, 'users'),
    },
  });

/** A purchases insert without a schema (schemas.enable=false). */
const purchaseEvent = (txId: number, lsn: number, last: number, after: Record<string, unknown>) =>
  JSON.stringify({ op: 'c', before: null, after, source: source(txId, lsn, last, 'purchases') });

const heartbeat = (txId: number, lsn: number, last: number) =>
  JSON.stringify({ op: 'm', source: source(txId, lsn, last, ''), message: { prefix: 'hb', content: '' } });

describe('a Debezium value that cannot be decoded', () => {
  it('is quarantined with its reason, file and line, and the events after it land', async () => {
    await writeFile(
      join(dir, 'user_db-20261124.ndjson'),
      [
        userEvent(10, 100, 50, 1),
        userEvent(11, 200, 150, 'not-a-number'), // same transaction as the next event
        userEvent(11, 210, 150, 3),
        userEvent(12, 300, 250, 4),
        heartbeat(13, 400, 350),
      ].join('\n'),
    );
    const sink = new MemorySink();
    const first = await readDebeziumFolder(dir, sink, { source: 'user_db' });
    expect(first).toMatchObject({ quarantined: 1, inserted: 3, done: ['user_db-20261124.ndjson'] });
    const rows = sink.rows('raw.user_db_users_changes');
    // The bad event keeps its position in its transaction: the event after it is still _seq 1.
    expect(rows.map((r) => [r['user_id'], r['_seq']])).toEqual([
      [1, 0],
      [3, 1],
      [4, 0],
    ]);
    const q = [...sink.quarantined.values()];
    expect(q).toHaveLength(1);
    expect(q[0]?.origin).toBe('user_db-20261124.ndjson:2');
    expect(q[0]?.reason).toBe(
      'undecodable value: users.user_id: int64: expected an integer, got "not-a-number"',
    );
    expect(q[0]?.raw).toContain('not-a-number'); // replayable after a fix (no PII rule on it)

    // The next pass is not blocked by it: a new file lands.
    await writeFile(
      join(dir, 'user_db-20261125.ndjson'),
      [userEvent(14, 500, 450, 5), heartbeat(15, 600, 550)].join('\n'),
    );
    const second = await readDebeziumFolder(dir, sink, { source: 'user_db' });
    expect(second).toMatchObject({ quarantined: 0, inserted: 1 });
    expect((await readdir(join(dir, 'done'))).sort()).toEqual([
      'user_db-20261124.ndjson',
      'user_db-20261125.ndjson',
    ]);
  });

  it('does not quote the value of a PII column in the reason', () => {
    const pii = PiiPolicy.create('user_db', { user_id: 'hash' }, 'a-test-key-of-16-chars');
    const d = new DebeziumDecoder('user_db', pii);
    d.push({ value: JSON.parse(userEvent(1, 10, 5, 'secret-42')) as unknown, origin: 'f:1', text: '' });
    const [q] = d.drainQuarantine();
    expect(q?.reason).toBe(
      'undecodable value: users.user_id: not a valid int64 (value withheld: PII column)',
    );
    expect(JSON.stringify(q)).not.toContain('secret-42');
  });
});

describe('Debezium JSON without schemas, with declared column types', () => {
  const columnTypes = {
    'purchases.amount': 'decimal(2)',
    'purchases.created_at': 'timestamp(us)',
    'purchases.event_date': 'date',
  };
  const lines = [
    // 10.00 is unscaled 1000 = 0x03E8 → "A+g="; -0.01 is 0xFF → "/w=="; 2026-11-24T10:00:00.123456Z in µs.
    purchaseEvent(10, 100, 50, {
      purchase_id: 1,
      amount: 'A+g=',
      created_at: 1_795_514_400_123_456,
      event_date: 20_781,
    }),
    purchaseEvent(11, 200, 150, { purchase_id: 2, amount: '/w==', created_at: 0, event_date: null }),
    purchaseEvent(12, 300, 250, { purchase_id: 3, amount: 'not base64!', created_at: 1, event_date: 0 }),
    purchaseEvent(13, 400, 350, { purchase_id: 4, amount: 'AA==', created_at: 'noon', event_date: 0 }),
    heartbeat(14, 500, 450),
  ];

  it('decodes decimals and microsecond timestamps to their values and quarantines what does not decode', async () => {
    await writeFile(join(dir, 'inventory_db-20261124.ndjson'), lines.join('\n'));
    const sink = new MemorySink();
    const r = await readDebeziumFolder(dir, sink, { source: 'inventory_db', columnTypes });
    expect(r).toMatchObject({ inserted: 2, quarantined: 2 });
    const table = 'raw.inventory_db_purchases_changes';
    expect(await sink.describe(table)).toEqual(
      expect.arrayContaining([
        { name: 'amount', type: 'decimal' },
        { name: 'created_at', type: 'timestamp' },
        { name: 'event_date', type: 'date' },
      ]),
    );
    expect(
      sink.rows(table).map((x) => [x['purchase_id'], x['amount'], x['created_at'], x['event_date']]),
    ).toEqual([
      [1, '10.00', '2026-11-24T10:00:00.123456Z', '2026-11-24'],
      [2, '-0.01', '1970-01-01T00:00:00.000000Z', null],
    ]);
    expect([...sink.quarantined.values()].map((q) => [q.origin, q.reason])).toEqual([
      [
        'inventory_db-20261124.ndjson:3',
        'undecodable value: purchases.amount: decimal: expected base64 bytes, got "not base64!"',
      ],
      [
        'inventory_db-20261124.ndjson:4',
        'undecodable value: purchases.created_at: timestamp (µs): expected an integer, got "noon"',
      ],
    ]);
  });

  it('without declared types lands the base64 text (the reason to declare them)', async () => {
    await writeFile(
      join(dir, 'inventory_db-20261124.ndjson'),
      lines
        .slice(0, 1)
        .concat(lines[4] ?? '')
        .join('\n'),
    );
    const sink = new MemorySink();
    await readDebeziumFolder(dir, sink, { source: 'inventory_db' });
    expect(sink.rows('raw.inventory_db_purchases_changes')[0]?.['amount']).toBe('A+g=');
  });

  it('refuses an unknown type spelling at start-up, naming the column', async () => {
    await expect(
      readDebeziumFolder(dir, new MemorySink(), {
        source: 'inventory_db',
        columnTypes: { 'purchases.amount': 'decimal' },
      }),
    ).rejects.toThrow(SourceConfigError);
    expect(() => new DebeziumDecoder('x', PiiPolicy.none(), { columnTypes: { a: 'money' } })).toThrow(
      /column type of a must be one of decimal\(<scale>\), bigint/,
    );
  });
});
