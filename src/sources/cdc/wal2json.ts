import { z } from 'zod';
import type { LogicalChange, LogicalDecoder, LogicalImage, LogicalTransaction } from './logical.js';

/**
 * wal2json format-version 2 (one JSON document per action: B, I, U, D, T, M, C), read through
 * `pg_logical_slot_peek_changes` with the options below. B and C carry the commit LSN (`lsn`), the end of
 * the commit record (`nextlsn`, where the slot resumes) and the commit timestamp; every change carries
 * its own LSN, type names and OIDs. Numbers are read as their text (see parseWal2json).
 */

// Type OIDs only: type names would repeat a string per value that decoding never reads (about a third
// of the JSON). The typed variant feeds the Debezium encoder, which needs numeric(p,s) and timestamp(p).
export const WAL2JSON_OPTIONS: readonly (readonly [string, string])[] = [
  ['format-version', '2'],
  ['include-lsn', '1'],
  ['include-timestamp', '1'],
  ['include-xids', '1'],
  ['include-types', '0'],
  ['include-type-oids', '1'],
  ['include-transaction', '1'],
];
const TYPED_OPTIONS = [
  ...WAL2JSON_OPTIONS.filter(([k]) => k !== 'include-types'),
  ['include-types', '1'],
  ['include-typmod', '1'],
] as const;

/** `schema.table` list for wal2json's add-tables (commas and dots in names escaped with a backslash). */
export function addTablesOption(tables: readonly { schema: string; name: string }[]): string {
  const esc = (s: string) => s.replace(/[\\,. ]/g, (c) => `\\${c}`);
  return tables.map((t) => `${esc(t.schema)}.${esc(t.name)}`).join(',');
}

/** SQL reading up to $2 actions (whole transactions) from slot $1 without consuming them; $3 = add-tables. */
const peek = (options: readonly (readonly [string, string])[]) =>
  `SELECT data FROM pg_logical_slot_peek_changes($1, NULL, $2, ${options.map(([k, v]) => `'${k}', '${v}'`).join(', ')}, 'add-tables', $3)`;
export const PEEK_SQL = peek(WAL2JSON_OPTIONS);
/** Same with type names and typmods (`numeric(12,2)`), for DebeziumEncoder. */
export const PEEK_SQL_TYPED = peek(TYPED_OPTIONS);

export interface Wal2JsonColumn {
  readonly name: string;
  /** Only with PEEK_SQL_TYPED. */
  readonly type?: string;
  readonly typeoid: number;
  readonly value?: string | number | boolean | null;
}

/** A column value as wal2json prints it: text, a (quoted) number, a boolean, or null / absent. */
function scalar(v: unknown): boolean {
  return (
    v === undefined || v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
  );
}

// Column lists are checked by hand (hot path: a zod object per value cost ~10 µs per change).
const columns = z.array(z.unknown()).check((ctx) => {
  for (const c of ctx.value) {
    const col = c as Partial<Wal2JsonColumn> | null;
    if (
      typeof col !== 'object' ||
      col === null ||
      typeof col.name !== 'string' ||
      typeof col.typeoid !== 'number' ||
      !scalar(col.value)
    ) {
      ctx.issues.push({ code: 'custom', message: `bad column ${JSON.stringify(c)}`, input: c });
      return;
    }
  }
}) as unknown as z.ZodType<Wal2JsonColumn[]>;

const txBoundary = {
  xid: z.number().int(),
  timestamp: z.string(),
  lsn: z.string(),
  nextlsn: z.string(),
};
const change = {
  xid: z.number().int(),
  timestamp: z.string(),
  lsn: z.string(),
  schema: z.string(),
  table: z.string(),
};

