import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { AssetDefinition, Definitions } from '../dsl/index.js';
import type { Engine } from '../engines/index.js';
import { PK_COLUMN, SLICE_COLUMN } from '../engines/dialect/publish.js';
import { renderScd2State } from '../engines/dialect/scd2-state.js';
import { scd2Columns } from '../engines/dialect/scd2-names.js';
import { stepId, type Ledger, type MaterializationRecord } from '../ledger/index.js';
import { engineOf, type DialectEngine } from './engines.js';
import { ErasureKeyError, type ErasureKey } from './keys.js';
import { resolveTargets, SUBJECT, type ErasurePolicy, type ErasureTarget } from './policy.js';
import { renderErasure, renderErasureMetaDdl, type Identifiers } from './sql.js';

/**
 * `tessera gdpr erase`: one data subject out of every table the policy names, in this order, so that a crash
 * at any point leaves a state a rerun finishes (every step is idempotent):
 * 1. find the linked identifiers (cookie ids seen with the user id) while the rows that link them still exist;
 * 2. add the keyed hashes of all identifiers to the erasure list: from then on every landing re-applies it;
 * 3. per table (raw, SCD2 histories, snapshots, facts, features, mart build tables and the marts' published
 *    stores), count the matching rows by partition, then delete them or clear the personal columns;
 * 4. refresh the bookkeeping that describes the changed content: the published slices' fingerprints, the SCD2
 *    state (recomputed by the next merge), and the ledger's data versions (see below);
 * 5. count again (every table must now have 0 matching rows) and write the audit entry.
 * What an engine keeps of changed rows (DuckDB's deleted rows and freed blocks, Iceberg snapshots, BigQuery time
 * travel) is the caller's next step: the CLI rewrites a DuckDB file (duckdb-compact.ts).
 *
 * Data versions: every partition erasure changed gets a ledger record (run id = the erasure id) with its new
 * fingerprint, computed as its writer computes it, and inputs pointing at the new versions of upstream partitions
 * the same erasure changed. So the erased partitions are fresh (nothing rebuilds them for nothing), a publish of
 * an erased mart partition passes the "copied rows are the ones the ledger recorded" check, and any partition
 * that read an erased one but was not itself changed (an aggregate) is `upstream_changed`: the next run rebuilds
 * it from the erased data. Published views serve the erased stores at once. Ingested (raw) partitions keep
 * their ledger version until their next landing, where the loader reports the content after the guard ran.
 */

export interface EraseDeps {
  readonly definitions: Definitions;
  readonly policy: ErasurePolicy;
  readonly key: ErasureKey;
  readonly engines: Readonly<Record<string, Engine>>;
  readonly defaultEngine: string;
  /** The config's placement of assets on engines (`assetEngineResolver`); absent: `asset.engine ?? defaultEngine`. */
  readonly engineNameOf?: (asset: Pick<AssetDefinition, 'engine' | 'key'>) => string;
  /** Absent: data versions are not recorded (the caller says so). */
  readonly ledger?: Ledger;
  readonly now?: () => string;
}

export interface EraseRequest {
  /** The subject's id as the source systems write it (text: `42`). */
  readonly subject: string;
  /** Count what would be touched; change nothing. */
  readonly dryRun?: boolean;
}

export interface TableErasure {
  readonly table: string;
  readonly action: 'delete' | 'anonymise';
  readonly rows: number;
  /** Partitions (or published slices as `partition/slice`) the rows were in. */
  readonly partitions: readonly string[];
}

export interface EraseResult {
  readonly erasureId: string;
  /** HMAC of the subject id: what the audit keeps instead of the id. */
  readonly subjectHash: string;
  readonly dryRun: boolean;
  /** Identifier values found per kind (counts only). */
  readonly identifiers: Readonly<Record<string, number>>;
  readonly tables: readonly TableErasure[];
  readonly rowsTouched: number;
  readonly ledgerRecords: number;
  /** Rows still matching after the erasure, per table (empty when every table is clean). */
  readonly remaining: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export class ErasureError extends Error {
  override readonly name = 'ErasureError';
}

const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
};

