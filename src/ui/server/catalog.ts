/**
 * Catalog reads for the UI: the lineage graph with each asset's latest partition state, an asset's page, and one
 * partition's materializations. The same definitions, ledger and health rules as `assets`, `status` and
 * `checks` (src/cli/health.ts).
 */
import { DateTime } from 'luxon';
import { partitionFacts } from '../../activities/step-context.js';
import type { CliContext } from '../../cli/context.js';
import { partitionHealth, type HealthRow } from '../../cli/health.js';
import { assetEngineResolver } from '../../config/asset-engines.js';
import type { AssetDefinition, Definitions } from '../../dsl/index.js';
import { ENGINES, renderTemplate, type SqlDialect } from '../../engines/index.js';
import type { MaterializationRecord } from '../../ledger/index.js';
import { plan } from '../../planner/index.js';
import { stepWorkflowId } from '../../runtime/ids.js';
import { workflowUrl } from '../../runtime/ui.js';
import { QUARANTINE_TABLE } from '../../sources/sinks/types.js';
import type {
  AssetResponse,
  CheckView,
  GraphResponse,
  Health,
  PartitionResponse,
  StripCell,
} from '../api-types.js';
import type { GraphLayouter } from './layout.js';
import { lit, missingTable, type WarehouseReader } from './warehouse.js';

/** Days of the health strip when the request names no range. */
const STRIP_DAYS = 14;
const NODE_HEIGHT = 30;
const nodeWidth = (key: string) => Math.max(110, key.length * 7 + 28);

export interface CatalogDeps {
  readonly ctx: CliContext;
  readonly warehouse: WarehouseReader;
  readonly layouter: GraphLayouter;
}

const isoDay = (d: DateTime): string => d.toISODate() ?? '';

/**
 * The last day the ledger has a partition of (a simulated catalog lives in its own past), else yesterday (UTC),
 * and the range of days ending there.
 */
export async function defaultRange(ctx: CliContext, days: number): Promise<{ from: string; to: string }> {
  const ledger = await ctx.ledger();
  let last = '';
  for (const m of await ledger.materializations())
    if (/^\d{4}-\d{2}-\d{2}/.test(m.partitionKey) && m.partitionKey > last) last = m.partitionKey;
  const to = last ? DateTime.fromISO(last.slice(0, 10), { zone: 'utc' }) : DateTime.utc().minus({ days: 1 });
  return { from: isoDay(to.minus({ days: days - 1 })), to: isoDay(to) };
}

async function health(
  defs: Definitions,
  ctx: CliContext,
  selection: string,
  range: { from: string; to: string },
): Promise<HealthRow[]> {
  try {
    return await partitionHealth(defs, await ctx.ledger(), selection, range);
  } catch {
    // A range before every selected asset's first partition: nothing to colour.
    return [];
  }
}

/**
 * Each asset's newest materialized partition and its health (the rules of `status`: failed when the latest
 * attempt failed, stale when the planner would rebuild it, else fresh); never materialized = missing.
 */
async function latestHealth(
  defs: Definitions,
  ctx: CliContext,
  selection: string,
): Promise<Map<string, { health: Health; partition: string }>> {
  const keys = defs.select(selection);
  const ledger = await ctx.ledger();
  const newest = new Map<string, MaterializationRecord>();
  for (const m of await ledger.materializations({ assetKeys: keys })) {
    const seen = newest.get(m.assetKey);
    if (!seen || m.partitionKey > seen.partitionKey) newest.set(m.assetKey, m);
  }
  let stale = new Set<string>();
  const partitionKeys = [...new Set([...newest.values()].map((m) => m.partitionKey))];
  if (partitionKeys.length > 0) {
    try {
      const view = await ledger.view(keys);
      stale = new Set(plan(defs, { selection, partitionKeys }, view).steps.map((s) => s.id));
    } catch {
      // Keys the planner refuses for this selection: show what the ledger says without staleness.
    }
  }
  const out = new Map<string, { health: Health; partition: string }>();
  for (const [key, m] of newest) {
    const health: Health =
      m.status === 'failed' ? 'failed' : stale.has(`${key}@${m.partitionKey}`) ? 'stale' : 'fresh';
    out.set(key, { health, partition: m.partitionKey });
  }
  return out;
}

/** The range of days ending at the asset's newest materialized partition (else the catalog's default). */
async function assetRange(ctx: CliContext, key: string, days: number): Promise<{ from: string; to: string }> {
  const ledger = await ctx.ledger();
  let last = '';
  for (const m of await ledger.materializations({ assetKeys: [key] }))
    if (/^\d{4}-\d{2}-\d{2}/.test(m.partitionKey) && m.partitionKey > last) last = m.partitionKey;
  if (!last) return defaultRange(ctx, days);
  const to = DateTime.fromISO(last.slice(0, 10), { zone: 'utc' });
  return { from: isoDay(to.minus({ days: days - 1 })), to: isoDay(to) };
}

