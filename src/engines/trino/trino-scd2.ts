import { asNumber } from '../core/context.js';
import { assertValid, validation } from '../core/scd2-merge.js';
import { SCD2_STATE_TABLE } from '../dialect/meta.js';
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
  Scd2ChangesMergeRequest,
  Scd2MergeResult,
  Scd2SnapshotMergeRequest,
  Scd2TargetSpec,
} from '../types.js';
import {
  describeRef,
  describeStaged,
  dropStaged,
  operationDialect,
  step,
  type TrinoContext,
} from './trino-context.js';
import type { TrinoDialect } from './trino-dialect.js';
import { evolve } from './trino-write.js';

/**
 * SCD2 merges on Iceberg. The versions are derived exactly as on every engine (dialect/scd2.ts renders
 * the staging: watermark, collapsed changes, current versions, new versions), into staging tables; then
 * ONE MERGE applies them to the target: close the anchors (UPDATE valid_to, is_current), delete the keys
 * re-derived from their whole history, insert the new versions. One statement, one Iceberg snapshot, so
 * readers see the target before or after the merge, never between closing and inserting.
 *
 * The bookkeeping row (tessera_meta.scd2_state: row count, hash sum, high-water mark) commits in its own
 * statement right after. If the process dies between the two, the row count no longer matches the table,
 * so the next merge distrusts the state and recomputes it from the table; the high-water mark then falls
 * back to the greatest stored ordering value, and a replayed batch re-derives to the same versions.
 */

const STAGED = [...Object.values(SCD2_TEMP)];

interface Prepared {
  readonly source: Scd2ChangeSource;
  readonly typing: Scd2ChangeSource;
}

export function mergeScd2FromChanges(
  ctx: TrinoContext,
  req: Scd2ChangesMergeRequest,
): Promise<Scd2MergeResult> {
  return merge(ctx, req, 'mergeScd2FromChanges', async (d) => {
    const source: Scd2ChangeSource = {
      relation: d.relation(req.changes),
      orderBy: req.orderBy,
      commitTime: req.commitTimeColumn,
      op: req.opColumn,
    };
    return { source, typing: source };
  });
}

export function mergeScd2FromSnapshot(
  ctx: TrinoContext,
  req: Scd2SnapshotMergeRequest,
): Promise<Scd2MergeResult> {
  return merge(ctx, req, 'mergeScd2FromSnapshot', async (d, r) => {
    const snap = r.snapshotAsChanges(req.snapshotTime);
    await ctx.client.run(snap.stage(req.snapshotSql));
    const [dup] = await ctx.client.query(r.snapshotDuplicates());
    const dups = asNumber(dup?.['n']);
    if (dups > 0) {
      throw new Scd2InputError(
        d.name,
        `snapshot for ${req.target} has ${dups} business key(s) (${req.businessKey.join(', ')}) appearing more than once`,
      );
    }
    return { source: snap.source, typing: snap.typing };
  });
}

async function merge(
  ctx: TrinoContext,
  spec: Scd2TargetSpec,
  operation: string,
  prepare: (d: TrinoDialect, r: Scd2Renderer) => Promise<Prepared>,
): Promise<Scd2MergeResult> {
  const ref = ctx.dialect.tableRef(spec.target);
  const shape: Scd2Shape = {
    target: spec.target,
    businessKey: spec.businessKey,
    tracked: spec.tracked,
    names: scd2Columns(spec.columnNames),
  };
  const stateKey = `${ref.schema}.${ref.name}`;
  await ctx.ready();
  await ctx.metaReady();
  return ctx.locks.run(ctx.dialect.table(ref), async () => {
    const d = operationDialect(ctx);
    const r = renderScd2(d, shape);
    const state = renderScd2State(d, shape, stateKey);
    const run = (sql: string): Promise<number> => ctx.client.run(sql);
    try {
      await run(d.createSchema(ref.schema));
      let columns = await describeRef(ctx, d, ref);
      const { source, typing } = await prepare(d, r);
      const created = !columns;
      if (created) {
        await run(r.createTarget(typing));
        columns = await describeRef(ctx, d, ref);
      }
      const orderColumn = shape.names.sourceOrder.toLowerCase();
      const orderType = columns?.find((c) => c.name.toLowerCase() === orderColumn)?.type ?? d.spell.textType;
      await run(r.stageWatermark(stateKey, orderType));
      await run(r.stageChanges(source));
      await step(ctx, operation, 'staged');
      let evolved = false;
      if (!created && columns) {
        const wanted = new Set([...spec.businessKey, ...spec.tracked].map((c) => c.toLowerCase()));
        const staged = (await describeStaged(ctx, d, SCD2_TEMP.changes)).filter((c) =>
          wanted.has(c.name.toLowerCase()),
        );
        evolved = (await evolve(ctx, d, spec.target, columns, staged)).some((c) => c.type !== 'keep_dropped');
        if (evolved) columns = await describeRef(ctx, d, ref);
      }
      const [row] = await ctx.client.query(r.validate());
      const v = validation(row);
      assertValid(d.name, spec, v);
      const [st] = created || evolved ? [] : await ctx.client.query(state.read());
      const trusted =
        st !== undefined && st['same_engine'] === true && asNumber(st['rows']) === asNumber(st['actual']);
      let closed = 0;
      let inserted = 0;
      let ties = 0;
      if (v.rows > 0) {
        await run(r.stageCurrent());
        const [t] = await ctx.client.query(r.countTies());
        ties = asNumber(t?.['ties']);
        await run(r.deriveVersions(ties > 0));
        const [n] = await ctx.client.query(countsSql(d));
        closed = asNumber(n?.['closed']);
        inserted = asNumber(n?.['inserted']);
        await run(applyVersions(d, shape));
        await step(ctx, operation, 'merged');
      }
      if (trusted && ties === 0) {
        if (v.rows > 0)
          await run(state.advance(new Map((columns ?? []).map((c) => [c.name.toLowerCase(), c.type]))));
      } else {
        await run(resetState(d, shape, stateKey));
      }
      const [fp] = await ctx.client.query(state.fingerprint());
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
      await dropStaged(ctx, d, STAGED);
    }
  });
}

/** One row `{ closed, inserted }`: anchors the MERGE closes and versions it inserts. */
function countsSql(d: TrinoDialect): string {
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
export function applyVersions(d: TrinoDialect, shape: Scd2Shape): string {
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
function resetState(d: TrinoDialect, shape: Scd2Shape, stateKey: string): string {
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