async function exists(e: DialectEngine, table: string): Promise<string[] | undefined> {
  return (await e.engine.describeTable(table))?.map((c) => c.name);
}

/** Linked identifier values, found from the subject id before anything is erased. */
async function findIdentifiers(
  deps: EraseDeps,
  targets: readonly ErasureTarget[],
  subject: string,
): Promise<Map<string, string[]>> {
  const ids = new Map<string, string[]>([[SUBJECT, [subject]]]);
  for (const [kind, link] of Object.entries(deps.policy.linked)) {
    const target = targets.find((t) => t.name === link.table && !t.store);
    if (!target) throw new ErasureError(`linked identifier ${kind}: ${link.table} has no table`);
    const e = engineOf(deps.engines, deps.defaultEngine, target.asset, deps.engineNameOf);
    if (!(await exists(e, target.table))) {
      ids.set(kind, []);
      continue;
    }
    const rows = await e.engine.query(
      renderErasure(e.dialect).linkedValues(target.table, link.column, link.subjectColumn, subject),
    );
    ids.set(
      kind,
      rows.map((r) => String(r['v'])),
    );
  }
  // `contains` renders LIKE without ESCAPE: a value holding a wildcard would match other rows.
  for (const t of targets.filter((x) => x.rule.how === 'contains')) {
    for (const kind of Object.values(t.rule.match)) {
      const bad = (ids.get(kind) ?? []).find((v) => /[%_\\]/.test(v));
      if (bad !== undefined)
        throw new ErasureError(
          `${t.name}: a ${kind} value holds a LIKE wildcard; it cannot be matched as text`,
        );
    }
  }
  return ids;
}

/** Adds the identifiers' keyed hashes to the list, refusing a list written with another key. */
async function listIdentifiers(deps: EraseDeps, ids: Identifiers, erasureId: string): Promise<void> {
  const e = engineOf(deps.engines, deps.defaultEngine);
  for (const s of renderErasureMetaDdl(e.dialect)) await e.engine.execute(s);
  const sql = renderErasure(e.dialect);
  const [other] = (await e.engine.query(sql.listEntries())).filter((r) => r['key_check'] !== deps.key.check);
  if (other)
    throw new ErasureKeyError(
      'the erasure list was written with another PII key: erasing with this one would leave the guard blind to either list',
    );
  const entries = new Map<string, { kind: string; hash: string }>();
  for (const [kind, values] of ids) {
    for (const v of values) {
      const hash = deps.key.hash(kind, v);
      entries.set(`${kind}:${hash}`, { kind, hash });
    }
  }
  if (entries.size > 0)
    await e.engine.execute(sql.addToList([...entries.values()], erasureId, deps.key.check));
}

interface Touched {
  readonly target: ErasureTarget;
  readonly rows: number;
  /** [partition, slice] pairs. */
  readonly parts: readonly (readonly [string, string])[];
}

async function eraseTable(
  deps: EraseDeps,
  target: ErasureTarget,
  ids: Identifiers,
  dryRun: boolean,
): Promise<Touched | undefined> {
  const e = engineOf(deps.engines, deps.defaultEngine, target.asset, deps.engineNameOf);
  const columns = await exists(e, target.table);
  if (!columns) return undefined;
  const named = [...Object.keys(target.rule.match), ...(target.rule.personal ?? [])];
  const have = new Set(columns.map((c) => c.toLowerCase()));
  const unknown = named.filter((c) => !have.has(c.toLowerCase()));
  if (unknown.length > 0)
    throw new ErasureError(
      `${target.table} has no column ${unknown.join(', ')} (the erasure policy names it)`,
    );
  const sql = renderErasure(e.dialect);
  const where = sql.predicate(target, ids);
  if (!where) return undefined;
  const counts = await e.engine.query(sql.countMatching(target, where));
  const rows = counts.reduce((n, r) => n + num(r['n']), 0);
  const parts = counts.map((r) => [String(r['p'] ?? ''), String(r['s'] ?? '')] as const);
  if (rows > 0 && !dryRun) await e.engine.execute(sql.apply(target, where));
  return { target, rows, parts };
}

