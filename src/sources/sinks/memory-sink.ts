import type { QuarantinedRecord, RawColumn, RawRow } from '../types.js';
import { planDrift } from './drift.js';
import { IncompatibleColumnError, type CdcSink } from './types.js';

/** An in-memory CdcSink with the same contract as the engine sink (unit tests, dry runs). */
export class MemorySink implements CdcSink {
  readonly tables = new Map<string, { columns: RawColumn[]; rows: Map<string, RawRow> }>();
  readonly quarantined = new Map<string, QuarantinedRecord>();
  readonly checkpoints = new Map<string, string>();

  async describe(table: string): Promise<readonly RawColumn[] | undefined> {
    return this.tables.get(table)?.columns;
  }

  async ensureTable(table: string, columns: readonly RawColumn[]): Promise<void> {
    const t = this.tables.get(table);
    if (!t) {
      this.tables.set(table, { columns: [...columns], rows: new Map() });
      return;
    }
    const plan = planDrift(t.columns, columns);
    const bad = plan.incompatible[0];
    if (bad) throw new IncompatibleColumnError(table, bad.name, bad.from, bad.to);
    t.columns.push(...plan.add);
    for (const w of plan.widen) {
      const c = t.columns.findIndex((x) => x.name === w.name);
      t.columns[c] = { name: w.name, type: w.to };
    }
  }

  async write(
    table: string,
    rows: readonly RawRow[],
    dedupeKey: readonly string[],
  ): Promise<{ inserted: number }> {
    const t = this.tables.get(table);
    if (!t) throw new Error(`write to ${table} before ensureTable`);
    let inserted = 0;
    for (const row of rows) {
      const key = dedupeKey.map((k) => String(row[k])).join('\u0000');
      if (t.rows.has(key)) continue;
      const full: Record<string, RawRow[string]> = {};
      for (const c of t.columns) full[c.name] = row[c.name] ?? null;
      t.rows.set(key, full);
      inserted++;
    }
    return { inserted };
  }

  async quarantine(records: readonly QuarantinedRecord[]): Promise<void> {
    for (const r of records)
      if (!this.quarantined.has(`${r.source}\u0000${r.origin}`))
        this.quarantined.set(`${r.source}\u0000${r.origin}`, r);
  }

  async getCheckpoint(key: string): Promise<string | undefined> {
    return this.checkpoints.get(key);
  }

  async putCheckpoint(key: string, value: string): Promise<void> {
    this.checkpoints.set(key, value);
  }

  async discardSnapshot(table: string, lsn: string): Promise<number> {
    const t = this.tables.get(table);
    let n = 0;
    for (const [k, r] of t?.rows ?? []) {
      if (r['_op'] === 'r' && r['_lsn'] === lsn) {
        t?.rows.delete(k);
        n++;
      }
    }
    return n;
  }

  /** Rows of a table in insertion order, every column present (NULL when added later). */
  rows(table: string): RawRow[] {
    const t = this.tables.get(table);
    if (!t) return [];
    return [...t.rows.values()].map((r) =>
      Object.fromEntries(t.columns.map((c) => [c.name, r[c.name] ?? null])),
    );
  }
}
