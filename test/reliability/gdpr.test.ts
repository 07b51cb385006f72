/**
 * GDPR erasure (issue 15): BookMyEvent's catalog over 3 small simulated days, built in-process through the real
 * activities (landing loaders guarded as the worker's are, a DuckDB file, a SQLite ledger) and published. A user
 * who appears in raw change logs, SCD2 history, daily snapshots, Snowplow events, purchases, experiment exposures,
 * ML features and the published LTV mart is erased with `tessera gdpr erase --user ID` (the real CLI). Then a scan
 * of every column of every relation of the warehouse (not a hand-listed set) must find nothing of the person,
 * the audit entry must hold no identifier, revenue must be unchanged, and neither re-landing the old source files
 * (through both landing paths: an ingestion pass and the materialize steps) nor rebuilding every derived table
 * from raw may bring the person back.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { TesseraActivities } from '../../src/activities/types.js';
import { bookMyEvent } from '../../src/assets/index.js';
import { BOOKMYEVENT_ERASURE } from '../../src/assets/gdpr.js';
import { BOOKMYEVENT_PII } from '../../src/assets/pii.js';
import type { Definitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, DIALECTS, ENGINES, type Engine } from '../../src/engines/index.js';
import { renderErasure, renderErasureMetaDdl } from '../../src/gdpr/sql.js';
import {
  defineErasurePolicy,
  ErasureGuard,
  ErasureKey,
  guardLoaders,
  resolveTargets,
  type EraseResult,
} from '../../src/gdpr/index.js';
import { openLedger, type Ledger } from '../../src/ledger/index.js';
import { simulate } from '../../src/simulator/index.js';
import type { CompactResult } from '../../src/gdpr/duckdb-compact.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import { cliEnv } from '../cli/helpers.js';

const START = '2026-09-01';
const DAYS = ['2026-09-01', '2026-09-02', '2026-09-03'];
const LAST = DAYS.at(-1) ?? '';
const PII_KEY = 'gdpr-test-pii-key-0000001';
process.env.TESSERA_PII_KEY = PII_KEY;

const env = cliEnv('gdpr', { catalog: false });
const landing = join(env.dir, 'landing');

interface Warehouse {
  engine: Engine;
  ledger: Ledger;
  acts: TesseraActivities;
  close(): Promise<void>;
}

/** The worker's wiring: landing loaders behind the erasure guard, as src/cli/definitions-module.ts builds them. */
async function open(): Promise<Warehouse> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: env.warehouse });
  const ledger = await openLedger({ type: 'sqlite', path: join(env.dir, 'ledger.sqlite') });
  const engines = { duckdb: engine };
  const loaders = guardLoaders(
    landingLoaders({ engine, landingDir: landing, pii: BOOKMYEVENT_PII, piiKey: PII_KEY }),
    new ErasureGuard({
      definitions: bookMyEvent,
      policy: BOOKMYEVENT_ERASURE,
      engines,
      defaultEngine: 'duckdb',
    }),
  );
  const acts = createActivities({
    definitions: bookMyEvent,
    engines,
    defaultEngine: 'duckdb',
    ledger,
    loaders,
    alertRoutes: [],
    latenessMs: 0,
    logger: pino({ level: 'silent' }),
  });
  return {
    engine,
    ledger,
    acts,
    async close() {
      await engine.close();
      await ledger.close();
    },
  };
}

/** Plans and materializes the whole catalog over the days, in plan order; every step must succeed. */
async function build(w: Warehouse, runId: string, force: boolean): Promise<number> {
  const plan = await w.acts.planRun({ selection: '*', range: { from: START, to: LAST }, force });
  for (const step of plan.steps) {
    const r = await w.acts.materializeStep({ runId, step, force });
    expect(r.status, `${step.id}: ${JSON.stringify(r).slice(0, 400)}`).toBe('success');
  }
  return plan.steps.length;
}

async function publishAll(w: Warehouse, runId: string): Promise<void> {
  for (const day of DAYS)
    for (const g of bookMyEvent.publishGroups)
      await w.acts.publishGroup({ group: g.name, partitionKey: day, runId: `${runId}-${day}` });
}