export async function graph(deps: CatalogDeps, selection: string): Promise<GraphResponse> {
  const defs = await deps.ctx.definitions();
  const keys = defs.select(selection);
  const selected = new Set(keys);
  const edges = keys.flatMap((k) =>
    defs
      .asset(k)
      .deps.filter((d) => selected.has(d.key))
      .map((d) => ({ from: d.key, to: k })),
  );
  const range = await defaultRange(deps.ctx, 1);
  const [layout, latest] = await Promise.all([
    deps.layouter.layout({
      nodes: keys.map((k) => ({ id: k, width: nodeWidth(k), height: NODE_HEIGHT })),
      edges,
    }),
    latestHealth(defs, deps.ctx, selection),
  ]);
  return {
    selection,
    range,
    width: layout.width,
    height: layout.height,
    layoutMs: Math.round(layout.ms),
    nodes: keys.map((k) => {
      const a = defs.asset(k);
      const newest = latest.get(k) ?? { health: 'missing' as const, partition: '' };
      const at = layout.nodes[k] ?? { x: 0, y: 0 };
      return {
        key: k,
        kind: a.kind,
        group: a.group ?? '',
        publishGroup: a.publishGroup ?? '',
        x: at.x,
        y: at.y,
        width: nodeWidth(k),
        height: NODE_HEIGHT,
        health: newest.health,
        latestPartition: newest.partition,
      };
    }),
    edges: edges.map((e) => ({ ...e, points: layout.edges[`${e.from}→${e.to}`] ?? [] })),
  };
}

function dialectOf(
  ctx: CliContext,
  defs: Definitions,
  a: AssetDefinition,
): { engine: string; dialect?: SqlDialect } {
  const engine = assetEngineResolver(ctx.config, defs)(a);
  const type = ctx.config.engines[engine]?.type;
  const registered =
    type === undefined ? undefined : (ENGINES as Record<string, { dialect: SqlDialect }>)[type];
  return registered ? { engine, dialect: registered.dialect } : { engine };
}

/** The asset's SQL with the placeholders of one partition filled in by its engine's dialect. */
function renderedSql(ctx: CliContext, defs: Definitions, a: AssetDefinition, partitionKey: string): string {
  const { dialect } = dialectOf(ctx, defs, a);
  if (a.sql) {
    if (!dialect) return a.sql.trim();
    try {
      const facts = partitionFacts(a.partitions, partitionKey);
      return renderTemplate(dialect, a.sql, {
        partitionKey: facts.partitionKey,
        ...(facts.window ? { partitionStart: facts.window.start, partitionEnd: facts.window.end } : {}),
        ...(facts.dimensions ? { partition: facts.dimensions } : {}),
      }).trim();
    } catch (e) {
      return `-- not rendered: ${(e as Error).message}\n${a.sql.trim()}`;
    }
  }
  if (a.scd2)
    return `-- SCD type 2 of ${a.scd2.source} (${a.scd2.strategy ?? 'log'} strategy), built by the engine's SCD2 statement\n-- business key: ${a.scd2.businessKey.join(', ')}\n-- tracked: ${a.scd2.tracked.join(', ')}`;
  if (a.snapshot) return `-- daily snapshot of ${a.snapshot.from} as of the end of each partition`;
  if (a.ingest)
    return `-- landed by the ${a.ingest.source} source loader (stream ${a.ingest.stream ?? a.key})`;
  if (a.compute) return `-- computed in code (compute asset)`;
  return '';
}

async function quarantine(
  deps: CatalogDeps,
  a: AssetDefinition,
  range: { from: string; to: string },
): Promise<AssetResponse['quarantine']> {
  const source = a.ingest?.source;
  if (!source) return null;
  const where = `source = ${lit(source)}`;
  try {
    const byDay = await deps.warehouse.query({
      sql: `select cast(cast(quarantined_at as date) as varchar) as day, count(*) as rows from ${QUARANTINE_TABLE} where ${where} and cast(quarantined_at as date) between date ${lit(range.from)} and date ${lit(range.to)} group by 1 order by 1`,
      limit: 1000,
    });
    const total = await deps.warehouse.query({
      sql: `select count(*) as n from ${QUARANTINE_TABLE} where ${where}`,
      limit: 1,
    });
    const recent = await deps.warehouse.query({
      sql: `select origin, reason, cast(quarantined_at as varchar) as at from ${QUARANTINE_TABLE} where ${where} order by quarantined_at desc, origin limit 10`,
      limit: 10,
    });
    return {
      source,
      total: Number(total.rows[0]?.['n'] ?? 0),
      byDay: byDay.rows.map((r) => ({ day: String(r['day']), rows: Number(r['rows']) })),
      recent: recent.rows.map((r) => ({
        origin: String(r['origin']),
        reason: String(r['reason']),
        at: String(r['at']),
      })),
    };
  } catch (e) {
    return {
      source,
      total: 0,
      byDay: [],
      recent: [],
      note: missingTable(e) ? 'nothing quarantined yet' : `unavailable: ${(e as Error).message}`,
    };
  }
}

