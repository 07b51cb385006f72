import { SCD2_STATE_TABLE } from '../dialect/meta.js';
import type { SqlDialect, TableRef } from '../dialect/dialect.js';
import {
  renderScd2,
  SCD2_TEMP,
  type Scd2ChangeSource,
  type Scd2Renderer,
  type Scd2Shape,
} from '../dialect/scd2.js';
import { scd2Columns } from '../dialect/scd2-names.js';
import { renderScd2State } from '../dialect/scd2-state.js';
import { Scd2InputError } from '../errors.js';
import type {
  ColumnInfo,
  SchemaChange,
  Scd2ChangesMergeRequest,
  Scd2MergeResult,
  Scd2SnapshotMergeRequest,
  Scd2TargetSpec,
} from '../types.js';
import type { SqlSession } from './client.js';
import { asNumber, type EngineHooks } from './context.js';
import type { KeyedLock } from './keyed-lock.js';
import { assertValid, validation } from './scd2-merge.js';

/**
 * SCD2 merges for engines whose statements each commit on their own (Trino and Spark over Iceberg: no
 * multi-statement transactions). The versions are derived exactly as on every engine (dialect/scd2.ts renders
 * the staging: watermark, collapsed changes, current versions, new versions), into staging relations; then
 * ONE MERGE applies them to the target: close the anchors (UPDATE valid_to, is_current), delete the keys
 * re-derived from their whole history, insert the new versions. One statement, one Iceberg snapshot, so
 * readers see the target before or after the merge, never between closing and inserting.
 *
 * The bookkeeping row (tessera_meta.scd2_state: row count, hash sum, high-water mark) commits in its own
 * statement right after. If the process dies between the two, the row count no longer matches the table,
 * so the next merge distrusts the state and recomputes it from the table; the high-water mark then falls
 * back to the greatest stored ordering value, and a replayed batch re-derives to the same versions.
 */

/** One merge's scratch space and the engine's ways of describing and evolving tables. */
export interface Scd2Operation {
  /** Renders this operation's statements (its staging names may be its own). */
  readonly dialect: SqlDialect;
  readonly session: SqlSession;
  describe(ref: TableRef): Promise<ColumnInfo[] | undefined>;
  /** A staged relation's columns, with the types the target would store them as. */
  describeStaged(name: string): Promise<ColumnInfo[]>;
  evolve(
    table: string,
    existing: readonly ColumnInfo[],
    staged: readonly ColumnInfo[],
  ): Promise<SchemaChange[]>;
  /** Drops the staged relations / ends the session (failures ignored: scratch only). */
  close(): Promise<void>;
}

export interface Scd2SingleCommitContext {
  readonly dialect: SqlDialect;
  readonly hooks: EngineHooks;
  readonly locks: KeyedLock;
  /** The bookkeeping tables exist (scd2_state) and whatever the engine's staging needs. */
  readonly ready: () => Promise<void>;
  readonly open: () => Scd2Operation;
}

interface Prepared {
  readonly source: Scd2ChangeSource;
  readonly typing: Scd2ChangeSource;
}

export function mergeScd2FromChanges(
  ctx: Scd2SingleCommitContext,
  req: Scd2ChangesMergeRequest,
): Promise<Scd2MergeResult> {
  return merge(ctx, req, 'mergeScd2FromChanges', async (op) => {
    const source: Scd2ChangeSource = {
      relation: op.dialect.relation(req.changes),
      orderBy: req.orderBy,
      commitTime: req.commitTimeColumn,
      op: req.opColumn,
    };
    return { source, typing: source };
  });
}

export function mergeScd2FromSnapshot(
  ctx: Scd2SingleCommitContext,
  req: Scd2SnapshotMergeRequest,
): Promise<Scd2MergeResult> {
  return merge(ctx, req, 'mergeScd2FromSnapshot', async (op, r) => {
    const snap = r.snapshotAsChanges(req.snapshotTime);
    await op.session.run(snap.stage(req.snapshotSql));
    const [dup] = await op.session.query(r.snapshotDuplicates());
    const dups = asNumber(dup?.['n']);
    if (dups > 0) {
      throw new Scd2InputError(
        op.dialect.name,
        `snapshot for ${req.target} has ${dups} business key(s) (${req.businessKey.join(', ')}) appearing more than once`,
      );
    }
    return { source: snap.source, typing: snap.typing };
  });
}

