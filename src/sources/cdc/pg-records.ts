import type { PiiPolicy } from '../pii.js';
import type { ChangeOp, RawColumn, RawRow, RawValue } from '../types.js';
import { canonicalTimestamp, snapshotSeq } from './canonical.js';
import type { ChangeRecord } from './change.js';
import { pgLsnToHex } from './lsn.js';
import { fromPg, rawTypeOf, type PgType, type PgTypeRegistry } from './pg-types.js';
import type { LogicalChange, LogicalImage, LogicalTransaction } from './logical.js';

/** Logical decoding (wal2json or pgoutput transactions, snapshot rows) → ChangeRecords. */

export interface PgColumn {
  readonly name: string;
  readonly typeoid: number;
}

const OPS: Record<LogicalChange['action'], ChangeOp> = { I: 'c', U: 'u', D: 'd', T: 't' };

export class PgRecordBuilder {
  private readonly columnCache = new Map<string, Shape>();
  private readonly snapshotColumns = new WeakMap<
    readonly PgColumn[],
    { names: readonly string[]; typeoids: readonly number[] }
  >();
  private readonly lastShape = new Map<
    string,
    { names: readonly string[]; typeoids: readonly number[]; shape: Shape }
  >();

  constructor(
    private readonly types: PgTypeRegistry,
    private readonly pii: PiiPolicy,
  ) {}

  /** Type OIDs in these transactions the registry does not know yet (enums, domains...). */
  unknownOids(txs: readonly LogicalTransaction[]): number[] {
    const out = new Set<number>();
    let last: readonly number[] | undefined;
    for (const tx of txs)
      for (const c of tx.changes) {
        if (c.action === 'T') continue;
        const typeoids = (c.action === 'D' ? c.old : c.row).typeoids;
        if (typeoids === last) continue; // pgoutput shares a relation's list across its changes
        last = typeoids;
        for (const oid of typeoids) if (!this.types.get(oid)) out.add(oid);
      }
    return [...out];
  }

  fromTransaction(tx: LogicalTransaction): ChangeRecord[] {
    const lsn = pgLsnToHex(tx.endLsn);
    const commitTime = canonicalTimestamp(tx.commitTime);
    const out = new Array<ChangeRecord>(tx.changes.length);
    for (let seq = 0; seq < tx.changes.length; seq++) {
      const c = tx.changes[seq] as LogicalChange;
      let image: LogicalImage = EMPTY;
      if (c.action === 'I') image = c.row;
      else if (c.action === 'U') image = withUnchangedToast(c.row, c.old);
      else if (c.action === 'D') image = c.old;
      const shape = this.shapeOf(c.table, image.names, image.typeoids);
      // The raw row is built here, once: meta columns, then the values (the lander's order).
      const op = OPS[c.action];
      const row: Record<string, RawValue> = {
        _lsn: lsn,
        _seq: seq,
        _txid: tx.xid,
        _commit_time: commitTime,
        _op: op,
      };
      const names = image.names;
      for (let i = 0; i < names.length; i++)
        row[names[i] as string] = fromPg(shape.types[i] as PgType, image.values[i]);
      out[seq] = new DecodedChange(this, c, names, shape.columns, lsn, seq, tx.xid, commitTime, row);
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
      columns: this.snapshotShape(table, columns).columns,
      values,
      fullImage: true,
      origin: `${lsn}/${seq}`,
      redactedInput: () => JSON.stringify({ snapshot: table, values: this.pii.values(table, values) }),
    };
  }

  /** A snapshot's column list as names and types, split once per table read rather than once per row. */
  private snapshotShape(table: string, columns: readonly PgColumn[]): Shape {
    let split = this.snapshotColumns.get(columns);
    if (!split) {
      split = { names: columns.map((c) => c.name), typeoids: columns.map((c) => c.typeoid) };
      this.snapshotColumns.set(columns, split);
    }
    return this.shapeOf(table, split.names, split.typeoids);
  }

  private type(oid: number) {
    const t = this.types.get(oid);
    if (!t) throw new Error(`type OID ${oid} not resolved before decoding`);
    return t;
  }