export async function assetPage(
  deps: CatalogDeps,
  key: string,
  requested?: { from: string; to: string },
): Promise<AssetResponse> {
  const defs = await deps.ctx.definitions();
  const a = defs.asset(key);
  const ledger = await deps.ctx.ledger();
  const range = requested ?? (await assetRange(deps.ctx, key, STRIP_DAYS));
  const [row] = await health(defs, deps.ctx, key, range);
  const latest = await ledger.materializations({
    assetKeys: [key],
    from: range.from,
    to: `${range.to}\uffff`,
  });
  const byPartition = new Map(latest.map((m) => [m.partitionKey, m]));
  const strip: StripCell[] = Object.entries(row?.cells ?? {}).map(([pk, h]) => ({
    partitionKey: pk,
    health: h,
    rowCount: byPartition.get(pk)?.rowCount ?? null,
  }));
  // Checks: their results on the newest partition that has a materialization.
  const newest = [...latest].sort((x, y) => x.partitionKey.localeCompare(y.partitionKey)).at(-1);
  const results = newest ? await ledger.checkResults(key, newest.partitionKey, newest.runId) : [];
  const checks: CheckView[] = a.checks.map((c) => {
    const r = results.find((x) => x.checkName === c.name);
    return {
      name: c.name,
      blocking: c.blocking,
      latest: r
        ? {
            partitionKey: r.partitionKey,
            passed: r.passed,
            failingRows: r.failingRows,
            detail: r.detail ?? '',
            checkedAt: r.checkedAt,
          }
        : null,
    };
  });
  const sqlPartition = strip.at(-1)?.partitionKey ?? '';
  const { engine, dialect } = dialectOf(deps.ctx, defs, a);
  return {
    key,
    kind: a.kind,
    description: a.description ?? '',
    owners: a.owners,
    tags: a.tags,
    group: a.group ?? '',
    publishGroup: a.publishGroup ?? '',
    codeVersion: a.codeVersion,
    partitions: a.partitions?.fingerprint ?? 'none',
    engine,
    dialect: dialect?.name ?? '',
    sql: renderedSql(deps.ctx, defs, a, sqlPartition),
    sqlPartition,
    deps: a.deps.map((d) => ({ key: d.key, mapping: d.mapping.fingerprint })),
    downstream: defs.graph.downstream.get(key) ?? [],
    checks,
    range,
    strip,
    quarantine: await quarantine(deps, a, range),
    scd2: a.scd2 ? { businessKey: a.scd2.businessKey } : null,
  };
}

export async function partitionPage(
  deps: CatalogDeps,
  key: string,
  partitionKey: string,
): Promise<PartitionResponse> {
  const defs = await deps.ctx.definitions();
  const a = defs.asset(key);
  if (a.partitions) a.partitions.assertHas(partitionKey);
  const ledger = await deps.ctx.ledger();
  const history = await ledger.history(key, partitionKey);
  let h: Health = 'missing';
  const last = history[0];
  if (last?.status === 'failed') h = 'failed';
  else if (last) {
    const view = await ledger.view(defs.select(`+${key}`));
    const steps = plan(
      defs,
      { selection: key, ...(a.partitions ? { partitionKeys: [partitionKey] } : {}) },
      view,
    ).steps;
    h = steps.some((s) => s.assetKey === key && s.partitionKey === partitionKey) ? 'stale' : 'fresh';
  }
  const { taskQueue } = deps.ctx.target;
  const id = stepWorkflowId(key, partitionKey, taskQueue);
  return {
    assetKey: key,
    partitionKey,
    health: h,
    stepWorkflowId: id,
    temporalUrl: workflowUrl(id, {
      baseUrl: deps.ctx.target.uiBaseUrl,
      namespace: deps.ctx.config.temporal.namespace,
    }),
    materializations: await Promise.all(
      history.map(async (m) => ({
        runId: m.runId,
        status: m.status,
        error: m.error ?? '',
        codeVersion: m.codeVersion,
        dataVersion: m.dataVersion,
        rowCount: m.rowCount,
        startedAt: m.startedAt,
        endedAt: m.endedAt,
        inputDataVersions: m.inputDataVersions,
        checks: (await ledger.checkResults(key, partitionKey, m.runId)).map((r) => ({
          name: r.checkName,
          blocking: r.blocking,
          passed: r.passed,
          failingRows: r.failingRows,
          detail: r.detail ?? '',
        })),
      })),
    ),
  };
}