export const wal2jsonMessage = z.discriminatedUnion('action', [
  z.object({ action: z.literal('B'), ...txBoundary }),
  z.object({ action: z.literal('C'), ...txBoundary }),
  z.object({ action: z.literal('I'), ...change, columns }),
  z.object({ action: z.literal('U'), ...change, columns, identity: columns.optional() }),
  z.object({ action: z.literal('D'), ...change, identity: columns }),
  z.object({ action: z.literal('T'), ...change }),
  z.object({
    action: z.literal('M'),
    xid: z.number().int().optional(),
    timestamp: z.string().optional(),
    lsn: z.string().optional(),
    transactional: z.boolean(),
    prefix: z.string(),
    content: z.string(),
  }),
]);
export type Wal2JsonMessage = z.infer<typeof wal2jsonMessage>;
export type Wal2JsonChange = Extract<Wal2JsonMessage, { action: 'I' | 'U' | 'D' | 'T' }>;
export type Wal2JsonLogicalMessage = Extract<Wal2JsonMessage, { action: 'M' }>;

// wal2json 2.5 (Debian's) prints numeric/int8/float values as bare JSON numbers, which JSON.parse would
// round (1.50 → 1.5, int8 beyond 2^53). Quoting them first keeps the exact text. Only a real key can
// match: inside a JSON string every quote is escaped, so `"value":<digit>` never occurs there.
const BARE_NUMBER_VALUE = /"value":(-?\d[\d.eE+-]*)/g;

export function parseWal2json(data: string): Wal2JsonMessage {
  let json: unknown;
  try {
    json = JSON.parse(data.replace(BARE_NUMBER_VALUE, '"value":"$1"'));
  } catch (e) {
    throw new Error(`wal2json emitted invalid JSON (${String(e)}): ${data.slice(0, 200)}`, { cause: e });
  }
  if (looksLikeChange(json)) return json;
  const parsed = wal2jsonMessage.safeParse(json);
  if (!parsed.success)
    throw new Error(`unexpected wal2json message ${data.slice(0, 200)}: ${parsed.error.message}`);
  return parsed.data;
}

const IDENTITY_KEY = ',"identity":[';
const COLUMN_START = '{"name":';

/**
 * parseWal2json without the old image of an update when the new image already has every column it has.
 * With REPLICA IDENTITY FULL the old image doubles an update's JSON, and decoding only needs it to restore
 * unchanged TOASTed values, which the new image then lacks (it has fewer columns). wal2json writes
 * `identity` last; like `"value":` above, `,"identity":[` and `{"name":` cannot occur inside a JSON string
 * (a quote there is always escaped), so cutting and counting on them is exact.
 */
export function parseWal2jsonLean(data: string): Wal2JsonMessage {
  if (!data.startsWith('{"action":"U"')) return parseWal2json(data);
  const cut = data.lastIndexOf(IDENTITY_KEY);
  if (cut < 0 || !data.endsWith(']}')) return parseWal2json(data);
  const count = (from: number, to: number) => {
    let n = 0;
    for (let i = data.indexOf(COLUMN_START, from); i >= 0 && i < to; i = data.indexOf(COLUMN_START, i + 1))
      n++;
    return n;
  };
  if (count(cut, data.length) > count(0, cut)) return parseWal2json(data);
  return parseWal2json(`${data.slice(0, cut)}}`);
}

/** Fast structural check for the common I/U/D case; anything else (or anything odd) goes through zod. */
function looksLikeChange(j: unknown): j is Wal2JsonChange {
  const m = j as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null) return false;
  const a = m['action'];
  if (
    (a !== 'I' && a !== 'U' && a !== 'D') ||
    typeof m['xid'] !== 'number' ||
    typeof m['table'] !== 'string' ||
    typeof m['schema'] !== 'string'
  )
    return false;
  if (typeof m['timestamp'] !== 'string' || typeof m['lsn'] !== 'string') return false;
  const ok = (cols: unknown) =>
    Array.isArray(cols) &&
    cols.every(
      (c: { name?: unknown; typeoid?: unknown; value?: unknown } | null) =>
        typeof c?.name === 'string' && typeof c.typeoid === 'number' && scalar(c.value),
    );
  if (a === 'D') return ok(m['identity']);
  return ok(m['columns']) && (m['identity'] === undefined || ok(m['identity']));
}

