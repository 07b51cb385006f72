import { formatPgLsn } from './lsn.js';
import type {
  LogicalChange,
  LogicalDecoder,
  LogicalImage,
  LogicalMessage,
  LogicalTransaction,
} from './logical.js';

/**
 * PostgreSQL's built-in `pgoutput` plugin (protocol version 1, text values), the one Debezium and
 * PostgreSQL's own subscriptions use. It needs no extension, only a publication listing the captured
 * tables, and its binary messages cost far less to decode than wal2json's JSON (bench/cdc.ts).
 *
 * Messages (PostgreSQL docs, "Logical Replication Message Formats"; integers big-endian, strings
 * NUL-terminated):
 *   B  Int64 final LSN, Int64 commit time (µs since 2000-01-01), Int32 xid
 *   C  Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 commit time
 *   R  Int32 relation OID, String namespace, String name, Int8 replica identity, Int16 n,
 *      n × (Int8 flags (1 = key column), String name, Int32 type OID, Int32 typmod)
 *   I  Int32 relation, 'N' tuple          U  Int32 relation, ['K'|'O' tuple], 'N' tuple
 *   D  Int32 relation, 'K'|'O' tuple      T  Int32 n, Int8 options, n × Int32 relation
 *   M  Int8 flags (1 = transactional), Int64 LSN, String prefix, Int32 length, bytes
 *   Y, O  type and origin announcements (ignored)
 *   tuple: Int16 n, n × ('n' null | 'u' unchanged TOAST | 't' Int32 length, text)
 * A relation is announced before its first change in each decoding session and after it changes.
 */

/** Protocol 1, text values, logical messages (heartbeat, replay clock); the publication is added per slot. */
const PROTOCOL_OPTIONS: readonly (readonly [string, string])[] = [
  ['proto_version', '1'],
  ['messages', 'true'],
];

/** START_REPLICATION options. */
export function pgoutputOptions(publication: string): readonly (readonly [string, string])[] {
  return [...PROTOCOL_OPTIONS, ['publication_names', publication]];
}

/** SQL reading up to $2 changes (whole transactions) from slot $1 without consuming them; $3 = publication. */
export const PEEK_PGOUTPUT_SQL = `SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, $2, ${PROTOCOL_OPTIONS.map(
  ([k, v]) => `'${k}', '${v}'`,
).join(', ')}, 'publication_names', $3)`;

interface Relation {
  readonly schema: string;
  readonly table: string;
  readonly names: readonly string[];
  readonly typeoids: readonly number[];
  readonly key: readonly boolean[];
}

const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** Microseconds since 2000-01-01 → ISO-8601 UTC with six fraction digits. */
function commitTimeText(pgMicros: bigint): string {
  const micros = pgMicros + PG_EPOCH_MICROS;
  const millis = micros / 1000n;
  const date = new Date(Number(millis));
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 1 || year > 9999)
    throw new Error(`pgoutput: commit time ${pgMicros} µs is out of range`);
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const sub = Number(((micros % 1000n) + 1000n) % 1000n);
  return `${iso.slice(0, 23)}${String(sub).padStart(3, '0')}Z`;
}

/**
 * Reads a pgoutput message. Every read is bounds-checked: a truncated or corrupt message is refused with a
 * `pgoutput:` reason naming the byte, never read past its end (a Buffer would throw a RangeError there, or cut a
 * text value short without a word).
 */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length)
      throw new Error(
        `pgoutput: message truncated: ${what} needs ${n} byte(s) at byte ${this.pos} of ${this.buf.length}`,
      );
  }
  u8(): number {
    this.need(1, 'a byte');
    return this.buf[this.pos++] as number;
  }
  i16(): number {
    this.need(2, 'an int16');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4, 'an int32');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4, 'an int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8, 'an int64');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8, 'an int64');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new Error('pgoutput: unterminated string');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  text(length: number): string {
    this.need(length, 'a value');
    const s = this.buf.toString('utf8', this.pos, this.pos + length);
    this.pos += length;
    return s;
  }
  skip(length: number): void {
    this.need(length, 'a value');
    this.pos += length;
  }
  /** A row message must end where its last column does: trailing bytes mean it was not read as sent. */
  end(what: string): void {
    if (this.pos !== this.buf.length)
      throw new Error(`pgoutput: ${what} has ${this.buf.length - this.pos} trailing byte(s)`);
  }
}