interface Person {
  readonly id: string;
  /** Values that are the person's own and nobody else's: hashed contact details, cookie ids. */
  readonly values: readonly string[];
}

const lit = (v: string): string => `'${v.replaceAll("'", "''")}'`;

/**
 * Every column of every table and view (all schemas, bookkeeping included) that holds the person: a column whose
 * name says it holds a user id and equals the id; any text column containing one of the person's own values or a
 * JSON `"user_id": <id>` field. Returns `table.column` → matching rows.
 */
async function findPerson(engine: Engine, p: Person): Promise<Record<string, number>> {
  const columns = await engine.query<{ t: string; c: string; type: string }>(
    `select table_schema || '.' || table_name as t, column_name as c, data_type as type
     from information_schema.columns where table_schema not in ('information_schema', 'pg_catalog')
     order by table_schema, table_name, ordinal_position`,
  );
  const byTable = new Map<string, { c: string; type: string }[]>();
  for (const col of columns) byTable.set(col.t, [...(byTable.get(col.t) ?? []), col]);
  const found: Record<string, number> = {};
  for (const [table, cols] of byTable) {
    const conds = cols.map(({ c, type }) => {
      const v = `CAST("${c}" AS VARCHAR)`;
      const parts: string[] = [];
      if (/user/i.test(c)) parts.push(`${v} = ${lit(p.id)}`);
      if (/VARCHAR|JSON|TEXT/i.test(type)) {
        for (const x of p.values) parts.push(`contains(${v}, ${lit(x)})`);
        parts.push(`regexp_matches(${v}, ${lit(`"user_id"\\s*:\\s*"?${p.id}"?[,}]`)})`);
      }
      return parts.length === 0 ? 'FALSE' : parts.join(' OR ');
    });
    const [row] = await engine.query(
      `select ${conds.map((cond, i) => `sum(case when ${cond} then 1 else 0 end) as c${i}`).join(', ')} from ${table
        .split('.')
        .map((x) => `"${x}"`)
        .join('.')}`,
    );
    cols.forEach(({ c }, i) => {
      const n = Number(row?.[`c${i}`] ?? 0);
      if (n > 0) found[`${table}.${c}`] = n;
    });
  }
  return found;
}

/** Revenue as finance reads it (published marts) and as the facts hold it. */
async function revenue(engine: Engine): Promise<Record<string, string>> {
  const [r] = await engine.query(
    `select (select sum(gross_revenue_cents)::VARCHAR from reporting.mart_daily_revenue) as gross,
            (select sum(refunded_cents)::VARCHAR from reporting.mart_daily_revenue) as refunded,
            (select sum(net_revenue_cents)::VARCHAR from reporting.mart_daily_revenue) as net,
            (select sum(confirmed_cents)::VARCHAR from reporting.mart_vendor_performance) as vendors,
            (select sum(amount_cents)::VARCHAR from core.fct_purchases) as facts,
            (select count(*)::VARCHAR from core.fct_purchases) as purchases,
            (select sum(amount_cents)::VARCHAR from raw.inventory_db_purchases_changes) as raw_amounts`,
  );
  return Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, String(v)]));
}

/** Moves every landed file back from `done/`: the old source data is delivered again. */
function reland(dir: string): number {
  let moved = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = join(dir, entry.name);
    if (entry.name === 'done') {
      for (const f of readdirSync(sub)) {
        renameSync(join(sub, f), join(dir, f));
        moved++;
      }
    } else moved += reland(sub);
  }
  return moved;
}

const pending = (dir: string, pattern: RegExp): number =>
  existsSync(dir) ? readdirSync(dir).filter((f) => pattern.test(f)).length : 0;

