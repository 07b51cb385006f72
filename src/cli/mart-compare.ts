/**
 * The marts of a demo run as engine-neutral text, and the comparison of two runs mart by mart: the DuckDB demo
 * and the lakehouse demo (same seed and days) must agree value for value. Each engine's client returns its own
 * shapes (DuckDB numbers and Date objects, Trino decimal strings and `YYYY-MM-DD HH:MM:SS.ffffff`), so every
 * value is written in one canonical form before rows are sorted and compared.
 */
import type { Engine } from '../engines/index.js';

/** mart key -> sorted canonical rows (each row a JSON object of canonical values, keys sorted). */
export type MartDump = Record<string, string[]>;

const DECIMAL = /^-?\d+\.\d+$/;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z| UTC|\+00(:?00)?)?$/;

/**
 * Doubles keep 12 significant digits: a sum of doubles depends on the order an engine adds them in, in the
 * last bits only. Decimals and integers are exact (trailing fraction zeros dropped: DECIMAL(38,6) 12.500000
 * is 12.5 as a DuckDB number); instants are `YYYY-MM-DD HH:MM:SS[.fraction]` in UTC.
 */
export function canonicalValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
  if (v instanceof Date) return canonicalValue(v.toISOString());
  if (typeof v === 'string') {
    if (DECIMAL.test(v)) {
      const trimmed = v.replace(/0+$/, '').replace(/\.$/, '');
      // More digits than a double holds exactly: keep the text (the other side is a decimal string too).
      return trimmed.replace('-', '').replace('.', '').length > 15
        ? trimmed
        : String(Number(Number(trimmed).toPrecision(12)));
    }
    const ts = TIMESTAMP.exec(v);
    if (ts) {
      const fraction = (ts[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
      return `${ts[1]} ${ts[2]}${fraction}`;
    }
    return v;
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v as string | number);
}

/** Columns a run writes about itself (run ids, build times), not data: they differ between any two runs. */
const RUN_COLUMNS = /^_(run_id|materialized_at|loaded_at|built_at|step_id|data_version)$/;

export async function dumpMarts(engine: Engine, keys: readonly string[]): Promise<MartDump> {
  const out: MartDump = {};
  for (const key of keys) {
    const rows = await engine.query(`select * from ${key}`);
    out[key] = rows
      .map((row) => {
        const entries = Object.entries(row)
          .filter(([k]) => !RUN_COLUMNS.test(k))
          .map(([k, v]) => [k, canonicalValue(v)] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return JSON.stringify(Object.fromEntries(entries));
      })
      .sort();
  }
  return out;
}

export interface MartDifference {
  readonly mart: string;
  readonly equal: boolean;
  readonly rows: readonly [number, number];
  /** A few rows only one side has (`<` left, `>` right). */
  readonly sample: readonly string[];
}

export function compareMarts(left: MartDump, right: MartDump): MartDifference[] {
  const marts = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
  return marts.map((mart) => {
    const a = left[mart] ?? [];
    const b = right[mart] ?? [];
    const count = (rows: readonly string[]) => {
      const m = new Map<string, number>();
      for (const r of rows) m.set(r, (m.get(r) ?? 0) + 1);
      return m;
    };
    const ca = count(a);
    const cb = count(b);
    const onlyIn = (x: Map<string, number>, y: Map<string, number>) =>
      [...x].filter(([r, n]) => (y.get(r) ?? 0) !== n).map(([r]) => r);
    const sample = [
      ...onlyIn(ca, cb)
        .slice(0, 3)
        .map((r) => `< ${r}`),
      ...onlyIn(cb, ca)
        .slice(0, 3)
        .map((r) => `> ${r}`),
    ];
    const equal = left[mart] !== undefined && right[mart] !== undefined && sample.length === 0;
    return { mart, equal, rows: [a.length, b.length], sample };
  });
}