export class PgOutputDecoder implements LogicalDecoder {
  private readonly relations = new Map<number, Relation>();
  private open:
    { xid: number; changes: LogicalChange[]; messages: LogicalMessage[]; commitTime: string } | undefined;

  reset(): void {
    this.open = undefined;
  }

  /** A BEGIN was decoded and its COMMIT not yet. */
  get inTransaction(): boolean {
    return this.open !== undefined;
  }

  push(message: Buffer): LogicalTransaction | undefined {
    const r = new Reader(message);
    const kind = String.fromCharCode(r.u8());
    switch (kind) {
      case 'B': {
        if (this.open) throw new Error(`pgoutput: BEGIN inside transaction ${this.open.xid}`);
        r.u64(); // final LSN (= the commit's LSN, repeated by C)
        const commitTime = commitTimeText(r.i64());
        this.open = { xid: r.u32(), changes: [], messages: [], commitTime };
        return undefined;
      }
      case 'C': {
        const open = this.open;
        if (!open) throw new Error('pgoutput: COMMIT without BEGIN');
        r.u8();
        const commitLsn = formatPgLsn(r.u64());
        const endLsn = formatPgLsn(r.u64());
        this.open = undefined;
        return {
          xid: open.xid,
          commitLsn,
          endLsn,
          commitTime: commitTimeText(r.i64()),
          changes: open.changes,
          messages: open.messages,
        };
      }
      case 'R': {
        const oid = r.u32();
        const schema = r.cstring() || 'pg_catalog';
        const table = r.cstring();
        r.u8(); // replica identity setting: the key flags below say which columns a 'K' tuple has
        const n = r.i16();
        const names: string[] = [];
        const typeoids: number[] = [];
        const key: boolean[] = [];
        for (let i = 0; i < n; i++) {
          key.push((r.u8() & 1) === 1);
          names.push(r.cstring());
          typeoids.push(r.u32());
          r.i32(); // typmod
        }
        this.relations.set(oid, { schema, table, names, typeoids, key });
        return undefined;
      }
      case 'I': {
        const rel = this.relation(r.u32());
        expect(r.u8(), 'N', 'INSERT');
        this.change({ action: 'I', schema: rel.schema, table: rel.table, row: tuple(r, rel, false) });
        r.end('INSERT');
        return undefined;
      }
      case 'U': {
        const rel = this.relation(r.u32());
        let flag = String.fromCharCode(r.u8());
        let old: { at: number; keyOnly: boolean } | undefined;
        if (flag === 'K' || flag === 'O') {
          // The old row is read only if the new one lacks something (unchanged TOAST): with REPLICA
          // IDENTITY FULL it doubles every update, and decoding needs it for nothing else.
          old = { at: r.pos, keyOnly: flag === 'K' };
          skipTuple(r);
          flag = String.fromCharCode(r.u8());
        }
        if (flag !== 'N') throw new Error(`pgoutput: UPDATE with tuple marker ${flag}`);
        const row = tuple(r, rel, false);
        r.end('UPDATE');
        let oldRow: LogicalImage | undefined;
        if (old && row.names.length < rel.names.length) {
          const end = r.pos;
          r.pos = old.at;
          oldRow = tuple(r, rel, old.keyOnly);
          r.pos = end;
        }
        this.change({
          action: 'U',
          schema: rel.schema,
          table: rel.table,
          row,
          ...(oldRow ? { old: oldRow } : {}),
        });
        return undefined;
      }
      case 'D': {
        const rel = this.relation(r.u32());
        const flag = String.fromCharCode(r.u8());
        if (flag !== 'K' && flag !== 'O') throw new Error(`pgoutput: DELETE with tuple marker ${flag}`);
        this.change({
          action: 'D',
          schema: rel.schema,
          table: rel.table,
          old: tuple(r, rel, flag === 'K'),
        });
        r.end('DELETE');
        return undefined;
      }
      case 'T': {
        const n = r.i32();
        r.u8(); // CASCADE / RESTART IDENTITY
        for (let i = 0; i < n; i++) {
          const rel = this.relation(r.u32());
          this.change({ action: 'T', schema: rel.schema, table: rel.table });
        }
        return undefined;
      }
      case 'M': {
        const transactional = (r.u8() & 1) === 1;
        r.u64();
        const prefix = r.cstring();
        const content = r.text(r.i32());
        // Non-transactional messages stand alone; they carry no rows and are not confirmed on their own.
        if (transactional && this.open) this.open.messages.push({ transactional, prefix, content });
        return undefined;
      }
      case 'Y':
      case 'O':
        return undefined;
      default:
        throw new Error(`pgoutput: unexpected message '${kind}' (streaming and two-phase are not requested)`);
    }
  }

