import { Scd2InputError } from '../errors.js';
import { planSchemaEvolution } from '../dialect/schema.js';
import {
  renderScd2,
  SCD2_TEMP,
  type Scd2ChangeSource,
  type Scd2Renderer,
  type Scd2Validation,
} from '../dialect/scd2.js';
import { scd2Columns } from '../dialect/scd2-names.js';
import { renderScd2State } from '../dialect/scd2-state.js';
import type {
  Scd2ChangesMergeRequest,
  Scd2MergeResult,
  Scd2SnapshotMergeRequest,
  Scd2TargetSpec,
} from '../types.js';
import type { SqlSession } from './client.js';
import { asNumber, describe, step, type EngineContext } from './context.js';
import { ensureMeta } from './meta.js';

/**
 * SCD2 merges, in one transaction per call (see dialect/scd2.ts for the semantics and the SQL).
 * Both variants reduce to "apply this change relation": the snapshot variant first turns a snapshot
 * into upserts for new/changed keys and deletes for vanished ones.
 */

interface Prepared {
  /** The change relation to apply. */
  readonly source: Scd2ChangeSource;
  /** A relation with the same columns that never reads the target (types a new target). */
  readonly typing: Scd2ChangeSource;
}

export async function mergeScd2FromChanges(
  ctx: EngineContext,
  req: Scd2ChangesMergeRequest,
): Promise<Scd2MergeResult> {
  const source: Scd2ChangeSource = {
    relation: ctx.dialect.relation(req.changes),
    orderBy: req.orderBy,
    commitTime: req.commitTimeColumn,
    op: req.opColumn,
  };
  return merge(ctx, req, 'mergeScd2FromChanges', async () => ({ source, typing: source }));
}

export async function mergeScd2FromSnapshot(
  ctx: EngineContext,
  req: Scd2SnapshotMergeRequest,
): Promise<Scd2MergeResult> {
  return merge(ctx, req, 'mergeScd2FromSnapshot', async (tx, r) => {
    const snap = r.snapshotAsChanges(req.snapshotTime);
    await tx.run(snap.stage(req.snapshotSql));
    const [dup] = await tx.query(r.snapshotDuplicates());
    const dups = asNumber(dup?.['n']);
    if (dups > 0) {
      throw new Scd2InputError(
        ctx.dialect.name,
        `snapshot for ${req.target} has ${dups} business key(s) (${req.businessKey.join(', ')}) appearing more than once`,
      );
    }
    return { source: snap.source, typing: snap.typing };
  });
}

async function merge(
  ctx: EngineContext,
  spec: Scd2TargetSpec,
  operation: string,
  prepare: (tx: SqlSession, r: Scd2Renderer) => Promise<Prepared>,
): Promise<Scd2MergeResult> {
  const d = ctx.dialect;
  const ref = d.tableRef(spec.target);
  const shape = {
    target: spec.target,
    businessKey: spec.businessKey,
    tracked: spec.tracked,
    names: scd2Columns(spec.columnNames),
  };
  const r = renderScd2(d, shape);
  const stateKey = `${ref.schema}.${ref.name}`;
  const state = renderScd2State(d, shape, stateKey);
  await ensureMeta(ctx);
  return ctx.locks.run(d.table(ref), () =>
    ctx.client.transaction(async (tx) => {
      await tx.run(d.createSchema(ref.schema));
      let columns = await describe(tx, d, ref);
      const { source, typing } = await prepare(tx, r);
      const created = !columns;
      if (created) {
        await tx.run(r.createTarget(typing));
        columns = await describe(tx, d, ref);
      }
      const orderColumn = shape.names.sourceOrder.toLowerCase();
      const orderType = columns?.find((c) => c.name.toLowerCase() === orderColumn)?.type ?? d.spell.textType;
      await tx.run(r.stageWatermark(stateKey, orderType));
      await tx.run(r.stageChanges(source));
      await step(ctx, operation, 'staged');
      let evolved = false;
      if (!created && columns) {
        // New tracked (or key) columns are added before any write to the target (DuckDB requires DDL first).
        const wanted = new Set([...spec.businessKey, ...spec.tracked].map((c) => c.toLowerCase()));
        const staged = (await describe(tx, d, d.tempRef(SCD2_TEMP.changes), true)) ?? [];
        const plan = planSchemaEvolution(
          d,
          spec.target,
          columns,
          staged.filter((c) => wanted.has(c.name.toLowerCase())),
        );
        for (const s of plan.statements) await tx.run(s);
        evolved = plan.statements.length > 0;
        if (evolved) columns = await describe(tx, d, ref);
      }
      const [row] = await tx.query(r.validate());
      const v = validation(row);
      assertValid(d.name, spec, v);
      const [st] = created || evolved ? [] : await tx.query(state.read());
      const trusted =
        st !== undefined && st['same_engine'] === true && asNumber(st['rows']) === asNumber(st['actual']);
      let closed = 0;
      let inserted = 0;
      let ties = 0;
      if (v.rows > 0) {
        await tx.run(r.stageCurrent());
        const [t] = await tx.query(r.countTies());
        ties = asNumber(t?.['ties']);
        await tx.run(r.deriveVersions(ties > 0));
        closed = await tx.run(r.closeCurrent());
        await step(ctx, operation, 'closed');
        if (ties > 0) await tx.run(r.deleteTieKeys());
        inserted = await tx.run(r.insertVersions());
        await step(ctx, operation, 'inserted');
      }
      if (trusted && ties === 0) {
        // Nothing applied: the state (and the high-water mark) stay as they are.
        if (v.rows > 0)
          await tx.run(state.advance(new Map((columns ?? []).map((c) => [c.name.toLowerCase(), c.type]))));
      } else {
        for (const s of state.reset()) await tx.run(s);
      }
      const [fp] = await tx.query(state.fingerprint());
      await tx.run(r.cleanup().join('; '));
      return {
        target: spec.target,
        appliedChanges: v.rows,
        insertedVersions: inserted,
        closedVersions: closed,
        rederivedKeys: ties,
        rowCount: asNumber(fp?.['rows']),
        dataVersion: String(fp?.['version'] ?? ''),
      };
    }),
  );
}

export function validation(row: Record<string, unknown> | undefined): Scd2Validation {
  const text = (x: unknown): string | null => (x === null || x === undefined ? null : String(x));
  return {
    rows: asNumber(row?.['rows']),
    bad_ops: asNumber(row?.['bad_ops']),
    null_keys: asNumber(row?.['null_keys']),
    null_order: asNumber(row?.['null_order']),
    late: asNumber(row?.['late']),
    min_ts: text(row?.['min_ts']),
    max_from: text(row?.['max_from']),
  };
}

export function assertValid(engine: string, spec: Scd2TargetSpec, v: Scd2Validation): void {
  const problems = [
    ...(v.bad_ops > 0 ? [`${v.bad_ops} change(s) with an op other than 'c', 'u', 'd', 'r'`] : []),
    ...(v.null_keys > 0 ? [`${v.null_keys} change(s) with a NULL business key`] : []),
    ...(v.null_order > 0 ? [`${v.null_order} change(s) with a NULL commit time or ordering value`] : []),
    ...(v.late > 0
      ? [
          `${v.late} change(s) committed before the table's newest version (oldest ${v.min_ts ?? '?'} < ${v.max_from ?? '?'}); ` +
            `merges take batches in commit order: rebuild ${spec.target} from the log to include late changes`,
        ]
      : []),
  ];
  if (problems.length > 0) {
    throw new Scd2InputError(engine, `SCD2 merge into ${spec.target} refused: ${problems.join('; ')}`);
  }
}
