import { formatPgLsn } from '../sources/cdc/lsn.js';
import { PgTypeRegistry, type PgType } from '../sources/cdc/pg-types.js';
import type {
  Wal2JsonChange,
  Wal2JsonColumn,
  Wal2JsonLogicalMessage,
  Wal2JsonTransaction,
} from '../sources/cdc/wal2json.js';
import { HEARTBEAT_PREFIX } from '../sources/cdc/postgres-source.js';
import type { Rng } from './rng.js';
import { pgTimestamptz } from './time.js';

/**
 * The two OLTP databases as wal2json (typed) would show them: table definitions matching
 * src/sources/oltp/<db>/001_init.sql (type names as format_type prints them, OIDs), values as PostgreSQL's
 * text output, and a per-database change log that assigns xids and monotonically increasing LSNs in
 * commit order. DebeziumEncoder then turns the transactions into Debezium events.
 */

export type PgValue = string | number | boolean | null;
export type PgRow = Readonly<Record<string, PgValue>>;

interface ColumnDef {
  readonly name: string;
  readonly type: string;
  readonly typeoid: number;
}

const BIGINT = ['bigint', 20] as const;
const INT = ['integer', 23] as const;
const BOOL = ['boolean', 16] as const;
const TEXT = ['text', 25] as const;
const DATE = ['date', 1082] as const;
const TSTZ = ['timestamp with time zone', 1184] as const;
const varchar = (n: number) => [`character varying(${n})`, 1043] as const;
const char = (n: number) => [`character(${n})`, 1042] as const;
// Enum OIDs as a fresh database would assign them (only the names matter to Debezium: enums are strings).
const ENUM_OID = {
  user_status: 16386,
  vendor_status: 16420,
  listing_type: 16430,
  listing_status: 16436,
  purchase_status: 16446,
};
const enumType = (name: keyof typeof ENUM_OID) => [name, ENUM_OID[name]] as const;

function table(name: string, cols: readonly (readonly [string, readonly [string, number]])[]): TableDef {
  return { name, columns: cols.map(([n, [type, typeoid]]) => ({ name: n, type, typeoid })) };
}

export interface TableDef {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
}

export const USER_DB_TABLES = {
  users: table('users', [
    ['user_id', BIGINT],
    ['email', varchar(320)],
    ['phone', varchar(32)],
    ['first_name', varchar(100)],
    ['last_name', varchar(100)],
    ['country', char(2)],
    ['preferred_locale', varchar(16)],
    ['marketing_consent', BOOL],
    ['consent_updated_at', TSTZ],
    ['status', enumType('user_status')],
    ['date_of_birth', DATE],
    ['created_at', TSTZ],
    ['updated_at', TSTZ],
  ]),
  credentials: table('credentials', [
    ['credential_id', BIGINT],
    ['user_id', BIGINT],
    ['provider', varchar(32)],
    ['password_hash', TEXT],
    ['password_algo', varchar(32)],
    ['failed_attempts', INT],
    ['last_login_at', TSTZ],
    ['rotated_at', TSTZ],
    ['created_at', TSTZ],
  ]),
  profile_changes: table('profile_changes', [
    ['change_id', BIGINT],
    ['user_id', BIGINT],
    ['field', varchar(64)],
    ['old_value', TEXT],
    ['new_value', TEXT],
    ['changed_by', varchar(32)],
    ['changed_at', TSTZ],
  ]),
} as const;

export const INVENTORY_DB_TABLES = {
  vendors: table('vendors', [
    ['vendor_id', BIGINT],
    ['name', varchar(200)],
    ['category', varchar(64)],
    ['city', varchar(100)],
    ['country', char(2)],
    ['commission_rate', ['numeric(5,4)', 1700]],
    ['status', enumType('vendor_status')],
    ['onboarded_on', DATE],
    ['created_at', TSTZ],
    ['updated_at', TSTZ],
  ]),
  listings: table('listings', [
    ['listing_id', BIGINT],
    ['vendor_id', BIGINT],
    ['listing_type', enumType('listing_type')],
    ['title', varchar(300)],
    ['description', TEXT],
    ['city', varchar(100)],
    ['price_cents', BIGINT],
    ['currency', char(3)],
    ['price_changed_at', ['timestamp without time zone', 1114]],
    ['capacity', INT],
    ['amenities', ['text[]', 1009]],
    ['attributes', ['jsonb', 3802]],
    ['status', enumType('listing_status')],
    ['available_from', DATE],
    ['created_at', TSTZ],
    ['updated_at', TSTZ],
  ]),
  purchases: table('purchases', [
    ['purchase_id', BIGINT],
    ['user_id', BIGINT],
    ['listing_id', BIGINT],
    ['status', enumType('purchase_status')],
    ['amount_cents', BIGINT],
    ['currency', char(3)],
    ['event_date', DATE],
    ['event_start_local', ['timestamp(0) without time zone', 1114]],
    ['guests', INT],
    ['placed_at', ['timestamp(3) with time zone', 1184]],
    ['confirmed_at', TSTZ],
    ['cancelled_at', TSTZ],
    ['refunded_at', TSTZ],
    ['updated_at', TSTZ],
  ]),
  purchase_items: table('purchase_items', [
    ['purchase_item_id', BIGINT],
    ['purchase_id', BIGINT],
    ['listing_id', BIGINT],
    ['quantity', INT],
    ['unit_price_cents', BIGINT],
    ['discount_rate', ['numeric(5,4)', 1700]],
    ['line_total_cents', BIGINT],
    ['created_at', TSTZ],
  ]),
} as const;

