/** DebeziumDecoder on hand-written events in the connector's JSON format (unit tests, no services). */
import { describe, expect, it } from 'vitest';
import { DebeziumDecoder } from '../../src/sources/debezium/decoder.js';
import { debeziumInput, DebeziumStream } from '../../src/sources/debezium/stream.js';
import { PiiPolicy } from '../../src/sources/pii.js';
import { MemorySink } from '../../src/sources/sinks/memory-sink.js';

const valueSchema = {
  type: 'struct',
  optional: true,
  name: 'bme.public.purchases.Value',
  fields: [
    { type: 'int64', optional: false, field: 'purchase_id' },
    {
      type: 'string',
      optional: false,
      name: 'io.debezium.data.Enum',
      version: 1,
      parameters: { allowed: 'pending,confirmed,cancelled,refunded' },
      field: 'status',
    },
    {
      type: 'bytes',
      optional: false,
      name: 'org.apache.kafka.connect.data.Decimal',
      version: 1,
      parameters: { scale: '2', 'connect.decimal.precision': '12' },
      field: 'amount',
    },
    { type: 'int32', optional: false, name: 'io.debezium.time.Date', version: 1, field: 'event_date' },
    {
      type: 'string',
      optional: true,
      name: 'io.debezium.time.ZonedTimestamp',
      version: 1,
      field: 'confirmed_at',
    },
    { type: 'string', optional: true, field: 'notes' },
  ],
};
const schema = {
  type: 'struct',
  optional: false,
  name: 'bme.public.purchases.Envelope',
  version: 2,
  fields: [
    { ...valueSchema, field: 'before' },
    { ...valueSchema, field: 'after' },
    { type: 'struct', field: 'source', fields: [] },
    { type: 'string', field: 'op' },
  ],
};

interface Ev {
  op: string;
  txId: number | null;
  lsn: number;
  last: number | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  snapshot?: string;
  table?: string;
}
const event = (e: Ev) =>
  JSON.stringify({
    schema,
    payload: {
      before: e.before ?? null,
      after: e.after ?? null,
      source: {
        version: '2.7.3.Final',
        connector: 'postgresql',
        name: 'bme',
        ts_ms: 1_764_064_800_123,
        ts_us: 1_764_064_800_123_456 + e.lsn,
        snapshot: e.snapshot ?? 'false',
        db: 'inventory',
        sequence: JSON.stringify([e.last === null ? null : String(e.last), String(e.lsn)]),
        schema: 'public',
        table: e.table ?? 'purchases',
        txId: e.txId,
        lsn: e.lsn,
        xmin: null,
      },
      op: e.op,
      ts_ms: 1_764_064_800_200,
      transaction: e.txId === null ? null : { id: String(e.txId), total_order: 1, data_collection_order: 1 },
    },
  });

const row = (id: number, status: string, extra: Record<string, unknown> = {}) => ({
  purchase_id: id,
  status,
  amount: 'MNk=',
  event_date: 20_454,
  confirmed_at: null,
  notes: 'n',
  ...extra,
});

function decode(lines: string[], pii = PiiPolicy.none(), tables?: string[]) {
  const d = new DebeziumDecoder('inventory_db', pii, tables ? { tables } : {});
  const records = lines.flatMap((l, i) => d.push(debeziumInput(l, `f:${i + 1}`, 'bme.public.purchases')));
  return { d, records };
}

