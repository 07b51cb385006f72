import type { PiiPolicy } from '../pii.js';
import { compatibility, planDrift } from '../sinks/drift.js';
import { CHANGE_DEDUPE_KEY, IncompatibleColumnError, type CdcSink } from '../sinks/types.js';
import {
  CHANGE_META_COLUMNS,
  type QuarantinedRecord,
  type RawColumn,
  type RawRow,
  type RawValue,
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

export class ChangeLander {
  private readonly known = new Map<string, readonly RawColumn[] | undefined>();
  private readonly warned = new Set<string>();

  constructor(
    readonly source: string,
    private readonly sink: CdcSink,
    private readonly pii: PiiPolicy,
    private readonly logger: SourceLogger = stderrLogger,
  ) {}

  async land(records: readonly ChangeRecord[]): Promise<LandResult> {
    const groups = new Map<string, ChangeRecord[]>();
    for (const r of records) {
      const g = groups.get(r.table);
      if (g) g.push(r);
      else groups.set(r.table, [r]);
    }
    const warnings: string[] = [];
    const plans: { table: string; raw: string; columns: RawColumn[]; records: ChangeRecord[] }[] = [];
    const incompatible: IncompatibleColumn[] = [];
    const quarantine: QuarantinedRecord[] = [];
    for (const [table, group] of groups) {
      const raw = rawChangeTable(this.source, table);
      const { columns, conflicts } = this.incoming(table, group);
      const existing = await this.existing(raw);
      const drift = existing ? planDrift(existing, columns) : undefined;
      const bad = [...conflicts, ...(drift?.incompatible ?? [])];
      if (bad.length > 0) {
        this.known.delete(raw); // re-read after the fix (an operator altering the raw column)
        incompatible.push(
          ...bad.map((b) => ({ table: raw, column: b.name, oldType: b.from, newType: b.to })),
        );
        const reason = `incompatible type change: ${bad.map((b) => `${b.name} ${b.from} → ${b.to}`).join(', ')}`;
        for (const r of group)
          quarantine.push({ source: this.source, origin: r.origin, reason, raw: r.redactedInput() });
        continue;
      }
      if (existing) warnings.push(...this.dropped(raw, table, existing, group));
      plans.push({ table, raw, columns, records: group });
    }
    if (incompatible.length > 0) {
      await this.sink.quarantine(quarantine);
      throw new SchemaDriftError(this.source, incompatible, quarantine.length);
    }
    const tables: Record<string, { changes: number; inserted: number }> = {};
    let inserted = 0;
    for (const p of plans) {
      await this.ensure(p.raw, p.columns);
      const rows = p.records.map((r) => this.row(r));
      const res = await this.sink.write(p.raw, rows, CHANGE_DEDUPE_KEY, { pruneBy: '_commit_time' });
      tables[p.raw] = { changes: rows.length, inserted: res.inserted };
      inserted += res.inserted;
    }
    return { changes: records.length, inserted, tables, warnings };
  }

  private row(r: ChangeRecord): RawRow {
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
    if (!this.known.has(raw)) this.known.set(raw, await this.sink.describe(raw));
    return this.known.get(raw);
  }

  private async ensure(raw: string, columns: readonly RawColumn[]): Promise<void> {
    const existing = this.known.get(raw);
    const drift = existing ? planDrift(existing, columns) : undefined;
    if (existing && drift && drift.add.length === 0 && drift.widen.length === 0) return;
    try {
      await this.sink.ensureTable(raw, columns, CHANGE_DEDUPE_KEY);
    } catch (e) {
      if (e instanceof IncompatibleColumnError) {
        this.known.delete(raw);
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
    this.known.set(raw, await this.sink.describe(raw));
  }
}