/** Built-in types plus text[] (the only array the schemas use), without a catalog connection. */
export class SimTypeRegistry extends PgTypeRegistry {
  override get(oid: number): PgType | undefined {
    if (oid === 1009) return { oid, kind: 'array', elem: { oid: 25, kind: 'text' } };
    return super.get(oid);
  }
}

/** PostgreSQL's text[] output: elements quoted when empty, NULL-like or holding specials. */
export function pgTextArray(items: readonly string[]): string {
  const quote = (s: string) =>
    s === '' || /^null$/i.test(s) || /[\s{},"\\]/.test(s) ? `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"` : s;
  return `{${items.map(quote).join(',')}}`;
}

type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json };

/** jsonb's text output: keys by length then bytes, `", "` and `": "` separators. */
export function pgJsonb(v: Json): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly Json[]).map(pgJsonb).join(', ')}]`;
  const obj = v as { readonly [k: string]: Json };
  const keys = Object.keys(obj).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${pgJsonb(obj[k] as Json)}`).join(', ')}}`;
}

export type RowOp =
  | { readonly kind: 'I'; readonly table: TableDef; readonly row: PgRow }
  | { readonly kind: 'U'; readonly table: TableDef; readonly before: PgRow; readonly after: PgRow }
  /** `keyOnly`: REPLICA IDENTITY DEFAULT, the old image holds the primary key only. */
  | { readonly kind: 'D'; readonly table: TableDef; readonly before: PgRow; readonly keyOnly?: boolean };

function columns(t: TableDef, row: PgRow, keyOnly = false): Wal2JsonColumn[] {
  const cols = keyOnly ? t.columns.slice(0, 1) : t.columns;
  return cols.map((c) => ({ name: c.name, type: c.type, typeoid: c.typeoid, value: row[c.name] ?? null }));
}

/** One database's committed transactions, in commit order, with their UTC commit instants (µs). */
export class ChangeLog {
  readonly transactions: { readonly atUs: number; readonly tx: Wal2JsonTransaction }[] = [];
  private lsn: bigint;
  private xid: number;
  private lastUs = 0;

  constructor(
    readonly db: string,
    private readonly rng: Rng,
    lsnStart: bigint,
    xidStart: number,
  ) {
    this.lsn = lsnStart;
    this.xid = xidStart;
  }

  /** Commits `ops` as one transaction at `atUs` (bumped to stay strictly after the previous commit). */
  commit(
    atUs: number,
    ops: readonly RowOp[],
    messages: readonly Omit<Wal2JsonLogicalMessage, 'lsn'>[] = [],
  ): number {
    const at = Math.max(atUs, this.lastUs + 1);
    this.lastUs = at;
    this.xid += this.rng.int(1, 4);
    const xid = this.xid;
    const time = pgTimestamptz(at);
    this.lsn += BigInt(this.rng.int(0x40, 0x2000));
    const step = () => {
      this.lsn += BigInt(this.rng.int(0x38, 0x600));
      return formatPgLsn(this.lsn);
    };
    const msgs: Wal2JsonLogicalMessage[] = messages.map((m) => ({ ...m, xid, timestamp: time, lsn: step() }));
    const changes: Wal2JsonChange[] = ops.map((op) => {
      const base = { xid, timestamp: time, lsn: step(), schema: 'public', table: op.table.name };
      if (op.kind === 'I') return { ...base, action: 'I', columns: columns(op.table, op.row) };
      if (op.kind === 'U')
        return {
          ...base,
          action: 'U',
          columns: columns(op.table, op.after),
          identity: columns(op.table, op.before),
        };
      return { ...base, action: 'D', identity: columns(op.table, op.before, op.keyOnly) };
    });
    const commitLsn = step();
    this.lsn += 0x30n;
    const tx: Wal2JsonTransaction = {
      xid,
      commitLsn,
      endLsn: formatPgLsn(this.lsn),
      commitTime: time,
      changes,
      messages: msgs,
    };
    this.transactions.push({ atUs: at, tx });
    return at;
  }

  /** Tessera's heartbeat (a transactional logical message), which lets a reader place the previous commit. */
  heartbeat(atUs: number): void {
    this.commit(
      atUs,
      [],
      [{ action: 'M', transactional: true, prefix: HEARTBEAT_PREFIX, content: 'debezium' }],
    );
  }
}