describe('DebeziumDecoder', () => {
  it('places each transaction at the end LSN of its commit, learnt from the next event', () => {
    const { d, records } = decode([
      event({ op: 'c', txId: 700, lsn: 1000, last: 900, after: row(1, 'pending') }),
      event({ op: 'c', txId: 700, lsn: 1100, last: 900, after: row(2, 'pending') }),
      event({
        op: 'u',
        txId: 701,
        lsn: 1300,
        last: 1250,
        before: row(1, 'pending'),
        after: row(1, 'confirmed', { confirmed_at: '2026-11-25T10:00:00Z' }),
      }),
      event({ op: 'd', txId: 702, lsn: 1500, last: 1400, before: row(2, 'pending') }),
      event({ op: 't', txId: 703, lsn: 1700, last: 1600 }),
    ]);
    expect(
      records.map((r) => [r.lsn, r.seq, r.txid, r.op, r.values['purchase_id'], r.values['status']]),
    ).toEqual([
      ['00000000000004E2', 0, 700, 'c', 1, 'pending'], // 0x4E2 = 1250: sequence[0] of tx 701's event
      ['00000000000004E2', 1, 700, 'c', 2, 'pending'],
      ['0000000000000578', 0, 701, 'u', 1, 'confirmed'],
      ['0000000000000640', 0, 702, 'd', 2, 'pending'],
    ]);
    expect(records[0]?.values).toMatchObject({
      amount: '125.05',
      event_date: '2026-01-01',
      confirmed_at: null,
    });
    expect(records[2]?.values['confirmed_at']).toBe('2026-11-25T10:00:00.000000Z');
    expect(records[0]?.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'purchase_id:bigint',
      'status:varchar',
      'amount:decimal',
      'event_date:date',
      'confirmed_at:timestamp',
      'notes:varchar',
    ]);
    expect(d.pendingOrigin).toBe('f:5'); // the truncate waits for its successor
    expect(d.pendingHasRows).toBe(true);
    expect(d.completeUpTo).toBe('2025-11-25T10:00:00.125155Z'); // 1 µs before tx 703's commit
  });

  it('lands snapshot reads at once, with content-derived positions, and truncates without columns', () => {
    const snap = (id: number, flag: string) =>
      event({ op: 'r', txId: 555, lsn: 800, last: null, after: row(id, 'pending'), snapshot: flag });
    const { records } = decode([
      snap(1, 'first'),
      snap(2, 'last'),
      event({ op: 't', txId: 900, lsn: 900, last: null }),
      event({ op: 'c', txId: 901, lsn: 1000, last: 950, after: row(3, 'pending') }),
    ]);
    expect(records.map((r) => [r.op, r.lsn, r.txid])).toEqual([
      ['r', '0000000000000320', null],
      ['r', '0000000000000320', null],
      ['t', '00000000000003B6', 900],
    ]);
    expect(records[0]?.seq).toMatch(/^\d+$/);
    expect(records[0]?.seq).not.toBe(records[1]?.seq);
    expect(decode([snap(1, 'true')]).records[0]?.seq).toBe(records[0]?.seq); // stable across re-reads
    expect(records[2]?.columns).toEqual([]);
  });

  it('skips tombstones, transaction metadata, heartbeats and other tables', () => {
    const { d, records } = decode(
      [
        'null',
        JSON.stringify({ schema: null, payload: null }),
        JSON.stringify({ status: 'BEGIN', id: '700', event_count: null, data_collections: null, ts_ms: 1 }),
        JSON.stringify({ ts_ms: 1_764_064_800_000 }),
        event({ op: 'c', txId: 700, lsn: 1000, last: 900, after: row(1, 'x'), table: 'listings' }),
        event({ op: 'c', txId: 701, lsn: 1100, last: 1050, after: row(1, 'x') }),
      ],
      PiiPolicy.none(),
      ['purchases'],
    );
    expect(d.stats).toMatchObject({ tombstones: 2, metadata: 2, skipped: 1, quarantined: 0 });
    expect(records).toEqual([]);
  });

  it('reads the flattened ExtractNewRecordState variant, deletes rewritten with __deleted', () => {
    const flat = (fields: Record<string, unknown>) =>
      JSON.stringify({
        schema: {
          type: 'struct',
          fields: [
            ...valueSchema.fields,
            { type: 'string', optional: true, field: '__op' },
            { type: 'string', optional: true, field: '__deleted' },
          ],
        },
        payload: fields,
      });
    const meta = (op: string, tx: number, lsn: number, last: number) => ({
      __op: op,
      __table: 'purchases',
      __txId: tx,
      __lsn: lsn,
      __source_ts_ms: 1_764_064_800_123,
      __sequence: `["${last}","${lsn}"]`,
    });
    const { records } = decode([
      flat({ ...row(1, 'pending'), ...meta('c', 10, 100, 50), __deleted: 'false' }),
      flat({ ...row(1, 'pending'), ...meta('d', 11, 200, 150), __deleted: 'true' }),
      flat({ ...row(2, 'pending'), ...meta('c', 12, 300, 250), __deleted: 'false' }),
    ]);
    expect(records.map((r) => [r.op, r.lsn, r.commitTime, r.values['amount']])).toEqual([
      ['c', '0000000000000096', '2025-11-25T10:00:00.123000Z', '125.05'],
      ['d', '00000000000000FA', '2025-11-25T10:00:00.123000Z', '125.05'],
    ]);
    expect(records[0]?.values).not.toHaveProperty('__op');
  });

  it('restores unchanged TOAST placeholders from the before image', () => {
    const { records } = decode([
      event({
        op: 'u',
        txId: 1,
        lsn: 10,
        last: 5,
        before: row(1, 'pending', { notes: 'long text' }),
        after: row(1, 'confirmed', { notes: '__debezium_unavailable_value' }),
      }),
      event({ op: 'c', txId: 2, lsn: 30, last: 20, after: row(2, 'pending') }),
    ]);
    expect(records[0]?.values['notes']).toBe('long text');
  });

  it('infers types when events carry no schema', () => {
    const { records } = decode([
      JSON.stringify({
        op: 'c',
        before: null,
        after: { id: 1, price: 1.5, name: 'x', ok: true, tags: ['a'], gone: null },
        source: { txId: 1, lsn: 10, sequence: '["5","10"]', ts_us: 1, table: 't' },
      }),
      JSON.stringify({
        op: 'c',
        before: null,
        after: { id: 2 },
        source: { txId: 2, lsn: 30, sequence: '["20","30"]', ts_us: 2, table: 't' },
      }),
    ]);
    expect(records[0]?.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'price', type: 'double' },
      { name: 'name', type: 'varchar' },
      { name: 'ok', type: 'boolean' },
      { name: 'tags', type: 'json' },
    ]);
    expect(records[0]?.values).toEqual({ id: 1, price: 1.5, name: 'x', ok: true, tags: '["a"]' });
  });

  it('quarantines what it cannot place or read, without PII in clear', async () => {
    const pii = PiiPolicy.create('inventory_db', { notes: 'drop' });
    const sink = new MemorySink();
    const stream = new DebeziumStream(sink, { source: 'inventory_db', pii: { notes: 'drop' } });
    const lines = [
      event({ op: 'c', txId: 1, lsn: 100, last: 50, after: row(1, 'pending', { notes: 'secret note' }) }),
      event({ op: 'c', txId: 2, lsn: 300, last: 90, after: row(2, 'pending') }), // 90 < 100: cannot place tx 1
      '{"op":"c","after":{"notes":"secret note"',
      event({ op: 'c', txId: null, lsn: 400, last: 350, after: row(3, 'pending') }),
      event({ op: 'c', txId: 4, lsn: 500, last: 450, after: row(4, 'pending') }),
    ];
    for (const [i, l] of lines.entries()) await stream.push(debeziumInput(l, `f:${i + 1}`));
    await stream.flush();
    const q = [...sink.quarantined.values()];
    expect(q.map((r) => [r.origin, r.reason.split(':')[0]])).toEqual([
      ['f:1', 'cannot place transaction 1'],
      ['f:3', 'not JSON'],
      ['f:4', 'change event without source.txId (or __txId)'],
    ]);
    expect(JSON.stringify(q)).not.toContain('secret note');
    expect(q[1]?.raw).toMatch(/^<unparsed, \d+ bytes>$/);
    expect(sink.rows('raw.inventory_db_purchases_changes').map((r) => r['purchase_id'])).toEqual([2]);
    expect(pii.active).toBe(true);
  });
});
