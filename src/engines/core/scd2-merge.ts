import { Scd2InputError } from '../errors.js';
import { planSchemaEvolution } from '../dialect/schema.js';
import {
  epochMicros,
  renderScd2,
  SCD2_TEMP,
  type Scd2ChangeSource,
  type Scd2Renderer,
  type Scd2Validation,
} from '../dialect/scd2.js';
import { scd2Columns } from '../dialect/scd2-names.js';
import { renderScd2State } from '../dialect/scd2-state.js';
import type {
  ColumnInfo,
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
 * Both variants reduce to "apply these staged changes", each by the cheapest path that gives the same
 * table (bench/scd2.ts measures them against hand-written statements):
 * - a first load (new target, no stored high-water mark) inserts straight from the input; only keys with
 *   several changes go through staging and windows;
 * - a snapshot into an existing target is ONE full join of the snapshot with the current versions that
 *   stages the changes and their anchors (no copy of the snapshot, no hash of every row, duplicate keys
 *   found from counts);
 * - a change log filters by the high-water mark as a literal (and, with lateWindowSeconds, by commit
 *   time), so the engine reads only what follows it where the log allows.
 */

/** What a merge applies: a change relation, or a full snapshot turned into changes by a diff. */
type Input =
  | {
      readonly kind: 'changes';
      readonly source: Scd2ChangeSource;
      /** Scd2ChangesMergeRequest.lateWindowSeconds. */
      readonly lateWindowSeconds?: number;
    }
  | { readonly kind: 'snapshot'; readonly sql: string; readonly time: string };

/** Live current versions whose stored row_hash is checked before a snapshot is compared by columns. */
const HASH_SAMPLE = 2048;

export async function mergeScd2FromChanges(
  ctx: EngineContext,
  req: Scd2ChangesMergeRequest,
): Promise<Scd2MergeResult> {
  const source: Scd2ChangeSource = {
    relation: ctx.dialect.relation(req.changes),
    orderBy: req.orderBy,
    commitTime: req.commitTimeColumn,
    op: req.opColumn,
    ...(req.orderParts ? { orderParts: req.orderParts } : {}),
  };
  return merge(ctx, req, 'mergeScd2FromChanges', {
    kind: 'changes',
    source,
    ...(req.lateWindowSeconds !== undefined ? { lateWindowSeconds: req.lateWindowSeconds } : {}),
  });
}

export async function mergeScd2FromSnapshot(
  ctx: EngineContext,
  req: Scd2SnapshotMergeRequest,
): Promise<Scd2MergeResult> {
  return merge(ctx, req, 'mergeScd2FromSnapshot', {
    kind: 'snapshot',
    sql: req.snapshotSql,
    time: req.snapshotTime,
  });
}

/** How the versions were applied (for the result and the state bookkeeping). */
interface Applied {
  readonly v: Scd2Validation;
  readonly inserted: number;
  readonly closed: number;
  readonly ties: number;
}

async function merge(
  ctx: EngineContext,
  spec: Scd2TargetSpec,
  operation: string,
  input: Input,
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
  const wanted = new Set([...spec.businessKey, ...spec.tracked].map((c) => c.toLowerCase()));
  await ensureMeta(ctx);
  return ctx.locks.run(d.table(ref), () =>
    ctx.client.transaction(async (tx) => {
      let columns = await describe(tx, d, ref);
      const created = !columns;
      if (created) await tx.run(d.createSchema(ref.schema));
      /** The incoming key and tracked columns with their types (a snapshot's; else staged changes'). */
      let incoming: ColumnInfo[] = [];
      let typing: Scd2ChangeSource;
      if (input.kind === 'snapshot') {
        await tx.run(r.snapshotShape(input.sql));
        incoming = (await describe(tx, d, d.tempRef(SCD2_TEMP.snapshot), true)) ?? [];
        typing = r.snapshotAsChanges(input.time).typing;
      } else {
        typing = input.source;
      }
      if (created) {
        await tx.run(r.createTarget(typing));
        columns = await describe(tx, d, ref);
      }
      const orderColumn = shape.names.sourceOrder.toLowerCase();
      const orderType = columns?.find((c) => c.name.toLowerCase() === orderColumn)?.type ?? d.spell.textType;
      const fromType =
        columns?.find((c) => c.name.toLowerCase() === shape.names.validFrom.toLowerCase())?.type ??
        d.spell.textType;
      const [sm] = created ? [] : await tx.query(r.storedMark(stateKey));
      await tx.run(r.stageWatermark(stateKey, orderType, text(sm?.['mark']) ?? undefined));
      const [w] = await tx.query(r.readWatermark());
      const mark = { lsn: text(w?.['lsn']), vf: text(w?.['vf']) };
      const fresh = created && mark.lsn === null;

      let evolved = false;
      const evolve = async (): Promise<void> => {
        // New tracked (or key) columns are added before any write to the target (DuckDB requires DDL first).
        if (created || !columns) return;
        const plan = planSchemaEvolution(
          d,
          spec.target,
          columns,
          incoming.filter((c) => wanted.has(c.name.toLowerCase())),
        );
        for (const s of plan.statements) await tx.run(s);
        evolved = plan.statements.length > 0;
        if (evolved) columns = await describe(tx, d, ref);
      };
      /** Derives and applies the staged changes (SCD2_TEMP.changes) against the anchors `stageCurrent` stages. */
      const apply = async (v: Scd2Validation, stageCurrent: () => Promise<void>): Promise<Applied> => {
        if (v.rows === 0) return { v, inserted: 0, closed: 0, ties: 0 };
        await stageCurrent();
        const [t] = await tx.query(r.countTies());
        const ties = asNumber(t?.['ties']);
        await tx.run(r.deriveVersions(ties > 0));
        const closed = await tx.run(r.closeCurrent());
        await step(ctx, operation, 'closed');
        if (ties > 0) await tx.run(r.deleteTieKeys());
        const inserted = await tx.run(r.insertVersions());
        await step(ctx, operation, 'inserted');
        return { v, inserted, closed, ties };
      };

      /** Whether the stored state matches the table; read before anything is written (state.read counts rows). */
      let trusted = false;
      const trust = (st: Record<string, unknown> | undefined): void => {
        trusted =
          st !== undefined && st['same_engine'] === true && asNumber(st['rows']) === asNumber(st['actual']);
      };
      const readTrust = async (): Promise<void> => {
        trust(created || evolved ? undefined : (await tx.query(state.read()))[0]);
      };

      let applied: Applied;
      let resetMark: string | null | undefined; // defined: the state is rebuilt with this high-water mark
      if (input.kind === 'snapshot' && fresh) {
        applied = await firstLoadSnapshot(tx, r, spec, d.name, input);
        resetMark = applied.v.rows > 0 ? epochMicros(d.name, input.time) : null;
      } else if (input.kind === 'changes' && fresh) {
        const first = await firstLoadChanges(tx, r, spec, d.name, input.source, orderType, (v) =>
          apply(v, () => tx.run(r.stageCurrent()).then(() => undefined)),
        );
        applied = first.applied;
        resetMark = first.mark;
      } else if (input.kind === 'snapshot') {
        await evolve();
        await readTrust();
        applied = await snapshotMerge(tx, r, spec, d.name, input, columns ?? [], incoming, evolved, apply);
      } else {
        const src = input.source;
        await tx.run(
          r.stageChanges(src, {
            lsn: mark.lsn,
            orderType,
            ...(input.lateWindowSeconds !== undefined && mark.vf !== null
              ? {
                  commitSince: d.portable.addMinutes(
                    `CAST(${d.literal(mark.vf)} AS ${fromType})`,
                    -Math.ceil(input.lateWindowSeconds / 60),
                  ),
                }
              : {}),
          }),
        );
        await step(ctx, operation, 'staged');
        incoming = (await describe(tx, d, d.tempRef(SCD2_TEMP.changes), true)) ?? [];
        await evolve();
        // One round trip: the counts, and the stored state beside them (no row for it: no state yet).
        const readState = !created && !evolved;
        const q = (c: string): string => d.quote(c);
        const [row] = await tx.query(
          readState
            ? `SELECT v.*, st.${q('rows')} AS ${q('st_rows')}, st.${q('same_engine')} AS ${q('st_same')}, ` +
                `st.${q('actual')} AS ${q('st_actual')} FROM (${r.validate()}) AS v LEFT JOIN (${state.read()}) AS st ON TRUE`
            : r.validate(),
        );
        const v = validation(row);
        assertValid(d.name, spec, v);
        trust(
          readState && row?.['st_rows'] !== null && row?.['st_rows'] !== undefined
            ? { rows: row['st_rows'], same_engine: row['st_same'], actual: row['st_actual'] }
            : undefined,
        );
        applied = await apply(v, () => tx.run(r.stageCurrent()).then(() => undefined));
      }

      if (resetMark !== undefined) {
        for (const s of state.resetWithMark(resetMark)) await tx.run(s);
      } else {
        if (trusted && applied.ties === 0) {
          // Nothing applied: the state (and the high-water mark) stay as they are.
          if (applied.v.rows > 0)
            await tx.run(state.advance(new Map((columns ?? []).map((c) => [c.name.toLowerCase(), c.type]))));
        } else if (applied.v.rows === 0 && input.kind === 'snapshot') {
          // No changes table was staged (a snapshot at or below the high-water mark): the mark stays.
          for (const s of state.resetWithMark(mark.lsn)) await tx.run(s);
        } else {
          for (const s of state.reset()) await tx.run(s);
        }
      }
      const [fp] = await tx.query(state.fingerprint());
      await tx.run(r.cleanup().join('; '));
      return {
        target: spec.target,
        appliedChanges: applied.v.rows,
        insertedVersions: applied.inserted,
        closedVersions: applied.closed,
        rederivedKeys: applied.ties,
        rowCount: asNumber(fp?.['rows']),
        dataVersion: String(fp?.['version'] ?? ''),
      };
    }),
  );
}

const text = (x: unknown): string | null => (x === null || x === undefined ? null : String(x));

const noChanges: Scd2Validation = {
  rows: 0,
  bad_ops: 0,
  null_keys: 0,
  null_order: 0,
  late: 0,
  min_ts: null,
  max_from: null,
};

function duplicates(engine: string, spec: Scd2TargetSpec, n: number): Scd2InputError {
  return new Scd2InputError(
    engine,
    `snapshot for ${spec.target} has ${n} business key(s) (${spec.businessKey.join(', ')}) appearing more than once`,
  );
}

/** New target from a snapshot: one INSERT of every row, then the key checks over what was inserted. */
async function firstLoadSnapshot(
  tx: SqlSession,
  r: Scd2Renderer,
  spec: Scd2TargetSpec,
  engine: string,
  input: { readonly sql: string; readonly time: string },
): Promise<Applied> {
  const inserted = await tx.run(r.snapshotInsertAll(input.sql, input.time));
  const [k] = await tx.query(r.targetKeyCheck());
  const dups = asNumber(k?.['dups']);
  if (dups > 0) throw duplicates(engine, spec, dups);
  const v = { ...noChanges, rows: inserted, null_keys: asNumber(k?.['null_keys']) };
  assertValid(engine, spec, v);
  return { v, inserted, closed: 0, ties: 0 };
}

/**
 * New target from a change log: keys with one change (nearly all of an initial load) are inserted
 * straight from the relation; only keys with several go through staging and windows. The validation
 * counts are the whole relation's minus those keys' raw rows, plus their staged (collapsed) ones.
 */
async function firstLoadChanges(
  tx: SqlSession,
  r: Scd2Renderer,
  spec: Scd2TargetSpec,
  engine: string,
  src: Scd2ChangeSource,
  orderType: string,
  apply: (v: Scd2Validation) => Promise<Applied>,
): Promise<{ applied: Applied; mark: string | null }> {
  await tx.run(r.stageMulti(src));
  const [c] = await tx.query(r.firstLoadCounts(src));
  const hasMulti = asNumber(c?.['multi']) > 0;
  const [mc] = hasMulti ? await tx.query(r.firstLoadCounts(src, true)) : [];
  const minus = (x: string): number => asNumber(c?.[x]) - asNumber(mc?.[x]);
  const singles: Scd2Validation = {
    ...noChanges,
    rows: minus('rows'),
    bad_ops: minus('bad_ops'),
    null_keys: minus('null_keys'),
    null_order: minus('null_order'),
  };
  let several: Scd2Validation = noChanges;
  if (hasMulti) {
    await tx.run(r.stageChanges(src, { lsn: null, orderType, onlyMulti: true }));
    several = validation((await tx.query(r.validate()))[0]);
  }
  const v: Scd2Validation = {
    ...several,
    rows: singles.rows + several.rows,
    bad_ops: singles.bad_ops + several.bad_ops,
    null_keys: singles.null_keys + several.null_keys,
    null_order: singles.null_order + several.null_order,
  };
  assertValid(engine, spec, v);
  const fromSeveral = hasMulti ? await apply(several) : { inserted: 0, closed: 0, ties: 0 };
  const inserted = await tx.run(r.insertSingles(src, hasMulti));
  return {
    applied: {
      v,
      inserted: inserted + fromSeveral.inserted,
      closed: fromSeveral.closed,
      ties: fromSeveral.ties,
    },
    mark: text(c?.['mark']),
  };
}

/**
 * A snapshot into an existing target: one diff (snapshotDiff) stages the changes with their anchors. It
 * compares columns when that means what comparing the stored row hashes meant: the snapshot's tracked
 * columns have the target's types and a sample of stored hashes matches the stored attributes (after
 * the tracked columns change, the first merge compares hashes, versioning every key, as before).
 */
async function snapshotMerge(
  tx: SqlSession,
  r: Scd2Renderer,
  spec: Scd2TargetSpec,
  engine: string,
  input: { readonly sql: string; readonly time: string },
  columns: readonly ColumnInfo[],
  incoming: readonly ColumnInfo[],
  evolved: boolean,
  apply: (v: Scd2Validation, stageCurrent: () => Promise<void>) => Promise<Applied>,
): Promise<Applied> {
  const [f] = await tx.query(r.snapshotFresh(input.time));
  if (f?.['fresh'] !== true) return { v: noChanges, inserted: 0, closed: 0, ties: 0 };
  const targetType = new Map(columns.map((c) => [c.name.toLowerCase(), c.type.toLowerCase()]));
  const tracked = spec.tracked.map((c) => c.toLowerCase());
  const sameTypes = tracked.every((c) => {
    const t = incoming.find((x) => x.name.toLowerCase() === c)?.type.toLowerCase();
    return t !== undefined && t === targetType.get(c);
  });
  let compare: 'columns' | 'hash' = 'hash';
  if (!evolved && sameTypes) {
    const [s] = await tx.query(r.hashSample(HASH_SAMPLE));
    if (asNumber(s?.['bad']) === 0) compare = 'columns';
  }
  const floats = new Set(tracked.filter((c) => /float|double|real/.test(targetType.get(c) ?? '')));
  await tx.run(r.snapshotDiff(input.sql, input.time, compare, floats));
  const [k] = await tx.query(r.snapshotKeyCounts(input.sql));
  const matched = asNumber(k?.['rows']) - asNumber(k?.['fresh']);
  if (asNumber(k?.['fresh_dups']) > 0 || matched > asNumber(k?.['live']) - asNumber(k?.['gone'])) {
    const [n] = await tx.query(r.snapshotDuplicatesIn(input.sql));
    throw duplicates(engine, spec, asNumber(n?.['n']));
  }
  const [row] = await tx.query(r.validate());
  const v = validation(row);
  assertValid(engine, spec, v);
  return apply(v, () => tx.run(r.currentFromChanges()).then(() => undefined));
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
