import { DateTime } from 'luxon';
import { EngineError } from '../errors.js';
import type { Scd2OrderPart } from '../types.js';
import type { SqlDialect } from './dialect.js';
import { SCD2_STATE_TABLE } from './meta.js';
import type { Scd2Columns } from './scd2-names.js';

/**
 * SQL of an SCD2 merge from a change log (pure rendering).
 *
 * Semantics (DESIGN.md): versions in commit order; changes of one key at one commit time collapse to
 * the last by the ordering column; a state equal to the previous one makes no version (absent ≡ deleted);
 * a delete closes the current version and starts a deleted one (is_deleted, current, attributes of
 * the delete row); valid_to is the next version's valid_from, NULL while current.
 *
 * The table's high-water mark is the greatest ordering value merged so far: changes at or below it are
 * replays and skipped, so merging a batch twice changes nothing. Changes committed before the newest
 * valid_from are rejected (batches must come in commit order; rebuild from the log to include them).
 *
 * Fast path, per key touched by the batch: compare the new changes with the current version (the
 * "anchor": a join for keys with one new change, windows in commit order for keys with several), close
 * it at the first new version (by row id) and insert the new versions. Slow path, only for keys
 * whose first new change has the same commit time as their current version (a commit split across
 * batches): re-derive the key's history from its versions plus the new changes, replace its rows.
 */

export const SCD2_TEMP = {
  watermark: '__tessera_scd2_wm',
  changes: '__tessera_scd2_chg',
  current: '__tessera_scd2_cur',
  versions: '__tessera_scd2_new',
  snapshot: '__tessera_scd2_snap',
  multi: '__tessera_scd2_multi',
} as const;

export interface Scd2Shape {
  readonly target: string;
  readonly businessKey: readonly string[];
  readonly tracked: readonly string[];
  readonly names: Scd2Columns;
}

export interface Scd2ChangeSource {
  /** Relation SQL: a quoted table or a parenthesized SELECT. */
  readonly relation: string;
  readonly orderBy: string;
  readonly commitTime: string;
  readonly op: string;
  /** The plain columns `orderBy` concatenates (Scd2ChangesMergeRequest.orderParts). */
  readonly orderParts?: readonly Scd2OrderPart[];
}

export interface Scd2Validation {
  readonly rows: number;
  readonly bad_ops: number;
  readonly null_keys: number;
  readonly null_order: number;
  readonly late: number;
  readonly min_ts: string | null;
  readonly max_from: string | null;
}