/** Published slices after the change: their recorded fingerprints follow the content (slice reuse compares them). */
async function refreshSlices(deps: EraseDeps, t: Touched): Promise<void> {
  const asset = t.target.asset;
  if (!asset) return;
  const e = engineOf(deps.engines, deps.defaultEngine, asset, deps.engineNameOf);
  const sql = renderErasure(e.dialect);
  const own = ((await exists(e, t.target.table)) ?? []).filter((c) => c !== PK_COLUMN && c !== SLICE_COLUMN);
  for (const [partition, slice] of t.parts) {
    const [fp] = await e.engine.query(sql.sliceFingerprint(t.target.table, own, partition, slice));
    await e.engine.execute(
      sql.updateSlice(asset.key, partition, slice, num(fp?.['rows']), String(fp?.['version'] ?? '')),
    );
  }
}

/** New data versions of the partitions erasure changed (derived assets; ingested ones are re-reported). */
async function newVersions(
  deps: EraseDeps,
  touched: readonly Touched[],
): Promise<Map<string, { rowCount: number; dataVersion: string }>> {
  const out = new Map<string, { rowCount: number; dataVersion: string }>();
  for (const t of touched) {
    const asset = t.target.asset;
    if (!asset || t.target.store || asset.ingest || t.rows === 0) continue;
    const e = engineOf(deps.engines, deps.defaultEngine, asset, deps.engineNameOf);
    const sql = renderErasure(e.dialect);
    const partitions = asset.partitions ? [...new Set(t.parts.map(([p]) => p))] : [''];
    for (const p of partitions) {
      let fpSql: string;
      if (asset.kind === 'scd2' && asset.scd2) {
        const ref = e.dialect.tableRef(t.target.table);
        fpSql = renderScd2State(
          e.dialect,
          {
            target: t.target.table,
            businessKey: asset.scd2.businessKey,
            tracked: asset.scd2.tracked,
            names: scd2Columns(asset.scd2.columnNames),
          },
          `${ref.schema}.${ref.name}`,
        ).fingerprintFromTable();
      } else fpSql = sql.partitionFingerprint(t.target.table, t.target.partitionColumn, p);
      const [fp] = await e.engine.query(fpSql);
      out.set(stepId(asset.key, p), {
        rowCount: num(fp?.['rows']),
        dataVersion: String(fp?.['version'] ?? ''),
      });
    }
  }
  return out;
}

/** Records the erased partitions' new versions, with inputs re-pointed at upstream partitions erased alike. */
async function recordVersions(
  ledger: Ledger,
  versions: ReadonlyMap<string, { rowCount: number; dataVersion: string }>,
  erasureId: string,
  at: string,
): Promise<number> {
  const steps = [...versions.keys()];
  const assets = [...new Set(steps.map((s) => s.slice(0, s.lastIndexOf('@'))))];
  const view = await ledger.view(assets);
  let recorded = 0;
  for (const id of steps) {
    const at_ = id.lastIndexOf('@');
    const prev = view.latestSuccess(id.slice(0, at_), id.slice(at_ + 1));
    const now = versions.get(id);
    if (!prev || !now) continue; // never recorded: the planner builds it when asked
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(prev.inputDataVersions))
      inputs[k] = versions.get(k)?.dataVersion ?? v;
    const record: MaterializationRecord = {
      ...prev,
      runId: erasureId,
      inputDataVersions: inputs,
      dataVersion: now.dataVersion,
      rowCount: now.rowCount,
      startedAt: at,
      endedAt: at,
    };
    await ledger.recordMaterialization(record);
    recorded++;
  }
  return recorded;
}

