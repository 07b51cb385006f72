import type { PiiPolicy } from '../pii.js';
import type { ChangeOp, RawColumn, RawValue } from '../types.js';
import { canonicalTimestamp, snapshotSeq } from './canonical.js';
import type { ChangeRecord } from './change.js';
import { pgLsnToHex } from './lsn.js';
import { fromPg, rawTypeOf, type PgType, type PgTypeRegistry } from './pg-types.js';
import type { LogicalChange, LogicalColumn, LogicalTransaction } from './logical.js';

/** Logical decoding (wal2json or pgoutput transactions, snapshot rows) → ChangeRecords. */

export interface PgColumn {
  readonly name: string;
  readonly typeoid: number;
}

const OPS: Record<LogicalChange['action'], ChangeOp> = { I: 'c', U: 'u', D: 'd', T: 't' };

export class PgRecordBuilder {
  private readonly columnCache = new Map<string, { columns: RawColumn[]; types: PgType[] }>();
  private readonly lastShape = new Map<
    string,
    { cols: readonly PgColumn[]; shape: { columns: RawColumn[]; types: PgType[] } }
  >();

  constructor(
    private readonly types: PgTypeRegistry,
    private readonly pii: PiiPolicy,
  ) {}

  /** Type OIDs in these transactions the registry does not know yet (enums, domains...). */
  unknownOids(txs: readonly LogicalTransaction[]): number[] {
    const out = new Set<number>();
    for (const tx of txs)
      for (const c of tx.changes)
        if (c.action !== 'T')
          for (const col of c.action === 'D' ? c.identity : c.columns)
            if (!this.types.get(col.typeoid)) out.add(col.typeoid);
    return [...out];
  }

  fromTransaction(tx: LogicalTransaction): ChangeRecord[] {
    const lsn = pgLsnToHex(tx.endLsn);
    const commitTime = canonicalTimestamp(tx.commitTime);
    const out = new Array<ChangeRecord>(tx.changes.length);
    for (let seq = 0; seq < tx.changes.length; seq++) {
      const c = tx.changes[seq] as LogicalChange;
      let image: readonly LogicalColumn[] = [];
      if (c.action === 'I') image = c.columns;
      else if (c.action === 'U') image = withUnchangedToast(c.columns, c.identity);
      else if (c.action === 'D') image = c.identity;
      const shape = this.shape(c.table, image);
      const values: Record<string, RawValue> = {};
      for (let i = 0; i < image.length; i++) {
        const col = image[i] as LogicalColumn;
        values[col.name] = fromPg(shape.types[i] as PgType, col.value);
      }
      out[seq] = new DecodedChange(this, c, lsn, seq, tx.xid, commitTime, shape.columns, values);
    }
    return out;
  }

  /** A snapshot row read as text in the column order of `columns`. */
  fromSnapshotRow(
    table: string,
    columns: readonly PgColumn[],
    row: readonly (string | null)[],
    lsn: string,
    time: string,
  ): ChangeRecord {
    const values: Record<string, RawValue> = {};
    columns.forEach((c, i) => (values[c.name] = fromPg(this.type(c.typeoid), row[i] ?? null)));
    const seq = snapshotSeq(this.pii.values(table, values));
    return {
      table,
      op: 'r',
      lsn,
      seq,
      txid: null,
      commitTime: time,
      columns: this.shape(table, columns).columns,
      values,
      fullImage: true,
      origin: `${lsn}/${seq}`,
      redactedInput: () => JSON.stringify({ snapshot: table, values: this.pii.values(table, values) }),
    };
  }

  private type(oid: number) {
    const t = this.types.get(oid);
    if (!t) throw new Error(`type OID ${oid} not resolved before decoding`);
    return t;
  }

  /**
   * One RawColumn[] (and types) per distinct column list, shared by all changes that have it (cheap drift
   * checks). The table's last shape is compared column by column first: no key string per change.
   */
  private shape(table: string, cols: readonly PgColumn[]): { columns: RawColumn[]; types: PgType[] } {
    const last = this.lastShape.get(table);
    if (last && sameColumns(last.cols, cols)) return last.shape;
    let key = table;
    for (const c of cols) key += `|${c.name}:${c.typeoid}`;
    let out = this.columnCache.get(key);
    if (!out) {
      const types = cols.map((c) => this.type(c.typeoid));
      out = { columns: cols.map((c, i) => ({ name: c.name, type: rawTypeOf(types[i] as PgType) })), types };
      this.columnCache.set(key, out);
    }
    this.lastShape.set(table, { cols: cols.map((c) => ({ name: c.name, typeoid: c.typeoid })), shape: out });
    return out;
  }

  /** The change as decoded, PII removed or hashed (for quarantine). */
  redact(c: LogicalChange): LogicalChange {
    if (!this.pii.active || c.action === 'T') return c;
    const cols = (list: readonly LogicalColumn[]): LogicalColumn[] =>
      list.flatMap((col) => {
        const action = this.pii.action(c.table, col.name);
        if (action === 'drop') return [];
        if (action === 'hash')
          return [{ ...col, name: `${col.name}_hash`, value: this.pii.hash(col.value ?? null) }];
        return [col];
      });
    if (c.action === 'D') return { ...c, identity: cols(c.identity) };
    if (c.action === 'U')
      return { ...c, columns: cols(c.columns), ...(c.identity ? { identity: cols(c.identity) } : {}) };
    return { ...c, columns: cols(c.columns) };
  }
}

/** A decoded change; a class rather than a literal with closures: built for every change of every batch. */
class DecodedChange implements ChangeRecord {
  readonly table: string;
  readonly op: ChangeOp;

  constructor(
    private readonly builder: PgRecordBuilder,
    private readonly change: LogicalChange,
    readonly lsn: string,
    readonly seq: number,
    readonly txid: number,
    readonly commitTime: string,
    readonly columns: readonly RawColumn[],
    readonly values: Readonly<Record<string, RawValue>>,
  ) {
    this.table = change.table;
    this.op = OPS[change.action];
  }

  get fullImage(): boolean {
    return this.op === 'c';
  }

  get origin(): string {
    return `${this.lsn}/${this.seq}`;
  }

  redactedInput(): string {
    return JSON.stringify(this.builder.redact(this.change));
  }
}

function sameColumns(a: readonly PgColumn[], b: readonly PgColumn[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as PgColumn;
    const y = b[i] as PgColumn;
    if (x.name !== y.name || x.typeoid !== y.typeoid) return false;
  }
  return true;
}

/**
 * wal2json and pgoutput leave unchanged TOASTed values out of an update's new image; with REPLICA IDENTITY FULL the
 * old image has them, so the row stays complete (one of the reasons history tables use FULL).
 */
function withUnchangedToast(
  columns: readonly LogicalColumn[],
  identity: readonly LogicalColumn[] | undefined,
): readonly LogicalColumn[] {
  if (!identity || identity.length <= columns.length) return columns;
  const have = new Set(columns.map((c) => c.name));
  const missing = identity.filter((c) => !have.has(c.name));
  return missing.length === 0 ? columns : [...columns, ...missing];
}