export function renderScd2(d: SqlDialect, shape: Scd2Shape) {
  d.require('supportsTempTables', 'an SCD2 merge');
  if (shape.businessKey.length === 0)
    throw new EngineError(d.name, `SCD2 ${shape.target}: businessKey is empty`);
  const n = shape.names;
  const q = (c: string): string => d.quote(c);
  const target = d.table(shape.target);
  const tmp = (t: keyof typeof SCD2_TEMP): string => d.tempTable(SCD2_TEMP[t]);
  const keys = shape.businessKey.map(q);
  const attrs = shape.tracked.map(q);
  const cols = [...keys, ...attrs];
  const list = (alias: string, xs: readonly string[]): string => xs.map((x) => `${alias}.${x}`).join(', ');
  const on = (a: string, b: string): string => keys.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
  const [ts, ord, del, hash, rid] = ['__ts', '__ord', '__del', '__hash', '__rid'].map(q) as [
    string,
    string,
    string,
    string,
    string,
  ];
  /** A target row's version columns under the staging names. */
  const meta = (alias: string): string =>
    `${alias}.${q(n.validFrom)} AS ${ts}, ${alias}.${q(n.sourceOrder)} AS ${ord}, ` +
    `${alias}.${q(n.isDeleted)} AS ${del}, ${alias}.${q(n.rowHash)} AS ${hash}`;
  /** dbt extras of a version starting at `tsExpr`, as [column, expression]: dbt_scd_id, dbt_updated_at. */
  const extras = (tsExpr: string, keyExprs: readonly string[]): (readonly [string, string])[] => [
    ...(n.scdId ? [[n.scdId, d.spell.md5Hex(d.canonicalText([...keyExprs, tsExpr]))] as const] : []),
    ...(n.updatedAt ? [[n.updatedAt, tsExpr] as const] : []),
  ];
  const outCols = [
    ...cols,
    ...[n.validFrom, n.validTo, n.isCurrent, n.isDeleted, n.sourceOrder, n.rowHash].map(q),
    ...extras('', []).map(([c]) => q(c)),
  ];
  const attrHash = (alias: string): string => d.rowHash(attrs.map((a) => `${alias}.${a}`));
  /** validate()'s counts that need no watermark, over raw change rows `c` (first loads). */
  const rawCounts = (src: Scd2ChangeSource): string => {
    const countIf = (cond: string, as: string): string =>
      `sum(CASE WHEN ${cond} THEN 1 ELSE 0 END) AS ${q(as)}`;
    const op = `c.${q(src.op)}`;
    return (
      `count(*) AS ${q('rows')}, ${countIf(`${op} IS NULL OR ${op} NOT IN ('c', 'u', 'd', 'r')`, 'bad_ops')}, ` +
      `${countIf(keys.map((k) => `c.${k} IS NULL`).join(' OR '), 'null_keys')}, ` +
      `${countIf(`c.${q(src.commitTime)} IS NULL OR c.${q(src.orderBy)} IS NULL`, 'null_order')}`
    );
  };

  return {
    /** Empty target typed from the change source (first run). */
    createTarget(src: Scd2ChangeSource): string {
      const at = `c.${q(src.commitTime)}`;
      const select = [
        list('c', cols),
        `${at} AS ${q(n.validFrom)}`,
        `${at} AS ${q(n.validTo)}`,
        `TRUE AS ${q(n.isCurrent)}`,
        `TRUE AS ${q(n.isDeleted)}`,
        `c.${q(src.orderBy)} AS ${q(n.sourceOrder)}`,
        `${attrHash('c')} AS ${q(n.rowHash)}`,
        ...extras(
          at,
          keys.map((k) => `c.${k}`),
        ).map(([c, e]) => `${e} AS ${q(c)}`),
      ];
      return `CREATE TABLE ${target} AS SELECT ${select.join(', ')} FROM ${src.relation} AS c LIMIT 0`;
    },

    /**
     * The high-water mark (greatest ordering value ever merged: kept in scd2_state, because changes
     * collapsed or found unchanged leave no row; else the greatest stored one) and the newest valid_from.
     * `orderType`: the target's ordering column type, to read the stored text back; `storedMark`: the stored
     * mark when the caller has read it (storedMark()), which spares the greatest stored ordering value (a scan
     * of the whole column, long text for a raw log's `_pos`).
     */
    stageWatermark(stateKey: string, orderType: string, storedMark?: string): string {
      const stored =
        storedMark === undefined
          ? `coalesce((SELECT CAST(${q('max_order')} AS ${orderType}) FROM ${d.table(SCD2_STATE_TABLE)} ` +
            `WHERE ${q('target')} = ${d.literal(stateKey)}), max(${q(n.sourceOrder)}))`
          : `CAST(${d.literal(storedMark)} AS ${orderType})`;
      return d.createTempTableAs(
        SCD2_TEMP.watermark,
        `SELECT ${stored} AS ${q('lsn')}, max(${q(n.validFrom)}) AS ${q('vf')} FROM ${target}`,
      );
    },

    /** One row `{ mark }` (text) when the target has a stored high-water mark, else none or NULL. */
    storedMark(stateKey: string): string {
      return (
        `SELECT CAST(${q('max_order')} AS ${d.spell.textType}) AS ${q('mark')} FROM ${d.table(SCD2_STATE_TABLE)} ` +
        `WHERE ${q('target')} = ${d.literal(stateKey)}`
      );
    },

    /** The staged watermark as text: `{ lsn, vf }` (NULLs on an empty target without state). */
    readWatermark(): string {
      const text = d.spell.textType;
      return (
        `SELECT CAST(${q('lsn')} AS ${text}) AS ${q('lsn')}, CAST(${q('vf')} AS ${text}) AS ${q('vf')} ` +
        `FROM ${tmp('watermark')}`
      );
    },

    /**
     * New changes above the high-water mark, collapsed per (key, commit time) to the last.
     * `mark`: the watermark read back (readWatermark) to filter with literals, which engines push into the
     * scan (zone maps) where a join with the watermark table reads the whole relation; `commitSince`, an
     * expression, also skips changes committed before it; `onlyMulti`, only keys staged by stageMulti.
     */
    stageChanges(
      src: Scd2ChangeSource,
      mark?: {
        readonly lsn: string | null;
        readonly orderType: string;
        readonly commitSince?: string;
        readonly onlyMulti?: boolean;
      },
    ): string {
      const c = (x: string): string => `c.${q(x)}`;
      const filters = mark
        ? [
            ...(mark.lsn === null
              ? []
              : [
                  // First: DuckDB 1.5 prunes the scan by it only when it precedes the expression's filter (measured).
                  ...partsAbove(d, 'c', src.orderParts ?? [], mark.lsn),
                  `(${c(src.orderBy)} IS NULL OR ${c(src.orderBy)} > CAST(${d.literal(mark.lsn)} AS ${mark.orderType}))`,
                ]),
            ...(mark.commitSince ? [`${c(src.commitTime)} >= ${mark.commitSince}`] : []),
            ...(mark.onlyMulti ? [`EXISTS (SELECT 1 FROM ${tmp('multi')} AS m WHERE ${on('c', 'm')})`] : []),
          ]
        : [`wm.${q('lsn')} IS NULL OR ${c(src.orderBy)} IS NULL OR ${c(src.orderBy)} > wm.${q('lsn')}`];
      const select = d.selectLatest({
        columns: [
          ...cols.map((x) => `c.${x} AS ${x}`),
          `${c(src.commitTime)} AS ${ts}`,
          `${c(src.orderBy)} AS ${ord}`,
          `${c(src.op)} AS ${q('__op')}`,
          `(${c(src.op)} = 'd') AS ${del}`,
          `${attrHash('c')} AS ${hash}`,
        ],
        outputNames: [...shape.businessKey, ...shape.tracked, '__ts', '__ord', '__op', '__del', '__hash'],
        from: mark ? `${src.relation} AS c` : `${src.relation} AS c CROSS JOIN ${tmp('watermark')} AS wm`,
        ...(filters.length > 0 ? { where: filters.join(' AND ') } : {}),
        partitionBy: [...keys.map((k) => `c.${k}`), c(src.commitTime)],
        orderBy: `${c(src.orderBy)} DESC NULLS FIRST`,
      });
      return d.createTempTableAs(SCD2_TEMP.changes, select);
    },

    /** One row of counts (Scd2Validation) over the staged changes. */
    validate(): string {
      const countIf = (cond: string, as: string): string =>
        `sum(CASE WHEN ${cond} THEN 1 ELSE 0 END) AS ${q(as)}`;
      const vf = `wm.${q('vf')}`;
      return (
        `SELECT count(*) AS ${q('rows')}, ` +
        `${countIf(`c.${q('__op')} IS NULL OR c.${q('__op')} NOT IN ('c', 'u', 'd', 'r')`, 'bad_ops')}, ` +
        `${countIf(keys.map((k) => `c.${k} IS NULL`).join(' OR '), 'null_keys')}, ` +
        `${countIf(`c.${ts} IS NULL OR c.${ord} IS NULL`, 'null_order')}, ` +
        `${countIf(`c.${ts} < ${vf}`, 'late')}, ` +
        `CAST(min(c.${ts}) AS ${d.spell.textType}) AS ${q('min_ts')}, ` +
        `CAST(max(${vf}) AS ${d.spell.textType}) AS ${q('max_from')} ` +
        `FROM ${tmp('changes')} AS c CROSS JOIN ${tmp('watermark')} AS wm`
      );
    },

    /**
     * Current versions of the touched keys (only what change detection needs, plus the row id);
     * `__tie` when the key's first new change shares the current version's commit time.
     */
    stageCurrent(): string {
      const firstNew = `SELECT ${keys.join(', ')}, min(${ts}) AS ${q('__min_ts')} FROM ${tmp('changes')} GROUP BY ${keys.join(', ')}`;
      const rowId = d.features.supportsRowId ? `${d.rowId('t')} AS ${rid}, ` : '';
      return d.createTempTableAs(
        SCD2_TEMP.current,
        `SELECT ${rowId}${list('t', keys)}, ${meta('t')}, (m.${q('__min_ts')} = t.${q(n.validFrom)}) AS ${q('__tie')} ` +
          `FROM ${target} AS t JOIN (${firstNew}) AS m ON ${on('t', 'm')} WHERE t.${q(n.isCurrent)}`,
      );
    },

    countTies(): string {
      return `SELECT count(*) AS ${q('ties')} FROM ${tmp('current')} WHERE ${q('__tie')}`;
    },

    /**
     * The versions to write: anchors (__src 0, with __next), re-derived histories (1), new versions (2).
     * Keys with a single new change (most of a daily batch) are compared with their anchor by a join;
     * keys with several, and re-derived keys, go through windows over their events in commit order.
     */
    deriveVersions(withTies: boolean): string {
      const withRid = d.features.supportsRowId;
      const noRid = withRid ? `, NULL AS ${rid}` : '';
      const src = q('__src');
      const changedVs = (prevDel: string, prevHash: string, curDel: string, curHash: string): string =>
        `CASE WHEN ${curDel} THEN NOT coalesce(${prevDel}, TRUE) ` +
        `ELSE coalesce(${prevDel}, TRUE) OR ${prevHash} IS DISTINCT FROM ${curHash} END`;
      const counts = `SELECT ${keys.join(', ')}, count(*) AS ${q('__n')} FROM ${tmp('changes')} GROUP BY ${keys.join(', ')}`;
      const single =
        `SELECT ${list('c', [...cols, ts, ord, del, hash])}, a.${ts} AS ${q('__a_ts')}, a.${ord} AS ${q('__a_ord')}, ` +
        `a.${del} AS ${q('__a_del')}, a.${hash} AS ${q('__a_hash')}${withRid ? `, a.${rid} AS ${q('__a_rid')}` : ''} ` +
        `FROM ${tmp('changes')} AS c JOIN counts AS k ON ${on('c', 'k')} AND k.${q('__n')} = 1 ` +
        `LEFT JOIN ${tmp('current')} AS a ON ${on('c', 'a')} WHERE (a.${q('__tie')} IS NULL OR NOT a.${q('__tie')}) ` +
        `AND ${changedVs(`a.${del}`, `a.${hash}`, `c.${del}`, `c.${hash}`)}`;
      const many = `k.${q('__n')} > 1${withTies ? ` OR a.${q('__tie')}` : ''}`;
      const branches = [
        `SELECT ${list('c', [...cols, ts, ord, del, hash])}, 2 AS ${src}${noRid} FROM ${tmp('changes')} AS c ` +
          `JOIN counts AS k ON ${on('c', 'k')} LEFT JOIN ${tmp('current')} AS a ON ${on('c', 'a')} WHERE ${many}`,
        // Anchors only lend their state to change detection; their attributes are never written.
        `SELECT ${[...keys.map((k) => `a.${k}`), ...attrs.map((x) => `NULL AS ${x}`)].join(', ')}, ` +
          `${list('a', [ts, ord, del, hash])}, 0${withRid ? `, a.${rid}` : ''} FROM ${tmp('current')} AS a ` +
          `JOIN counts AS k ON ${on('a', 'k')} AND k.${q('__n')} > 1 WHERE NOT a.${q('__tie')}`,
        ...(withTies
          ? [
              `SELECT ${list('t', cols)}, ${meta('t')}, 1${noRid} FROM ${target} AS t ` +
                `JOIN ${tmp('current')} AS k ON ${on('t', 'k')} WHERE k.${q('__tie')}`,
            ]
          : []),
      ];
      const outNames = [
        ...shape.businessKey,
        ...shape.tracked,
        '__ts',
        '__ord',
        '__del',
        '__hash',
        '__src',
        ...(withRid ? ['__rid'] : []),
      ];
      // Without ties no (key, commit time) repeats: new changes are collapsed and all follow their anchor.
      const collapsed = withTies
        ? d.selectLatest({
            columns: outNames.map(q),
            outputNames: outNames,
            from: 'ev',
            partitionBy: [...keys, ts],
            orderBy: `${ord} DESC`,
          })
        : 'SELECT * FROM ev';
      const w = `OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${ts})`;
      const changed = `${changedVs(`lag(${del}) ${w}`, `lag(${hash}) ${w}`, del, hash)} AS ${q('__changed')}`;
      const out = outNames.map(q).join(', ');
      return d.createTempTableAs(
        SCD2_TEMP.versions,
        `WITH counts AS (${counts}), single AS (${single}), ev AS (${branches.join(' UNION ALL ')}), ` +
          `collapsed AS (${collapsed}), flagged AS (SELECT *, ${changed} FROM collapsed) ` +
          `SELECT ${out}, lead(${ts}) ${w} AS ${q('__next')} FROM flagged WHERE ${src} = 0 OR ${q('__changed')} ` +
          // A single change that differs from its anchor: one new current version...
          `UNION ALL SELECT ${[...cols, ts, ord, del, hash].join(', ')}, 2${noRid}, NULL FROM single ` +
          // ...and the anchor, closed at the change's commit time.
          `UNION ALL SELECT ${[...keys, ...attrs.map(() => 'NULL')].join(', ')}, ${['__a_ts', '__a_ord', '__a_del', '__a_hash'].map(q).join(', ')}, ` +
          `0${withRid ? `, ${q('__a_rid')}` : ''}, ${ts} FROM single WHERE ${q('__a_ts')} IS NOT NULL`,
      );
    },

    /** Fast path: close each anchor at its first new version (by row id when the dialect has one). */
    closeCurrent(): string {
      // Engines without UPDATE ... FROM (Trino) apply the staged versions with one MERGE of their own.
      d.require('supportsUpdateFrom', 'closing SCD2 versions with UPDATE ... FROM');
      const set = `SET ${q(n.validTo)} = a.${q('__next')}, ${q(n.isCurrent)} = FALSE`;
      const anchors = `FROM ${tmp('versions')} WHERE ${q('__src')} = 0 AND ${q('__next')} IS NOT NULL`;
      if (d.features.supportsRowId) {
        return `UPDATE ${target} AS t ${set} FROM (SELECT ${rid}, ${q('__next')} ${anchors}) AS a WHERE ${d.rowId('t')} = a.${rid}`;
      }
      const closing = `SELECT ${keys.join(', ')}, ${q('__next')} ${anchors}`;
      return `UPDATE ${target} AS t ${set} FROM (${closing}) AS a WHERE ${on('t', 'a')} AND t.${q(n.isCurrent)}`;
    },

    /** Slow path: drop every version of the re-derived keys (their history is re-inserted). */
    deleteTieKeys(): string {
      d.require('supportsUpdateFrom', 'deleting re-derived SCD2 keys with DELETE ... USING');
      return (
        `DELETE FROM ${target} AS t USING (SELECT ${keys.join(', ')} FROM ${tmp('current')} ` +
        `WHERE ${q('__tie')}) AS k WHERE ${on('t', 'k')}`
      );
    },

    insertVersions(): string {
      const select = [
        ...cols,
        ts,
        q('__next'),
        `${q('__next')} IS NULL`,
        del,
        ord,
        hash,
        ...extras(ts, keys).map(([, e]) => e),
      ];
      return (
        `INSERT INTO ${target} (${outCols.join(', ')}) SELECT ${select.join(', ')} ` +
        `FROM ${tmp('versions')} WHERE ${q('__src')} <> 0`
      );
    },

    /** The snapshot staged as a change relation: changed/new keys as upserts, vanished keys as deletes. */
    snapshotAsChanges(snapshotTime: string): {
      stage: (snapshotSql: string) => string;
      source: Scd2ChangeSource;
      typing: Scd2ChangeSource;
    } {
      const tsLit = d.timestampLiteral(snapshotTime);
      const ordLit = `CAST(${epochMicros(d.name, snapshotTime)} AS BIGINT)`;
      const snap = tmp('snapshot');
      const tail = `${tsLit} AS ${q('__commit')}, ${ordLit} AS ${q('__ord')}`;
      const upserts =
        `SELECT ${list('s', cols)}, ${tail}, 'u' AS ${q('__op')} ` +
        `FROM ${snap} AS s LEFT JOIN ${target} AS t ON ${on('s', 't')} AND t.${q(n.isCurrent)} ` +
        `WHERE t.${keys[0] ?? ''} IS NULL OR t.${q(n.isDeleted)} OR t.${q(n.rowHash)} <> ${attrHash('s')}`;
      const deletes =
        `SELECT ${list('t', cols)}, ${tail}, 'd' AS ${q('__op')} ` +
        `FROM ${target} AS t WHERE t.${q(n.isCurrent)} AND NOT t.${q(n.isDeleted)} ` +
        `AND NOT EXISTS (SELECT 1 FROM ${snap} AS s WHERE ${on('s', 't')})`;
      const relation = (sql: string): Scd2ChangeSource => ({
        relation: `(${sql})`,
        orderBy: '__ord',
        commitTime: '__commit',
        op: '__op',
      });
      return {
        stage: (snapshotSql) =>
          d.createTempTableAs(SCD2_TEMP.snapshot, `SELECT ${cols.join(', ')} FROM (${snapshotSql}) AS s`),
        source: relation(`${upserts} UNION ALL ${deletes}`),
        typing: relation(`SELECT ${list('s', cols)}, ${tail}, 'u' AS ${q('__op')} FROM ${snap} AS s`),
      };
    },

    /** One row `{ n }`: business keys appearing more than once in the staged snapshot. */
    snapshotDuplicates(): string {
      return (
        `SELECT count(*) AS ${q('n')} FROM (SELECT ${keys.join(', ')} FROM ${tmp('snapshot')} ` +
        `GROUP BY ${keys.join(', ')} HAVING count(*) > 1) AS g`
      );
    },

    /**
     * First load from a change log (new, empty target): the keys with several changes (only they need the
     * windows of deriveVersions). Reads the key columns only.
     */
    stageMulti(src: Scd2ChangeSource): string {
      return d.createTempTableAs(
        SCD2_TEMP.multi,
        `SELECT ${list('c', keys)} FROM ${src.relation} AS c GROUP BY ${list('c', keys)} HAVING count(*) > 1`,
      );
    },

    /**
     * One row: the raw validation counts (and the greatest ordering value, as text) of the relation, or with
     * `multi` of the rows of the keys in stageMulti; `multi`: how many keys stageMulti staged.
     */
    firstLoadCounts(src: Scd2ChangeSource, multi = false): string {
      const only = multi ? ` WHERE EXISTS (SELECT 1 FROM ${tmp('multi')} AS m WHERE ${on('c', 'm')})` : '';
      return (
        `SELECT ${rawCounts(src)}, CAST(max(c.${q(src.orderBy)}) AS ${d.spell.textType}) AS ${q('mark')}, ` +
        `(SELECT count(*) FROM ${tmp('multi')}) AS ${q('multi')} FROM ${src.relation} AS c${only}`
      );
    },

    /**
     * First load: every key with a single change becomes one current version (a lone delete of a key never
     * seen makes none), straight from the relation: what deriveVersions gives a key without an anchor.
     */
    insertSingles(src: Scd2ChangeSource, skipMulti: boolean): string {
      const at = `c.${q(src.commitTime)}`;
      const select = [
        list('c', cols),
        at,
        'NULL',
        'TRUE',
        'FALSE',
        `c.${q(src.orderBy)}`,
        attrHash('c'),
        ...extras(
          at,
          keys.map((k) => `c.${k}`),
        ).map(([, e]) => e),
      ];
      const multi = skipMulti
        ? ` AND NOT EXISTS (SELECT 1 FROM ${tmp('multi')} AS m WHERE ${on('c', 'm')})`
        : '';
      return (
        `INSERT INTO ${target} (${outCols.join(', ')}) SELECT ${select.join(', ')} FROM ${src.relation} AS c ` +
        `WHERE c.${q(src.op)} <> 'd'${multi}`
      );
    },

    /** Snapshot merges: the snapshot's columns and types (no rows), for schema evolution and comparison. */
    snapshotShape(snapshotSql: string): string {
      return d.createTempTableAs(
        SCD2_TEMP.snapshot,
        `SELECT ${list('s', cols)} FROM (${snapshotSql}) AS s LIMIT 0`,
      );
    },

    /** One row `{ fresh }`: whether a snapshot taken at `snapshotTime` is above the high-water mark. */
    snapshotFresh(snapshotTime: string): string {
      const ordLit = `CAST(${epochMicros(d.name, snapshotTime)} AS BIGINT)`;
      return `SELECT (${q('lsn')} IS NULL OR ${ordLit} > ${q('lsn')}) AS ${q('fresh')} FROM ${tmp('watermark')}`;
    },

    /** First load from a snapshot (new, empty target): every row is a current version. */
    snapshotInsertAll(snapshotSql: string, snapshotTime: string): string {
      const at = d.timestampLiteral(snapshotTime);
      const select = [
        list('s', cols),
        at,
        'NULL',
        'TRUE',
        'FALSE',
        `CAST(${epochMicros(d.name, snapshotTime)} AS BIGINT)`,
        attrHash('s'),
        ...extras(
          at,
          keys.map((k) => `s.${k}`),
        ).map(([, e]) => e),
      ];
      return `INSERT INTO ${target} (${outCols.join(', ')}) SELECT ${select.join(', ')} FROM (${snapshotSql}) AS s`;
    },

    /** One row `{ dups, null_keys }` over the target (after snapshotInsertAll: the snapshot's rows). */
    targetKeyCheck(): string {
      return (
        `SELECT (SELECT count(*) FROM (SELECT ${keys.join(', ')} FROM ${target} GROUP BY ${keys.join(', ')} ` +
        `HAVING count(*) > 1) AS g) AS ${q('dups')}, ` +
        `(SELECT count(*) FROM ${target} WHERE ${keys.map((k) => `${k} IS NULL`).join(' OR ')}) AS ${q('null_keys')}`
      );
    },

    /**
     * One row `{ n, bad }` over a sample of live current versions: `bad` counts those whose stored row_hash is
     * not the hash of their attributes (the tracked columns changed since they were written, or a value was
     * cast on insert). Any such row and snapshotDiff compares hashes, as the stored versions were built.
     */
    hashSample(size: number): string {
      return (
        `SELECT count(*) AS ${q('n')}, coalesce(sum(CASE WHEN t.${q(n.rowHash)} = ${attrHash('t')} THEN 0 ELSE 1 END), 0) AS ${q('bad')} ` +
        `FROM (SELECT * FROM ${target} WHERE ${q(n.isCurrent)} AND NOT ${q(n.isDeleted)} LIMIT ${size}) AS t`
      );
    },

    /**
     * The day's changes of a snapshot in ONE pass: a full join of the snapshot with the current versions
     * gives upserts (new, revived or changed keys), deletes (live keys the snapshot lacks) and, for every
     * key it touches, the current version (the anchor) with its row id, so stageCurrent need not read the
     * target again (currentFromChanges). Staged as SCD2_TEMP.changes with the anchor columns after the
     * change columns. `compare`: 'columns' (IS DISTINCT FROM per tracked column; `textCompared` ones as
     * text, e.g. floats where -0 = 0) or 'hash' (the stored row_hash against the snapshot's).
     */
    snapshotDiff(
      snapshotSql: string,
      snapshotTime: string,
      compare: 'columns' | 'hash',
      textCompared: ReadonlySet<string>,
    ): string {
      const at = d.timestampLiteral(snapshotTime);
      const ordLit = `CAST(${epochMicros(d.name, snapshotTime)} AS BIGINT)`;
      const inS = q('__in_s');
      const inT = q('__in_t');
      const text = d.spell.textType;
      const differs = (c: string, raw: string): string =>
        textCompared.has(raw.toLowerCase())
          ? `CAST(s.${c} AS ${text}) IS DISTINCT FROM CAST(t.${c} AS ${text})`
          : `s.${c} IS DISTINCT FROM t.${c}`;
      const changed =
        compare === 'columns'
          ? attrs.map((c, i) => differs(c, shape.tracked[i] ?? '')).join(' OR ') || 'FALSE'
          : `t.${q(n.rowHash)} <> ${attrHash('s')}`;
      const pick = (c: string): string => `CASE WHEN s.${inS} THEN s.${c} ELSE t.${c} END`;
      const rowId = d.features.supportsRowId ? `${d.rowId('x')} AS ${rid}, ` : '';
      const current =
        `SELECT ${rowId}${list('x', cols)}, ${list('x', [n.validFrom, n.sourceOrder, n.isDeleted, n.rowHash].map(q))}, ` +
        `TRUE AS ${inT} FROM ${target} AS x WHERE x.${q(n.isCurrent)}`;
      const select = [
        ...cols.map((c) => `${pick(c)} AS ${c}`),
        `${at} AS ${ts}`,
        `${ordLit} AS ${ord}`,
        `CASE WHEN s.${inS} THEN 'u' ELSE 'd' END AS ${q('__op')}`,
        `(s.${inS} IS NULL) AS ${del}`,
        `${d.rowHash(attrs.map(pick))} AS ${hash}`,
        ...(d.features.supportsRowId ? [`t.${rid} AS ${rid}`] : []),
        `t.${q(n.validFrom)} AS ${q('__a_ts')}`,
        `t.${q(n.sourceOrder)} AS ${q('__a_ord')}`,
        `t.${q(n.isDeleted)} AS ${q('__a_del')}`,
        `t.${q(n.rowHash)} AS ${q('__a_hash')}`,
        `coalesce(t.${inT}, FALSE) AS ${q('__a_in')}`,
      ];
      return d.createTempTableAs(
        SCD2_TEMP.changes,
        `SELECT ${select.join(', ')} FROM (SELECT ${list('y', cols)}, TRUE AS ${inS} FROM (${snapshotSql}) AS y) AS s ` +
          `FULL JOIN (${current}) AS t ON ${on('s', 't')} ` +
          `WHERE CASE WHEN s.${inS} IS NULL THEN NOT t.${q(n.isDeleted)} ` +
          `WHEN t.${inT} IS NULL OR t.${q(n.isDeleted)} THEN TRUE ELSE ${changed} END`,
      );
    },

    /**
     * One row after snapshotDiff, from which duplicate keys in the snapshot show without grouping it: each
     * snapshot row either matched a live current version or is `fresh` (staged as new or revived); the
     * matched ones are `rows - fresh`, the live versions they matched `live - gone`. More matched rows than
     * matched versions, or a fresh key staged twice, means a key appears more than once.
     */
    snapshotKeyCounts(snapshotSql: string): string {
      const fresh = `${q('__op')} = 'u' AND (NOT ${q('__a_in')} OR ${q('__a_del')})`;
      return (
        `SELECT (SELECT count(*) FROM (${snapshotSql}) AS s) AS ${q('rows')}, ` +
        `(SELECT count(*) FROM ${target} WHERE ${q(n.isCurrent)} AND NOT ${q(n.isDeleted)}) AS ${q('live')}, ` +
        `(SELECT count(*) FROM ${tmp('changes')} WHERE ${q('__op')} = 'd') AS ${q('gone')}, ` +
        `(SELECT count(*) FROM ${tmp('changes')} WHERE ${fresh}) AS ${q('fresh')}, ` +
        `(SELECT count(*) FROM (SELECT ${keys.join(', ')} FROM ${tmp('changes')} WHERE ${fresh} ` +
        `GROUP BY ${keys.join(', ')} HAVING count(*) > 1) AS g) AS ${q('fresh_dups')}`
      );
    },

    /** One row `{ n }`: business keys appearing more than once in the snapshot (for the error message). */
    snapshotDuplicatesIn(snapshotSql: string): string {
      return (
        `SELECT count(*) AS ${q('n')} FROM (SELECT ${keys.join(', ')} FROM (${snapshotSql}) AS s ` +
        `GROUP BY ${keys.join(', ')} HAVING count(*) > 1) AS g`
      );
    },

    /** The anchors snapshotDiff found, in stageCurrent's layout. */
    currentFromChanges(): string {
      const rowId = d.features.supportsRowId ? `${rid}, ` : '';
      return d.createTempTableAs(
        SCD2_TEMP.current,
        `SELECT ${rowId}${keys.join(', ')}, ${q('__a_ts')} AS ${ts}, ${q('__a_ord')} AS ${ord}, ` +
          `${q('__a_del')} AS ${del}, ${q('__a_hash')} AS ${hash}, (${ts} = ${q('__a_ts')}) AS ${q('__tie')} ` +
          `FROM ${tmp('changes')} WHERE ${q('__a_in')}`,
      );
    },

    cleanup(): string[] {
      return Object.values(SCD2_TEMP).map((t) => d.dropTempTable(t));
    },
  };
}

