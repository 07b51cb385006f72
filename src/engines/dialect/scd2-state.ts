import type { SqlDialect } from './dialect.js';
import { SCD2_STATE_TABLE } from './meta.js';
import { SCD2_TEMP, type Scd2Shape } from './scd2.js';

/**
 * The data version of an SCD2 target without rescanning it on every merge.
 *
 * fingerprint = f(row count, Σ hash(key, valid_from, valid_to, is_deleted, source ordering, row_hash)),
 * the columns that determine a version (row_hash stands for the tracked attributes). The sum is
 * additive, so a fast-path merge updates it by deltas: + new versions, + closed anchors as they are
 * now − as they were (valid_to NULL). Deltas cast to the target's column types so they hash exactly
 * like stored rows. The stored state is trusted only when its row count matches the table and the
 * engine build is unchanged; otherwise (and after re-derivations or schema changes) it is recomputed
 * from the table. Equal content therefore gives equal versions however the table was built.
 * The same row keeps the target's high-water mark (`max_order`, as text).
 */
export function renderScd2State(d: SqlDialect, shape: Scd2Shape, stateKey: string) {
  const n = shape.names;
  const q = (c: string): string => d.quote(c);
  const target = d.table(shape.target);
  const state = d.table(SCD2_STATE_TABLE);
  const where = `WHERE ${q('target')} = ${d.literal(stateKey)}`;
  const stored = [n.validFrom, n.validTo, n.isDeleted, n.sourceOrder, n.rowHash];
  const tableExprs = [...shape.businessKey, ...stored].map(q);
  const text = d.spell.textType;
  /** The high-water mark after this merge: the old one or the greatest staged ordering value. */
  const newMark =
    `(SELECT CAST(max(${q('x')}) AS ${text}) FROM (SELECT ${q('lsn')} AS ${q('x')} FROM ${d.tempTable(SCD2_TEMP.watermark)} ` +
    `UNION ALL SELECT ${q('__ord')} FROM ${d.tempTable(SCD2_TEMP.changes)}) AS w)`;

  return {
    /** One row `{ rows, same_engine, actual }`, none when the target has no state yet. */
    read(): string {
      return (
        `SELECT ${q('row_count')} AS ${q('rows')}, (${q('engine_version')} = ${d.spell.engineVersion}) AS ${q('same_engine')}, ` +
        `(SELECT count(*) FROM ${target}) AS ${q('actual')} FROM ${state} ${where}`
      );
    },

    /** Recompute from the table (first merge, re-derivations, schema changes, untrusted state). */
    reset(): string[] {
      return [
        `CREATE OR REPLACE TEMP TABLE ${d.tempTable('__tessera_scd2_mark')} AS SELECT ${newMark} AS ${q('m')}`,
        `DELETE FROM ${state} ${where}`,
        `INSERT INTO ${state} SELECT ${d.literal(stateKey)}, count(*), ` +
          `CAST(coalesce(${d.spell.hashSum(tableExprs)}, 0) AS ${text}), ${d.spell.engineVersion}, ` +
          `(SELECT ${q('m')} FROM ${d.tempTable('__tessera_scd2_mark')}) FROM ${target}`,
        d.dropTempTable('__tessera_scd2_mark'),
      ];
    },

    /** reset() with the high-water mark given (text, or null for none): first loads stage no changes table. */
    resetWithMark(mark: string | null): string[] {
      return [
        `DELETE FROM ${state} ${where}`,
        `INSERT INTO ${state} SELECT ${d.literal(stateKey)}, count(*), ` +
          `CAST(coalesce(${d.spell.hashSum(tableExprs)}, 0) AS ${text}), ${d.spell.engineVersion}, ` +
          `CAST(${d.literal(mark)} AS ${text}) FROM ${target}`,
      ];
    },

    /** Fast path: add the deltas of the rows this merge inserted and closed. `types`: column → target type. */
    advance(types: ReadonlyMap<string, string>): string {
      const cast = (expr: string, column: string): string => {
        const type = types.get(column.toLowerCase());
        return type ? `CAST(${expr} AS ${type})` : expr;
      };
      const hashOf = (validTo: string): string =>
        d.spell.hashSum([
          ...shape.businessKey.map((k) => cast(q(k), k)),
          cast(q('__ts'), n.validFrom),
          cast(validTo, n.validTo),
          cast(q('__del'), n.isDeleted),
          cast(q('__ord'), n.sourceOrder),
          cast(q('__hash'), n.rowHash),
        ]);
      const versions = d.tempTable(SCD2_TEMP.versions);
      const sum = (validTo: string, filter: string): string =>
        `coalesce((SELECT ${hashOf(validTo)} FROM ${versions} WHERE ${filter}), 0)`;
      const closed = `${q('__src')} = 0 AND ${q('__next')} IS NOT NULL`;
      const delta = `${sum(q('__next'), `${q('__src')} <> 0`)} + ${sum(q('__next'), closed)} - ${sum('NULL', closed)}`;
      return (
        `UPDATE ${state} SET ${q('row_count')} = ${q('row_count')} + ` +
        `(SELECT count(*) FROM ${versions} WHERE ${q('__src')} <> 0), ` +
        `${q('hash_sum')} = CAST(CAST(${q('hash_sum')} AS ${d.spell.sumType}) + ${delta} AS ${text}), ` +
        `${q('max_order')} = ${newMark} ${where}`
      );
    },

    /** One row `{ rows, version }` from the stored state. */
    fingerprint(): string {
      return (
        `SELECT ${q('row_count')} AS ${q('rows')}, ` +
        `${d.fingerprintText(q('row_count'), `CAST(${q('hash_sum')} AS ${d.spell.sumType})`)} AS ${q('version')} ` +
        `FROM ${state} ${where}`
      );
    },

    /** The same fingerprint computed from the table (tests compare the two). */
    fingerprintFromTable(): string {
      return `SELECT count(*) AS ${q('rows')}, ${d.fingerprint(tableExprs)} AS ${q('version')} FROM ${target}`;
    },
  };
}