describe('the erasure policy', () => {
  it('covers every asset of the catalog and refuses one that forgets an asset', () => {
    const tables = resolveTargets(bookMyEvent, BOOKMYEVENT_ERASURE).map((t) => t.table);
    // A mart's rows live in its build table and its published store; a landed table no asset declares counts too.
    expect(tables).toEqual(
      expect.arrayContaining([
        'reporting.mart_customer_ltv__build',
        'reporting.__p_mart_customer_ltv',
        'raw.user_db_credentials_changes',
        'core.dim_users',
      ]),
    );
    expect(tables).not.toContain('reporting.mart_daily_revenue__build'); // declared `none`: totals per day
    // The catalog with one more per-user asset that nobody declared a rule for.
    const withNew: Definitions = {
      ...bookMyEvent,
      assets: [
        ...bookMyEvent.assets,
        { ...bookMyEvent.asset('ml.ml_user_features'), key: 'ml.ml_user_scores', name: 'ml_user_scores' },
      ],
    };
    expect(() => resolveTargets(withNew, BOOKMYEVENT_ERASURE)).toThrow(/no rule for ml\.ml_user_scores/);
    expect(() =>
      defineErasurePolicy({
        subject: 'user',
        tables: { 'raw.quarantine': { match: { raw: 'subject' }, how: 'contains', action: 'delete' } },
      }),
    ).toThrow(/'contains' cannot look for the subject id/);
    expect(() =>
      resolveTargets(
        bookMyEvent,
        defineErasurePolicy({
          ...BOOKMYEVENT_ERASURE,
          tables: {
            ...BOOKMYEVENT_ERASURE.tables,
            'core.dim_users': { match: { user_id: 'subject' }, action: 'anonymise' },
          },
        }),
      ),
    ).toThrow(/business key/);
  });
});

describe('the erasure SQL', () => {
  it('renders for every registered dialect from the same policy (portable statements only)', () => {
    const targets = resolveTargets(bookMyEvent, BOOKMYEVENT_ERASURE);
    const ids = new Map([
      ['subject', ['42']],
      ['cookie', ['0d4c2f1e-aaaa-bbbb-cccc-123456789abc']],
    ]);
    const dialects = [...Object.values(ENGINES).map((e) => e.dialect), ...Object.values(DIALECTS)];
    for (const d of dialects) {
      const sql = renderErasure(d);
      expect(renderErasureMetaDdl(d).length).toBe(3);
      for (const t of targets) {
        const where = sql.predicate(t, ids);
        expect(where, `${d.name} ${t.table}`).toBeDefined();
        const statement = sql.apply(t, where ?? '');
        expect(statement).toMatch(t.rule.action === 'delete' ? /^DELETE FROM / : /^UPDATE .* SET .* = NULL/);
        // An anonymised SCD2 version gets its row hash recomputed without the cleared columns.
        if (t.table === 'core.dim_purchases') expect(statement).toContain(d.quote('row_hash'));
        expect(sql.countMatching(t, where ?? '')).toContain('GROUP BY 1, 2');
      }
    }
  });
});