async function merge(
  ctx: Scd2SingleCommitContext,
  spec: Scd2TargetSpec,
  operation: string,
  prepare: (op: Scd2Operation, r: Scd2Renderer) => Promise<Prepared>,
): Promise<Scd2MergeResult> {
  const ref = ctx.dialect.tableRef(spec.target);
  const shape: Scd2Shape = {
    target: spec.target,
    businessKey: spec.businessKey,
    tracked: spec.tracked,
    names: scd2Columns(spec.columnNames),
  };
  const stateKey = `${ref.schema}.${ref.name}`;
  const step = async (name: string): Promise<void> => ctx.hooks.afterStep?.(operation, name);
  await ctx.ready();
  return ctx.locks.run(ctx.dialect.table(ref), async () => {
    const op = ctx.open();
    const d = op.dialect;
    const r = renderScd2(d, shape);
    const state = renderScd2State(d, shape, stateKey);
    const run = (sql: string): Promise<number> => op.session.run(sql);
    const query = (sql: string) => op.session.query(sql);
    try {
      await run(d.createSchema(ref.schema));
      let columns = await op.describe(ref);
      const { source, typing } = await prepare(op, r);
      const created = !columns;
      if (created) {
        await run(r.createTarget(typing));
        columns = await op.describe(ref);
      }
      const orderColumn = shape.names.sourceOrder.toLowerCase();
      const orderType = columns?.find((c) => c.name.toLowerCase() === orderColumn)?.type ?? d.spell.textType;
      await run(r.stageWatermark(stateKey, orderType));
      await run(r.stageChanges(source));
      await step('staged');
      let evolved = false;
      if (!created && columns) {
        const wanted = new Set([...spec.businessKey, ...spec.tracked].map((c) => c.toLowerCase()));
        const staged = (await op.describeStaged(SCD2_TEMP.changes)).filter((c) =>
          wanted.has(c.name.toLowerCase()),
        );
        evolved = (await op.evolve(spec.target, columns, staged)).some((c) => c.type !== 'keep_dropped');
        if (evolved) columns = await op.describe(ref);
      }
      const [row] = await query(r.validate());
      const v = validation(row);
      assertValid(d.name, spec, v);
      const [st] = created || evolved ? [] : await query(state.read());
      const trusted =
        st !== undefined && st['same_engine'] === true && asNumber(st['rows']) === asNumber(st['actual']);
      let closed = 0;
      let inserted = 0;
      let ties = 0;
      if (v.rows > 0) {
        await run(r.stageCurrent());
        const [t] = await query(r.countTies());
        ties = asNumber(t?.['ties']);
        await run(r.deriveVersions(ties > 0));
        const [n] = await query(countsSql(d));
        closed = asNumber(n?.['closed']);
        inserted = asNumber(n?.['inserted']);
        await run(applyVersions(d, shape));
        await step('merged');
      }
      if (trusted && ties === 0) {
        if (v.rows > 0)
          await run(state.advance(new Map((columns ?? []).map((c) => [c.name.toLowerCase(), c.type]))));
      } else {
        await run(resetState(d, shape, stateKey));
      }
      const [fp] = await query(state.fingerprint());
      return {
        target: spec.target,
        appliedChanges: v.rows,
        insertedVersions: inserted,
        closedVersions: closed,
        rederivedKeys: ties,
        rowCount: asNumber(fp?.['rows']),
        dataVersion: String(fp?.['version'] ?? ''),
      };
    } finally {
      await op.close();
    }
  });
}

/** Every staging relation a merge may create (to drop afterwards). */
export const SCD2_STAGED: readonly string[] = [...Object.values(SCD2_TEMP)];

/** One row `{ closed, inserted }`: anchors the MERGE closes and versions it inserts. */
function countsSql(d: SqlDialect): string {
  const q = (c: string): string => d.quote(c);
  const src = q('__src');
  return (
    `SELECT count_if(${src} = 0 AND ${q('__next')} IS NOT NULL) AS ${q('closed')}, ` +
    `count_if(${src} <> 0) AS ${q('inserted')} FROM ${d.tempTable(SCD2_TEMP.versions)}`
  );
}

/**
 * The single statement applying staged versions: rows tagged 'c' close the key's current version,
 * 'd' delete every version of a re-derived key, 'i' are inserted (they never match).
 */