export interface Wal2JsonTransaction {
  readonly xid: number;
  /** Start of the commit record (`lsn` of B/C). */
  readonly commitLsn: string;
  /** End of the commit record (`nextlsn`): the raw `_lsn` of its changes and the slot's next position. */
  readonly endLsn: string;
  /** PostgreSQL text, e.g. `2026-11-25 12:33:46.574692+00`. */
  readonly commitTime: string;
  readonly changes: readonly Wal2JsonChange[];
  readonly messages: readonly Wal2JsonLogicalMessage[];
}

/**
 * Groups actions into transactions. A peek returns whole transactions only (decoding stops at a commit),
 * so a trailing B without C means the server changed behaviour: fail loudly rather than confirm past it.
 */
export function groupTransactions(messages: readonly Wal2JsonMessage[]): Wal2JsonTransaction[] {
  const assembler = new Wal2JsonAssembler();
  const out: Wal2JsonTransaction[] = [];
  for (const m of messages) {
    const tx = assembler.push(m);
    if (tx) out.push(tx);
  }
  const open = assembler.openXid;
  if (open !== undefined) throw new Error(`wal2json: transaction ${open} has no COMMIT in the peeked batch`);
  return out;
}

/** wal2json actions, in order, into whole transactions (the SQL interface's batches and the stream alike). */
class Wal2JsonAssembler {
  private open: { xid: number; changes: Wal2JsonChange[]; messages: Wal2JsonLogicalMessage[] } | undefined;

  get openXid(): number | undefined {
    return this.open?.xid;
  }

  reset(): void {
    this.open = undefined;
  }

  push(m: Wal2JsonMessage): Wal2JsonTransaction | undefined {
    switch (m.action) {
      case 'B':
        if (this.open) throw new Error(`wal2json: BEGIN of ${m.xid} inside transaction ${this.open.xid}`);
        this.open = { xid: m.xid, changes: [], messages: [] };
        return undefined;
      case 'C': {
        const open = this.open;
        if (!open || open.xid !== m.xid) throw new Error(`wal2json: COMMIT of ${m.xid} without its BEGIN`);
        this.open = undefined;
        return {
          xid: m.xid,
          commitLsn: m.lsn,
          endLsn: m.nextlsn,
          commitTime: m.timestamp,
          changes: open.changes,
          messages: open.messages,
        };
      }
      case 'M':
        // Non-transactional messages stand alone; they carry no rows and are not confirmed on their own.
        if (this.open && m.transactional) this.open.messages.push(m);
        return undefined;
      default:
        if (!this.open)
          throw new Error(`wal2json: ${m.action} on ${m.schema}.${m.table} outside a transaction`);
        this.open.changes.push(m);
        return undefined;
    }
  }
}

/**
 * wal2json through the streaming protocol: one action per message, assembled into transactions as they
 * arrive. The old image of an update is dropped when it adds nothing (parseWal2jsonLean).
 */
export class Wal2JsonDecoder implements LogicalDecoder {
  private readonly assembler = new Wal2JsonAssembler();

  reset(): void {
    this.assembler.reset();
  }

  push(message: Buffer): LogicalTransaction | undefined {
    const tx = this.assembler.push(parseWal2jsonLean(message.toString('utf8')));
    return tx ? logicalFromWal2json(tx) : undefined;
  }
}

function image(columns: readonly Wal2JsonColumn[]): LogicalImage {
  return {
    names: columns.map((c) => c.name),
    typeoids: columns.map((c) => c.typeoid),
    values: columns.map((c) => c.value ?? null),
  };
}

/** A wal2json transaction in the capture's plugin-neutral shape (logical.ts). */
export function logicalFromWal2json(tx: Wal2JsonTransaction): LogicalTransaction {
  const changes = tx.changes.map((c): LogicalChange => {
    const row = { schema: c.schema, table: c.table };
    switch (c.action) {
      case 'I':
        return { ...row, action: 'I', row: image(c.columns) };
      case 'U':
        return {
          ...row,
          action: 'U',
          row: image(c.columns),
          ...(c.identity ? { old: image(c.identity) } : {}),
        };
      case 'D':
        return { ...row, action: 'D', old: image(c.identity) };
      default:
        return { ...row, action: 'T' };
    }
  });
  return { ...tx, changes };
}