  private relation(oid: number): Relation {
    const rel = this.relations.get(oid);
    if (!rel) throw new Error(`pgoutput: change on relation ${oid} before its RELATION message`);
    return rel;
  }

  private change(c: LogicalChange): void {
    if (!this.open) throw new Error(`pgoutput: ${c.action} on ${c.schema}.${c.table} outside a transaction`);
    this.open.changes.push(c);
  }
}

function skipTuple(r: Reader): void {
  const n = r.i16();
  for (let i = 0; i < n; i++) {
    if (r.u8() !== 0x74) continue; // 't' has a length and text; 'n' and 'u' nothing
    r.skip(r.i32());
  }
}

function expect(byte: number, want: string, what: string): void {
  if (byte !== want.charCodeAt(0))
    throw new Error(`pgoutput: ${what} with tuple marker ${String.fromCharCode(byte)}`);
}

/**
 * A tuple's columns. Unchanged TOAST values are left out, as wal2json does (the builder restores them from
 * a full old image). A key tuple (`K`) lists every column but only the key ones carry values: keep those,
 * which is wal2json's `identity` under REPLICA IDENTITY DEFAULT. A complete tuple shares the relation's
 * name and type arrays.
 */
function tuple(r: Reader, rel: Relation, keyOnly: boolean): LogicalImage {
  const n = r.i16();
  if (n < 0 || n > rel.names.length)
    throw new Error(`pgoutput: tuple of ${rel.table} has ${n} columns, relation ${rel.names.length}`);
  const values = new Array<string | null>(n);
  let complete = n === rel.names.length && !keyOnly;
  let skipped: boolean[] | undefined;
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    if (kind === 0x74) {
      // 't': length and text
      const length = r.i32();
      values[i] = r.text(length);
    } else if (kind === 0x6e)
      values[i] = null; // 'n'
    else if (kind === 0x75) {
      // 'u': unchanged TOAST, not sent
      complete = false;
      (skipped ??= new Array<boolean>(n).fill(false))[i] = true;
      values[i] = null;
    } else
      throw new Error(`pgoutput: column kind ${String.fromCharCode(kind)} (binary values are not requested)`);
  }
  if (complete) return { names: rel.names, typeoids: rel.typeoids, values };
  const names: string[] = [];
  const typeoids: number[] = [];
  const kept: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    if (skipped?.[i] || (keyOnly && !rel.key[i])) continue;
    names.push(rel.names[i] as string);
    typeoids.push(rel.typeoids[i] as number);
    kept.push(values[i] ?? null);
  }
  return { names, typeoids, values: kept };
}