export function applyVersions(d: SqlDialect, shape: Scd2Shape): string {
  const n = shape.names;
  const q = (c: string): string => d.quote(c);
  const keys = shape.businessKey.map(q);
  const attrs = shape.tracked.map(q);
  const cols = [...keys, ...attrs];
  const versions = d.tempTable(SCD2_TEMP.versions);
  const current = d.tempTable(SCD2_TEMP.current);
  const [ts, ord, del, hash, next, src, act] = [
    '__ts',
    '__ord',
    '__del',
    '__hash',
    '__next',
    '__src',
    '__act',
  ].map(q) as [string, string, string, string, string, string, string];
  const nulls = (k: number): string[] => Array.from({ length: k }, () => 'NULL');
  const source = [
    `SELECT ${[...cols, ts, ord, del, hash, next].join(', ')}, 'i' AS ${act} FROM ${versions} WHERE ${src} <> 0`,
    `SELECT ${[...keys, ...nulls(attrs.length + 4), next].join(', ')}, 'c' FROM ${versions} ` +
      `WHERE ${src} = 0 AND ${next} IS NOT NULL`,
    `SELECT ${[...keys, ...nulls(attrs.length + 5)].join(', ')}, 'd' FROM ${current} WHERE ${q('__tie')}`,
  ].join(' UNION ALL ');
  const s = (c: string): string => `s.${c}`;
  const extras = [
    ...(n.scdId ? [[n.scdId, d.spell.md5Hex(d.canonicalText([...keys.map(s), s(ts)]))] as const] : []),
    ...(n.updatedAt ? [[n.updatedAt, s(ts)] as const] : []),
  ];
  const insertCols = [
    ...cols,
    ...[n.validFrom, n.validTo, n.isCurrent, n.isDeleted, n.sourceOrder, n.rowHash].map(q),
    ...extras.map(([c]) => q(c)),
  ];
  const insertValues = [
    ...cols.map(s),
    s(ts),
    s(next),
    `${s(next)} IS NULL`,
    s(del),
    s(ord),
    s(hash),
    ...extras.map(([, e]) => e),
  ];
  const on = keys.map((k) => `t.${k} = s.${k}`).join(' AND ');
  return (
    `MERGE INTO ${d.table(shape.target)} AS t USING (${source}) AS s ` +
    `ON ${on} AND ((s.${act} = 'c' AND t.${q(n.isCurrent)}) OR s.${act} = 'd') ` +
    `WHEN MATCHED AND s.${act} = 'c' THEN UPDATE SET ${q(n.validTo)} = s.${next}, ${q(n.isCurrent)} = FALSE ` +
    `WHEN MATCHED AND s.${act} = 'd' THEN DELETE ` +
    `WHEN NOT MATCHED AND s.${act} = 'i' THEN INSERT (${insertCols.join(', ')}) VALUES (${insertValues.join(', ')})`
  );
}

/** The target's state recomputed from the table, upserted in one statement (scd2-state.ts `reset`). */
function resetState(d: SqlDialect, shape: Scd2Shape, stateKey: string): string {
  const n = shape.names;
  const q = (c: string): string => d.quote(c);
  const text = d.spell.textType;
  const exprs = [...shape.businessKey, n.validFrom, n.validTo, n.isDeleted, n.sourceOrder, n.rowHash].map(q);
  const mark =
    `(SELECT CAST(max(${q('x')}) AS ${text}) FROM (SELECT ${q('lsn')} AS ${q('x')} FROM ${d.tempTable(SCD2_TEMP.watermark)} ` +
    `UNION ALL SELECT ${q('__ord')} FROM ${d.tempTable(SCD2_TEMP.changes)}) AS w)`;
  const cols = ['target', 'row_count', 'hash_sum', 'engine_version', 'max_order'].map(q);
  return (
    `MERGE INTO ${d.table(SCD2_STATE_TABLE)} AS s USING (SELECT ${d.literal(stateKey)} AS ${q('target')}, ` +
    `count(*) AS ${q('row_count')}, CAST(coalesce(${d.spell.hashSum(exprs)}, 0) AS ${text}) AS ${q('hash_sum')}, ` +
    `${d.spell.engineVersion} AS ${q('engine_version')}, ${mark} AS ${q('max_order')} FROM ${d.table(shape.target)}) AS n ` +
    `ON s.${q('target')} = n.${q('target')} ` +
    `WHEN MATCHED THEN UPDATE SET ${cols
      .slice(1)
      .map((c) => `${c} = n.${c}`)
      .join(', ')} ` +
    `WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `n.${c}`).join(', ')})`
  );
}
