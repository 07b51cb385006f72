import type { PiiPolicy } from '../pii.js';
import { compatibility, planDrift } from '../sinks/drift.js';
import {
  CHANGE_DEDUPE_KEY,
  IncompatibleColumnError,
  type CdcSink,
  type PreparedWrite,
} from '../sinks/types.js';
import {
  CHANGE_META_COLUMNS,
  type QuarantinedRecord,
  type RawColumn,
  type RawRow,
  type RawValue,
  type RawWriteOptions,
} from '../types.js';
import type { ChangeRecord } from './change.js';
import { SchemaDriftError, type IncompatibleColumn } from './errors.js';

/**
 * Lands decoded changes, whichever transport decoded them: PII rules first, then schema drift, then one
 * idempotent write per raw table `raw.<source>_<table>_changes` keyed on (_lsn, _seq).
 * An incompatible type change writes nothing: the affected changes go to raw.quarantine and a
 * SchemaDriftError stops the batch before its position is confirmed.
 */

export interface SourceLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Warnings on stderr as JSON lines, when the caller passes no logger. */
export const stderrLogger: SourceLogger = {
  info: () => undefined,
  warn: (fields, message) =>
    process.stderr.write(`${JSON.stringify({ level: 'warn', message, ...fields })}\n`),
};

export interface LandResult {
  readonly changes: number;
  readonly inserted: number;
  readonly tables: Readonly<Record<string, { readonly changes: number; readonly inserted: number }>>;
  readonly warnings: readonly string[];
}

export function rawChangeTable(source: string, table: string): string {
  return `raw.${source}_${table}_changes`;
}

/** A batch checked against the raw tables' columns and turned into rows (ChangeLander.prepare). */
export interface PreparedLanding {
  readonly records: readonly ChangeRecord[];
  /** ChangeLander's schema generation it was checked against. */
  readonly generation: number;
  readonly plans: readonly PreparedTable[];
  readonly incompatible: readonly IncompatibleColumn[];
  readonly quarantine: readonly QuarantinedRecord[];
  readonly warnings: readonly string[];
}

interface PreparedTable {
  readonly raw: string;
  readonly columns: readonly RawColumn[];
  readonly rows: readonly RawRow[];
  /** The rows already serialized by the sink (CdcSink.prepareWrite), when it can. */
  readonly staged?: PreparedWrite;
}

const WRITE: RawWriteOptions = { pruneBy: '_commit_time' };

export class ChangeLander {
  private readonly known = new Map<string, readonly RawColumn[] | undefined>();
  private readonly warned = new Set<string>();
  /** Moves whenever a raw table's known columns do: a batch prepared before then is checked again. */
  private generation = 0;

  constructor(
    readonly source: string,
    private readonly sink: CdcSink,
    private readonly pii: PiiPolicy,
    private readonly logger: SourceLogger = stderrLogger,
  ) {}

  async land(records: readonly ChangeRecord[]): Promise<LandResult> {
    return this.write(await this.prepare(records));
  }

  /**
   * Everything `land` does before writing: groups the batch by table, checks it against the raw tables'
   * columns, builds the rows. Writes nothing, so a batch can be prepared while the previous one is written.
   */
  async prepare(records: readonly ChangeRecord[]): Promise<PreparedLanding> {
    const generation = this.generation;
    const groups = new Map<string, ChangeRecord[]>();
    for (const r of records) {
      const g = groups.get(r.table);
      if (g) g.push(r);
      else groups.set(r.table, [r]);
    }
    const warnings: string[] = [];
    const plans: PreparedTable[] = [];
    const incompatible: IncompatibleColumn[] = [];
    const quarantine: QuarantinedRecord[] = [];
    for (const [table, group] of groups) {
      const raw = rawChangeTable(this.source, table);
      const { columns, conflicts } = this.incoming(table, group);
      const existing = await this.existing(raw);
      const drift = existing ? planDrift(existing, columns) : undefined;
      const bad = [...conflicts, ...(drift?.incompatible ?? [])];
      if (bad.length > 0) {
        incompatible.push(
          ...bad.map((b) => ({ table: raw, column: b.name, oldType: b.from, newType: b.to })),
        );
        const reason = `incompatible type change: ${bad.map((b) => `${b.name} ${b.from} → ${b.to}`).join(', ')}`;
        for (const r of group)
          quarantine.push({ source: this.source, origin: r.origin, reason, raw: r.redactedInput() });
        continue;
      }
      if (existing) warnings.push(...this.dropped(raw, table, existing, group));
      const rows = group.map((r) => this.row(r));
      // The table needs no new column: serialize the rows now, while an earlier batch may still be written.
      const unchanged = drift && drift.add.length === 0 && drift.widen.length === 0;
      const staged = unchanged ? this.sink.prepareWrite?.(raw, rows, CHANGE_DEDUPE_KEY, WRITE) : undefined;
      plans.push({ raw, columns, rows, ...(staged ? { staged } : {}) });
    }
    return { records, generation, plans, incompatible, quarantine, warnings };
  }