export async function eraseSubject(deps: EraseDeps, req: EraseRequest): Promise<EraseResult> {
  const t0 = performance.now();
  const subject = req.subject.trim();
  if (subject === '') throw new ErasureError('the subject id is empty');
  const dryRun = req.dryRun ?? false;
  const now = deps.now ?? (() => DateTime.utc().toISO() ?? '');
  const startedAt = now();
  const subjectHash = deps.key.hash(SUBJECT, subject);
  const erasureId = `gdpr-${createHash('sha256').update(`${subjectHash}/${startedAt}`).digest('hex').slice(0, 16)}`;
  const targets = resolveTargets(deps.definitions, deps.policy);

  const ids = await findIdentifiers(deps, targets, subject);
  if (!dryRun) await listIdentifiers(deps, ids, erasureId);

  // Tables that link identifiers go last: a rerun after a crash must still find the links to erase the rest.
  const links = new Set(Object.values(deps.policy.linked).map((l) => l.table));
  const ordered = [...targets.filter((t) => !links.has(t.name)), ...targets.filter((t) => links.has(t.name))];
  const touched: Touched[] = [];
  for (const target of ordered) {
    const t = await eraseTable(deps, target, ids, dryRun);
    if (t) touched.push(t);
  }
  let ledgerRecords = 0;
  if (!dryRun) {
    for (const t of touched.filter((x) => x.rows > 0)) {
      if (t.target.store) await refreshSlices(deps, t);
      if (t.target.asset?.kind === 'scd2') {
        const e = engineOf(deps.engines, deps.defaultEngine, t.target.asset, deps.engineNameOf);
        await e.engine.execute(renderErasure(e.dialect).distrustScd2State(t.target.table));
      }
    }
    if (deps.ledger)
      ledgerRecords = await recordVersions(deps.ledger, await newVersions(deps, touched), erasureId, now());
  }

  const remaining: Record<string, number> = {};
  if (!dryRun) {
    for (const target of targets) {
      const again = await eraseTable(deps, target, ids, true);
      if (again && again.rows > 0) remaining[target.table] = again.rows;
    }
  }
  const tables: TableErasure[] = [...touched]
    .sort((a, b) => a.target.table.localeCompare(b.target.table))
    .filter((t) => t.rows > 0)
    .map((t) => ({
      table: t.target.table,
      action: t.target.rule.action,
      rows: t.rows,
      partitions: [...new Set(t.parts.map(([p, s]) => (t.target.store ? `${p}/${s}` : p)))]
        .filter((p) => p !== '')
        .sort(),
    }));
  const rowsTouched = tables.reduce((n, t) => n + t.rows, 0);
  const seconds = Math.round(performance.now() - t0) / 1000;
  if (!dryRun) {
    const e = engineOf(deps.engines, deps.defaultEngine);
    await e.engine.execute(
      renderErasure(e.dialect).insertAudit({
        erasureId,
        subject: deps.policy.subject,
        subjectHash,
        erasedAt: startedAt,
        tables: Object.fromEntries(tables.map((t) => [t.table, t.rows])),
        rows: rowsTouched,
        seconds,
      }),
    );
  }
  return {
    erasureId,
    subjectHash,
    dryRun,
    identifiers: Object.fromEntries([...ids].map(([k, v]) => [k, v.length])),
    tables,
    rowsTouched,
    ledgerRecords,
    remaining,
    seconds,
  };
}

/** The audit entries, oldest first (no identifier in them: the subject's keyed hash only). */
export async function readAudit(
  engines: Readonly<Record<string, Engine>>,
  defaultEngine: string,
): Promise<Record<string, unknown>[]> {
  const e = engineOf(engines, defaultEngine);
  const sql = renderErasure(e.dialect);
  for (const s of renderErasureMetaDdl(e.dialect)) await e.engine.execute(s);
  return (await e.engine.query(sql.selectAudit())).map((r) => ({
    ...r,
    tables_json: undefined,
    tables: JSON.parse(String(r['tables_json'])) as unknown,
  }));
}