  /**
   * One RawColumn[] (and types) per distinct column list, shared by all changes that have it (cheap drift
   * checks). The table's last column list is recognised by identity (pgoutput shares a relation's arrays),
   * then column by column: no key string per change.
   */
  private shapeOf(table: string, names: readonly string[], typeoids: readonly number[]): Shape {
    const last = this.lastShape.get(table);
    if (last && sameList(last.names, names) && sameList(last.typeoids, typeoids)) return last.shape;
    let key = table;
    for (let i = 0; i < names.length; i++) key += `|${names[i]}:${typeoids[i]}`;
    let out = this.columnCache.get(key);
    if (!out) {
      const types = typeoids.map((oid) => this.type(oid));
      out = { columns: names.map((name, i) => ({ name, type: rawTypeOf(types[i] as PgType) })), types };
      this.columnCache.set(key, out);
    }
    this.lastShape.set(table, { names, typeoids, shape: out });
    return out;
  }

  /** The change as decoded, in wal2json's shape, PII removed or hashed (for quarantine). */
  redact(c: LogicalChange): object {
    const cols = (image: LogicalImage) =>
      image.names.flatMap((name, i) => {
        const typeoid = image.typeoids[i];
        const value = image.values[i] ?? null;
        const action = this.pii.active ? this.pii.action(c.table, name) : undefined;
        if (action === 'drop') return [];
        if (action === 'hash') return [{ name: `${name}_hash`, typeoid, value: this.pii.hash(value) }];
        return [{ name, typeoid, value }];
      });
    const head = { action: c.action, schema: c.schema, table: c.table };
    if (c.action === 'D') return { ...head, identity: cols(c.old) };
    if (c.action === 'U')
      return { ...head, columns: cols(c.row), ...(c.old ? { identity: cols(c.old) } : {}) };
    if (c.action === 'I') return { ...head, columns: cols(c.row) };
    return head;
  }
}

/** A decoded change; a class rather than a literal with closures: built for every change of every batch. */
class DecodedChange implements ChangeRecord {
  readonly table: string;
  readonly op: ChangeOp;
  private decoded: Readonly<Record<string, RawValue>> | undefined;

  constructor(
    private readonly builder: PgRecordBuilder,
    private readonly change: LogicalChange,
    private readonly names: readonly string[],
    readonly columns: readonly RawColumn[],
    readonly lsn: string,
    readonly seq: number,
    readonly txid: number,
    readonly commitTime: string,
    private readonly row: Readonly<Record<string, RawValue>>,
  ) {
    this.table = change.table;
    this.op = OPS[change.action];
  }

  /** The image's columns of the raw row, copied when asked for (PII rules): batches use the row itself. */
  get values(): Readonly<Record<string, RawValue>> {
    if (!this.decoded) {
      const values: Record<string, RawValue> = {};
      for (const name of this.names) values[name] = this.row[name] ?? null;
      this.decoded = values;
    }
    return this.decoded;
  }

  get fullImage(): boolean {
    return this.op === 'c';
  }

  get origin(): string {
    return `${this.lsn}/${this.seq}`;
  }

  rawRow(): RawRow {
    return this.row;
  }

  redactedInput(): string {
    return JSON.stringify(this.builder.redact(this.change));
  }
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

type Shape = { columns: RawColumn[]; types: PgType[] };

const EMPTY: LogicalImage = { names: [], typeoids: [], values: [] };

/**
 * wal2json and pgoutput leave unchanged TOASTed values out of an update's new image; with REPLICA IDENTITY
 * FULL the old image has them, so the row stays complete (one of the reasons history tables use FULL).
 */
function withUnchangedToast(row: LogicalImage, old: LogicalImage | undefined): LogicalImage {
  if (!old || old.names.length <= row.names.length) return row;
  const have = new Set(row.names);
  const names = [...row.names];
  const typeoids = [...row.typeoids];
  const values = [...row.values];
  old.names.forEach((name, i) => {
    if (have.has(name)) return;
    names.push(name);
    typeoids.push(old.typeoids[i] as number);
    values.push(old.values[i] ?? null);
  });
  return names.length === row.names.length ? row : { names, typeoids, values };
}
