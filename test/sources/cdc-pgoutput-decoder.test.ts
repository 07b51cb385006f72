/**
 * PgOutputDecoder on hand-built messages (the wire format of PostgreSQL's "Logical Replication Message
 * Formats"): the shapes the real-server tests cannot force (an update with unchanged TOAST and a key-only old
 * row, a truncate of relations announced earlier) and the clear errors for input the capture must not guess at.
 */
import { describe, expect, it } from 'vitest';
import { PgOutputDecoder } from '../../src/sources/cdc/pgoutput.js';

const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** A message builder: bytes in order, big-endian integers, NUL-terminated strings. */
class Msg {
  private readonly parts: Buffer[] = [];
  byte(c: string | number): this {
    this.parts.push(Buffer.from([typeof c === 'string' ? c.charCodeAt(0) : c]));
    return this;
  }
  i16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    this.parts.push(b);
    return this;
  }
  i32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }
  i64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    this.parts.push(Buffer.from(`${s}\0`, 'utf8'));
    return this;
  }
  text(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.byte('t').i32(b.length).raw(b);
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  get buf(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const at = (iso: string) => BigInt(Date.parse(iso)) * 1000n + 123n - PG_EPOCH_MICROS;
const begin = (xid: number) =>
  new Msg().byte('B').i64(0x1_0000_0000n).i64(at('2026-11-25T12:00:00.456Z')).i32(xid).buf;
const commit = () =>
  new Msg().byte('C').byte(0).i64(0x1_0000_0010n).i64(0x1_0000_0040n).i64(at('2026-11-25T12:00:00.456Z')).buf;
/** Relation 16384 public.notes (id int4 key, body text, n int4). */
const relation = (oid = 16384) =>
  new Msg()
    .byte('R')
    .i32(oid)
    .str('public')
    .str('notes')
    .byte('d')
    .i16(3)
    .byte(1)
    .str('id')
    .i32(23)
    .i32(-1)
    .byte(0)
    .str('body')
    .i32(25)
    .i32(-1)
    .byte(0)
    .str('n')
    .i32(23)
    .i32(-1).buf;

describe('PgOutputDecoder', () => {
  it('assembles a transaction: commit position and time, images, unchanged TOAST, key-only rows, truncate', () => {
    const d = new PgOutputDecoder();
    expect(d.push(begin(7))).toBeUndefined();
    d.push(relation());
    d.push(new Msg().byte('I').i32(16384).byte('N').i16(3).text('1').text('héllo').byte('n').buf);
    // Update: a key-only old row, and the body unchanged (TOAST, not sent): restored from nothing, left out.
    d.push(
      new Msg()
        .byte('U')
        .i32(16384)
        .byte('K')
        .i16(3)
        .text('1')
        .byte('n')
        .byte('n')
        .byte('N')
        .i16(3)
        .text('1')
        .byte('u')
        .text('2').buf,
    );
    d.push(new Msg().byte('D').i32(16384).byte('K').i16(3).text('1').byte('n').byte('n').buf);
    d.push(new Msg().byte('T').i32(1).byte(0).i32(16384).buf);
    d.push(new Msg().byte('M').byte(1).i64(1n).str('tessera_heartbeat').i32(2).raw(Buffer.from('hi')).buf);
    expect(d.inTransaction).toBe(true);
    const tx = d.push(commit());
    expect(d.inTransaction).toBe(false);
    expect(tx).toMatchObject({
      xid: 7,
      commitLsn: '1/10',
      endLsn: '1/40',
      commitTime: '2026-11-25T12:00:00.456123Z',
      messages: [{ transactional: true, prefix: 'tessera_heartbeat', content: 'hi' }],
    });
    expect(tx?.changes).toEqual([
      {
        action: 'I',
        schema: 'public',
        table: 'notes',
        row: { names: ['id', 'body', 'n'], typeoids: [23, 25, 23], values: ['1', 'héllo', null] },
      },
      {
        action: 'U',
        schema: 'public',
        table: 'notes',
        row: { names: ['id', 'n'], typeoids: [23, 23], values: ['1', '2'] },
        old: { names: ['id'], typeoids: [23], values: ['1'] },
      },
      {
        action: 'D',
        schema: 'public',
        table: 'notes',
        old: { names: ['id'], typeoids: [23], values: ['1'] },
      },
      { action: 'T', schema: 'public', table: 'notes' },
    ]);
  });

  it('refuses what it cannot decode faithfully, with a message that says what', () => {
    const change = new Msg().byte('I').i32(99).byte('N').i16(1).text('1').buf;
    const d = new PgOutputDecoder();
    d.push(begin(8));
    expect(() => d.push(change)).toThrow('change on relation 99 before its RELATION message');
    d.push(relation());
    expect(() =>
      d.push(new Msg().byte('I').i32(16384).byte('N').i16(1).byte('b').i32(1).byte(1).buf),
    ).toThrow('binary values are not requested');
    expect(() => d.push(new Msg().byte('S').i32(8).byte(1).buf)).toThrow("unexpected message 'S'");
    expect(() => d.push(begin(9))).toThrow('BEGIN inside transaction 8');
    d.reset();
    expect(() => d.push(commit())).toThrow('COMMIT without BEGIN');
    expect(() => d.push(new Msg().byte('I').i32(16384).byte('N').i16(1).text('1').buf)).toThrow(
      'I on public.notes outside a transaction',
    );
  });
});
