import type { PiiPolicy } from '../pii.js';
import type { ChangeOp, RawColumn, RawValue } from '../types.js';
import { canonicalTimestamp, snapshotSeq } from './canonical.js';
import type { ChangeRecord } from './change.js';
import { pgLsnToHex } from './lsn.js';
import { fromPg, rawTypeOf, type PgType, type PgTypeRegistry } from './pg-types.js';
import type { Wal2JsonColumn, Wal2JsonChange, Wal2JsonTransaction } from './wal2json.js';

/** Logical decoding (wal2json transactions, snapshot rows) → ChangeRecords. */

export interface PgColumn {
  readonly name: string;
  readonly typeoid: number;
}

const OPS: Record<Wal2JsonChange['action'], ChangeOp> = { I: 'c', U: 'u', D: 'd', T: 't' };

export class PgRecordBuilder {
  private readonly columnCache = new Map<string, { columns: RawColumn[]; types: PgType[] }>();

  constructor(
    private readonly types: PgTypeRegistry,
    private readonly pii: PiiPolicy,
  ) {}

  /** Type OIDs in these transactions the registry does not know yet (enums, domains...). */
  unknownOids(txs: readonly Wal2JsonTransaction[]): number[] {
    const out = new Set<number>();
    for (const tx of txs)
      for (const c of tx.changes)
        if (c.action !== 'T')
          for (const col of c.action === 'D' ? c.identity : c.columns)
            if (!this.types.get(col.typeoid)) out.add(col.typeoid);
    return [...out];
  }

  fromTransaction(tx: Wal2JsonTransaction): ChangeRecord[] {
    const lsn = pgLsnToHex(tx.endLsn);
    const commitTime = canonicalTimestamp(tx.commitTime);
    return tx.changes.map((c, seq) => {
      const op = OPS[c.action];
      let image: readonly Wal2JsonColumn[] = [];
      if (c.action === 'I') image = c.columns;
      else if (c.action === 'U') image = withUnchangedToast(c.columns, c.identity);
      else if (c.action === 'D') image = c.identity;
      const shape = this.shape(c.table, image);
      const values: Record<string, RawValue> = {};
      for (let i = 0; i < image.length; i++) {
        const col = image[i] as Wal2JsonColumn;
        values[col.name] = fromPg(shape.types[i] as PgType, col.value);
      }
      const columns = shape.columns;
      return {
        table: c.table,
        op,
        lsn,
        seq,
        txid: tx.xid,
        commitTime,
        columns,
        values,
        fullImage: op === 'c',
        origin: `${lsn}/${seq}`,
        redactedInput: () => JSON.stringify(this.redact(c)),
      };
    });
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

  /** One RawColumn[] (and types) per distinct column list, shared by all changes that have it (cheap drift checks). */
  private shape(table: string, cols: readonly PgColumn[]): { columns: RawColumn[]; types: PgType[] } {
    let key = table;
    for (const c of cols) key += `|${c.name}:${c.typeoid}`;
    let out = this.columnCache.get(key);
    if (!out) {
      const types = cols.map((c) => this.type(c.typeoid));
      out = { columns: cols.map((c, i) => ({ name: c.name, type: rawTypeOf(types[i] as PgType) })), types };
      this.columnCache.set(key, out);
    }
    return out;
  }

  private redact(c: Wal2JsonChange): Wal2JsonChange {
    if (!this.pii.active || c.action === 'T') return c;
    const cols = (list: readonly Wal2JsonColumn[]): Wal2JsonColumn[] =>
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

/**
 * wal2json leaves unchanged TOASTed values out of an update's new image; with REPLICA IDENTITY FULL the
 * old image has them, so the row stays complete (one of the reasons history tables use FULL).
 */
function withUnchangedToast(
  columns: readonly Wal2JsonColumn[],
  identity: readonly Wal2JsonColumn[] | undefined,
): readonly Wal2JsonColumn[] {
  if (!identity || identity.length <= columns.length) return columns;
  const have = new Set(columns.map((c) => c.name));
  const missing = identity.filter((c) => !have.has(c.name));
  return missing.length === 0 ? columns : [...columns, ...missing];
}