  /**
   * Writes a prepared batch: one idempotent write per raw table, or the quarantine and a SchemaDriftError.
   * A batch prepared before a raw table's columns changed (the previous batch added one) is checked again.
   */
  async write(prepared: PreparedLanding): Promise<LandResult> {
    const p = prepared.generation === this.generation ? prepared : await this.prepare(prepared.records);
    if (p.incompatible.length > 0) {
      // Re-read after the fix (an operator altering the raw column).
      for (const raw of new Set(p.incompatible.map((c) => c.table))) this.forget(raw);
      await this.sink.quarantine(p.quarantine);
      throw new SchemaDriftError(this.source, p.incompatible, p.quarantine.length);
    }
    const tables: Record<string, { changes: number; inserted: number }> = {};
    let inserted = 0;
    for (const t of p.plans) {
      await this.ensure(t.raw, t.columns);
      const res = t.staged
        ? await t.staged.run()
        : await this.sink.write(t.raw, t.rows, CHANGE_DEDUPE_KEY, WRITE);
      tables[t.raw] = { changes: t.rows.length, inserted: res.inserted };
      inserted += res.inserted;
    }
    return { changes: p.records.length, inserted, tables, warnings: p.warnings };
  }

  private row(r: ChangeRecord): RawRow {
    if (!this.pii.active && r.rawRow) return r.rawRow();
    // Without PII rules the decoded values are copied once, into the row (pii.values would copy them first).
    const values = this.pii.active ? this.pii.values(r.table, r.values) : r.values;
    const row: Record<string, RawValue> = {
      _lsn: r.lsn,
      _seq: r.seq,
      _txid: r.txid,
      _commit_time: r.commitTime,
      _op: r.op,
    };
    for (const k in values) row[k] = values[k] ?? null;
    return row;
  }

  /** Union of the group's columns after PII rules; a column seen with two clashing types is a conflict. */
  private incoming(table: string, group: readonly ChangeRecord[]) {
    const columns = new Map<string, RawColumn>();
    const conflicts: { name: string; from: RawColumn['type']; to: RawColumn['type'] }[] = [];
    let last: readonly RawColumn[] | undefined;
    for (const r of group) {
      if (r.columns === last || r.columns.length === 0) continue; // same decoded schema object: skip
      last = r.columns;
      for (const c of this.pii.columns(table, r.columns)) {
        const seen = columns.get(c.name);
        if (!seen) columns.set(c.name, c);
        else if (seen.type !== c.type) {
          const verdict = compatibility(seen.type, c.type);
          if (verdict === 'widen') columns.set(c.name, c);
          else if (verdict === 'incompatible' && !conflicts.some((x) => x.name === c.name))
            conflicts.push({ name: c.name, from: seen.type, to: c.type });
        }
      }
    }
    return { columns: [...CHANGE_META_COLUMNS, ...columns.values()], conflicts };
  }

  /** Columns the raw table has but full images of this batch lack: dropped upstream, kept NULL. */
  private dropped(
    raw: string,
    table: string,
    existing: readonly RawColumn[],
    group: readonly ChangeRecord[],
  ): string[] {
    const full = group.find((r) => r.fullImage);
    if (!full) return [];
    const out: string[] = [];
    for (const name of planDrift(existing, this.pii.columns(table, full.columns), true).dropped) {
      const key = `${raw}.${name}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      const message = `column ${name} of ${table} is no longer in the source; ${raw}.${name} stays, NULL from now on`;
      this.logger.warn({ source: this.source, table: raw, column: name }, message);
      out.push(message);
    }
    return out;
  }

  private async existing(raw: string): Promise<readonly RawColumn[] | undefined> {
    // Filling the cache changes nothing a prepared batch was checked against: no new generation.
    if (!this.known.has(raw)) this.known.set(raw, await this.sink.describe(raw));
    return this.known.get(raw);
  }

  private remember(raw: string, columns: readonly RawColumn[] | undefined): void {
    this.known.set(raw, columns);
    this.generation++;
  }

  private forget(raw: string): void {
    this.known.delete(raw);
    this.generation++;
  }

  private async ensure(raw: string, columns: readonly RawColumn[]): Promise<void> {
    const existing = this.known.get(raw);
    const drift = existing ? planDrift(existing, columns) : undefined;
    if (existing && drift && drift.add.length === 0 && drift.widen.length === 0) return;
    try {
      await this.sink.ensureTable(raw, columns, CHANGE_DEDUPE_KEY);
    } catch (e) {
      if (e instanceof IncompatibleColumnError) {
        this.forget(raw);
        throw new SchemaDriftError(
          this.source,
          [{ table: raw, column: e.column, oldType: e.oldType, newType: e.newType }],
          0,
        );
      }
      throw e;
    }
    if (drift && drift.add.length > 0) {
      this.logger.info(
        { source: this.source, table: raw, added: drift.add.map((c) => c.name) },
        'raw table columns added',
      );
    }
    this.remember(raw, await this.sink.describe(raw));
  }
}