describe('GDPR erasure on a demo-like warehouse', () => {
  let w: Warehouse | undefined;
  afterAll(async () => {
    await w?.close();
    rmSync(env.dir, { recursive: true, force: true });
  });

  it(
    'erases a user everywhere, audits without the id, keeps revenue, and survives re-landing and a rebuild',
    { timeout: 600_000 },
    async () => {
      await simulate({ seed: 7, start: START, days: DAYS.length, landingDir: landing, scale: 'small' });
      w = await open();
      const t0 = performance.now();
      const steps = await build(w, 'build', false);
      await publishAll(w, 'pub');
      const buildSeconds = (performance.now() - t0) / 1000;

      // A user with SCD2 history, clickstream, a confirmed purchase, exposures, features and a published LTV row;
      // preferably one whose cookie also sits in a quarantined line.
      const candidates = await w.engine.query<{ id: string; q: number }>(
        `select cast(u.user_id as varchar) as id,
              (select count(*) from raw.quarantine q join raw.snowplow_events e on contains(q.raw, e.domain_userid)
                where e.user_id = cast(u.user_id as varchar)) as q
       from (select user_id from core.dim_users group by 1 having count(*) >= 2) u
       where exists (select 1 from raw.snowplow_events e where e.user_id = cast(u.user_id as varchar))
         and exists (select 1 from core.fct_purchases p where p.user_id = u.user_id and p.status = 'confirmed')
         and exists (select 1 from reporting.mart_customer_ltv l where l.user_id = u.user_id and l.ltv_cents > 0)
         and exists (select 1 from ml.ml_user_features f where f.user_id = u.user_id)
         and exists (select 1 from experiments.exposures x where x.user_id = cast(u.user_id as varchar))
       order by q desc, u.user_id`,
      );
      const id = candidates[0]?.id;
      if (id === undefined) throw new Error('the simulated days have no user in every layer');
      const own = await w.engine.query<{ v: string }>(
        `select distinct v from (
         select email_hash as v from raw.user_db_users_changes where user_id = ${id}
         union all select phone_hash from raw.user_db_users_changes where user_id = ${id}
         union all select domain_userid from raw.snowplow_events where user_id = ${lit(id)}) where v is not null`,
      );
      const person: Person = { id, values: own.map((r) => r.v) };
      expect(person.values.length).toBeGreaterThanOrEqual(2);

      const before = await findPerson(w.engine, person);
      const tablesBefore = new Set(Object.keys(before).map((k) => k.slice(0, k.lastIndexOf('.'))));
      for (const t of [
        'raw.user_db_users_changes',
        'raw.user_db_credentials_changes',
        'raw.inventory_db_purchases_changes',
        'raw.snowplow_events',
        'core.dim_users',
        'core.users_daily',
        'core.dim_purchases',
        'core.fct_purchases',
        'clickstream.fct_sessions',
        'experiments.exposures',
        'ml.ml_user_features',
        'reporting.mart_customer_ltv__build',
        'reporting.__p_mart_customer_ltv',
        'reporting.mart_customer_ltv',
      ])
        expect(tablesBefore, t).toContain(t);
      const revenueBefore = await revenue(w.engine);
      const rawUsersBefore = Number(
        (await w.engine.query(`select count(*) as n from raw.user_db_users_changes`))[0]?.['n'],
      );
      await w.close();
      w = undefined;
      // The warehouse file itself (and its write-ahead log), as bytes: some of the person's values are stored plain.
      const inFile = (): string[] => {
        const bytes = [env.warehouse, `${env.warehouse}.wal`]
          .filter((f) => existsSync(f))
          .map((f) => readFileSync(f).toString('latin1'))
          .join('');
        return person.values.filter((v) => bytes.includes(v));
      };
      const plainBefore = inFile();
      expect(plainBefore.length).toBeGreaterThan(0);

      // The command, as an operator runs it.
      const dry = await env.json<EraseResult>(['gdpr', 'erase', '--user', id, '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      const erased = await env.json<EraseResult & { compacted: Record<string, CompactResult> }>([
        'gdpr',
        'erase',
        '--user',
        id,
      ]);
      expect(erased.code, erased.stderr).toBe(0);
      const r = erased.value;
      expect(r.remaining).toEqual({});
      expect(r.rowsTouched).toBe(dry.value.rowsTouched); // the dry run counted exactly what was then erased
      expect(r.rowsTouched).toBeGreaterThan(20);
      expect(r.identifiers['cookie']).toBeGreaterThanOrEqual(1);
      expect(r.ledgerRecords).toBeGreaterThan(5);
      const action = Object.fromEntries(r.tables.map((t) => [t.table, t.action]));
      expect(action['core.dim_purchases']).toBe('anonymise');
      expect(action['core.dim_users']).toBe('delete');
      expect(action['reporting.__p_mart_customer_ltv']).toBe('delete');
      expect(JSON.stringify(r)).not.toMatch(new RegExp(`"${id}"|${person.values.join('|')}`));

      // Erasure rewrote the DuckDB file: deleted rows and cleared values are not left in its blocks or its log.
      const compacted = erased.value.compacted['duckdb'];
      expect(compacted?.tables).toBeGreaterThan(30);
      expect(inFile()).toEqual([]);
      w = await open();
      // Nothing of the person anywhere: every column of every table and view.
      expect(await findPerson(w.engine, person)).toEqual({});
      // The audit entry: who (keyed hash), when, tables and counts; never the id or the person's values.
      const audit = await w.engine.query(`select * from tessera_meta.gdpr_audit`);
      expect(audit).toHaveLength(1);
      const entry = audit[0] ?? {};
      expect(entry['subject_hash']).toBe(ErasureKey.from(PII_KEY).hash('subject', id));
      expect(Number(entry['rows_touched'])).toBe(r.rowsTouched);
      expect(JSON.parse(String(entry['tables_json']))).toMatchObject({
        'core.dim_users': expect.any(Number),
      });
      expect(Object.values(entry).map(String).join('|')).not.toMatch(new RegExp(person.values.join('|')));
      expect(Object.values(entry).map(String)).not.toContain(id);
      // Revenue is unchanged: purchases lost their link to the person, not their amounts.
      expect(await revenue(w.engine)).toEqual(revenueBefore);

      // Data versions: erased partitions are recorded fresh (publishing them again passes the "rows are the ones the
      // ledger recorded" check); partitions that read them without holding the person are stale and rebuild.
      const after = await w.acts.planRun({ selection: '*', range: { from: START, to: LAST } });
      const planned = new Set(after.steps.map((s) => s.assetKey));
      for (const fresh of [
        'core.users_daily',
        'core.dim_users',
        'ml.ml_user_features',
        'reporting.mart_customer_ltv',
      ])
        expect(planned, fresh).not.toContain(fresh);
      expect(after.steps.find((s) => s.assetKey === 'reporting.mart_daily_revenue')?.reason).toBe(
        'upstream_changed',
      );
      const staleSteps = await build(w, 'after-erasure', false);
      await publishAll(w, 'after-erasure');
      expect(await findPerson(w.engine, person)).toEqual({});
      expect(await revenue(w.engine)).toEqual(revenueBefore);

      // Old source data delivered again. The change logs through an ingestion pass (land()): the person's deleted
      // rows land again (their keys are gone) and the guard erases them.
      expect(reland(landing)).toBeGreaterThan(50);
      const erasedRawUsers =
        rawUsersBefore -
        Number((await w.engine.query(`select count(*) as n from raw.user_db_users_changes`))[0]?.['n']);
      expect(erasedRawUsers).toBeGreaterThan(0);
      const pass = await w.acts.ingestSource?.({ source: 'user_db', runId: 'reland' });
      expect(pass?.landed).toBeGreaterThanOrEqual(erasedRawUsers); // the person's rows were landed again …
      await w.acts.ingestSource?.({ source: 'inventory_db', runId: 'reland' });
      expect(await findPerson(w.engine, person)).toEqual({}); // … and erased by the guard

      // Then a rebuild of every derived table from raw, whose steps land the Snowplow files again (ingest()).
      expect(pending(join(landing, 'snowplow'), /\.tsv$/)).toBeGreaterThan(10);
      const derived = await w.engine.query<{ t: string }>(
        `select table_schema || '.' || table_name as t from information_schema.tables
       where table_type = 'BASE TABLE' and table_schema not in ('raw', 'tessera_meta')
         and table_name not like '\\_\\_p\\_%' escape '\\'`,
      );
      expect(derived.length).toBeGreaterThan(15);
      for (const { t } of derived) await w.engine.execute(`drop table ${t}`);
      await w.engine.execute(`delete from tessera_meta.scd2_state`);
      const t1 = performance.now();
      const rebuilt = await build(w, 'rebuild', true);
      await publishAll(w, 'rebuild');
      const rebuildSeconds = (performance.now() - t1) / 1000;
      expect(pending(join(landing, 'snowplow'), /\.tsv$/)).toBe(0); // every re-delivered file landed
      expect(await findPerson(w.engine, person)).toEqual({});
      expect(await revenue(w.engine)).toEqual(revenueBefore);

      process.stdout.write(
        `[gdpr] ${DAYS.length} days (small), ${steps} steps built in ${buildSeconds.toFixed(1)} s; user ${'#'.repeat(
          id.length,
        )}: ${r.rowsTouched} rows in ${r.tables.length} tables (${r.tables
          .map((t) => `${t.table} ${t.action} ${t.rows}`)
          .join(
            ', ',
          )}), ${r.ledgerRecords} data versions recorded, erase ${r.seconds} s + file rewrite ${compacted?.seconds ?? '?'} s, ${staleSteps} stale steps rebuilt after it; ` +
          `${Object.keys(before).length} columns held the person before, 0 after (${plainBefore.length} of ` +
          `${person.values.length} values in the file's bytes before, 0 after); rebuild from raw ${rebuilt} steps ` +
          `in ${rebuildSeconds.toFixed(1)} s: still absent\n`,
      );
    },
  );
});