export type Scd2Renderer = ReturnType<typeof renderScd2>;

/**
 * `[predicate]` implied by `orderBy > mark` when orderBy concatenates `parts` (columns of `alias`): the columns
 * compared in order with the mark's slices, which an engine prunes by min/max where the expression is evaluated
 * row by row. Rows with a NULL part pass (their NULL ordering value is counted and refused by validate()).
 * `[]` when there are no parts or the mark does not split into them (the exact filter alone then applies).
 */
export function partsAbove(
  d: SqlDialect,
  alias: string,
  parts: readonly Scd2OrderPart[],
  mark: string,
): string[] {
  if (parts.length === 0 || parts.reduce((n, p) => n + p.width, 0) !== mark.length) return [];
  let at = 0;
  const slices: { col: string; lit: string }[] = [];
  for (const p of parts) {
    const raw = mark.slice(at, at + p.width);
    at += p.width;
    if (p.numeric && !/^\d+$/.test(raw)) return [];
    slices.push({
      col: `${alias}.${d.quote(p.column)}`,
      lit: p.numeric ? BigInt(raw).toString() : d.literal(raw),
    });
  }
  // (c1, …, ck) > (l1, …, lk) lexicographically: c1 > l1 OR (c1 = l1 AND (c2 > l2 OR (…)))
  const above = slices.reduceRight<string>(
    (inner, { col, lit }) =>
      inner === '' ? `${col} > ${lit}` : `(${col} > ${lit} OR (${col} = ${lit} AND ${inner}))`,
    '',
  );
  return [`(${[above, ...slices.map(({ col }) => `${col} IS NULL`)].join(' OR ')})`];
}

/** Microseconds since the epoch of an ISO instant (the ordering value of a snapshot merge). */
export function epochMicros(engine: string, iso: string): string {
  const dt = DateTime.fromISO(iso, { setZone: true });
  if (!dt.isValid) throw new EngineError(engine, `'${iso}' is not an ISO-8601 instant`);
  const micros = /\.\d{3}(\d{1,3})/.exec(iso)?.[1]?.padEnd(3, '0') ?? '000';
  return (BigInt(dt.toMillis()) * 1000n + BigInt(micros)).toString();
}
