/**
 * One asset graph across engines over the shared Iceberg catalog, through a real Temporal worker: a change log
 * (a Trino SQL asset), an SCD2 dimension built by the PySpark job jobs/scd2_merge.py (spark-submit, local[2]),
 * and a mart Trino builds from that dimension. The ledger records each step like any other (row count, data
 * version read back through Trino), checks run on Trino after the Spark job, and neither a forced re-run nor
 * a retried step (same run, same step: a worker killed after the job's commit) commits to the dimension again.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '../../src/cli/platform.js';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { asset, daily, defineDefinitions, sparkJob, type Definitions } from '../../src/dsl/index.js';
import type { Engine } from '../../src/engines/index.js';
import { stepId } from '../../src/ledger/index.js';
import { startMaterialize } from '../../src/runtime/index.js';
import type { MaterializeSummary } from '../../src/workflows/types.js';
import {
  connectTestEnv,
  startWorker,
  TEMPORAL_ADDRESS,
  UI_BASE_URL,
  type RunningWorker,
  type TemporalTestEnv,
} from '../helpers/temporal.js';

const env = process.env;
const TRINO = env['TESSERA_TRINO_URL'];
const SUBMIT = env['TESSERA_SPARK_SUBMIT'];
const SPARK_URL = env['TESSERA_SPARK_URL'];

// Schemas of their own: the Iceberg catalog is shared by every test and helper.
const ns = `xe${randomUUID().replaceAll('-', '').slice(0, 8)}`;
const RAW = `${ns}_raw.listings_changes`;
const DIM = `${ns}_core.dim_listings`;
const MART = `${ns}_marts.listings_by_city`;
const EVENTS = `${ns}_raw.events`;
const SESSIONS = `${ns}_clickstream.sessions`;

/** Snowplow events over two days: 2 sessions start on the 23rd, 3 on the 24th (a 45-minute gap splits one). */
const EVENT_ROWS: readonly (readonly [string, string, string])[] = [
  ['e1', 'a', '2026-11-23T10:00:00Z'],
  ['e2', 'a', '2026-11-23T10:20:00Z'],
  ['e3', 'b', '2026-11-23T12:00:00Z'],
  ['e4', 'a', '2026-11-24T08:00:00Z'],
  ['e5', 'a', '2026-11-24T08:45:00Z'],
  ['e6', 'c', '2026-11-24T23:59:00Z'],
];
const eventsSql =
  `SELECT event_id, 'page_view' AS event_name, domain_userid, CAST(NULL AS VARCHAR) AS user_id, ` +
  `CAST(from_iso8601_timestamp(ts) AS TIMESTAMP(6) WITH TIME ZONE) AS derived_tstamp, CAST(NULL AS VARCHAR) AS mkt_source, ` +
  `CAST(NULL AS VARCHAR) AS mkt_medium, CAST(NULL AS VARCHAR) AS mkt_campaign ` +
  `FROM (VALUES ${EVENT_ROWS.map((r) => `('${r.join("', '")}')`).join(', ')}) AS t(event_id, domain_userid, ts)`;
/** Sessions starting on `day`, by the 30-minute rule. */
const sessionsOn = (day: string): number => {
  const byUser = new Map<string, number[]>();
  for (const [, user, ts] of EVENT_ROWS) byUser.set(user, [...(byUser.get(user) ?? []), Date.parse(ts)]);
  let n = 0;
  for (const times of byUser.values()) {
    times.sort((a, b) => a - b);
    times.forEach((t, i) => {
      const prev = times[i - 1];
      if ((prev === undefined || t - prev > 30 * 60_000) && new Date(t).toISOString().startsWith(day)) n++;
    });
  }
  return n;
};

interface Change {
  readonly listing: number;
  readonly city: string;
  readonly price: number;
  readonly lsn: number;
  readonly seq: number;
  readonly at: string;
  readonly op: 'c' | 'u' | 'd';
}
const CHANGES: readonly Change[] = [
  { listing: 1, city: 'Pune', price: 100, lsn: 0x10, seq: 0, at: '2026-11-01 10:00:00', op: 'c' },
  { listing: 2, city: 'Pune', price: 200, lsn: 0x10, seq: 1, at: '2026-11-01 10:00:00', op: 'c' },
  { listing: 4, city: 'Mumbai', price: 80, lsn: 0x11, seq: 0, at: '2026-11-01 11:00:00', op: 'c' },
  { listing: 1, city: 'Pune', price: 120, lsn: 0x20, seq: 0, at: '2026-11-02 10:00:00', op: 'u' },
  { listing: 3, city: 'Delhi', price: 50, lsn: 0x21, seq: 0, at: '2026-11-02 12:00:00', op: 'c' },
  // Two changes of listing 1 in one transaction (one LSN): _seq orders them, the later one is the version.
  { listing: 1, city: 'Mumbai', price: 130, lsn: 0x30, seq: 0, at: '2026-11-03 10:00:00', op: 'u' },
  { listing: 1, city: 'Mumbai', price: 125, lsn: 0x30, seq: 1, at: '2026-11-03 10:00:00', op: 'u' },
  // The same state again: no version.
  { listing: 3, city: 'Delhi', price: 50, lsn: 0x31, seq: 0, at: '2026-11-03 11:00:00', op: 'u' },
  { listing: 2, city: 'Pune', price: 200, lsn: 0x40, seq: 0, at: '2026-11-04 10:00:00', op: 'd' },
];
const lsnText = (n: number): string => n.toString(16).padStart(16, '0');

const rawSql =
  `SELECT listing_id, city, price, _lsn, CAST(_seq AS BIGINT) AS _seq, CAST(ts AS TIMESTAMP(6)) AS _commit_time, _op ` +
  `FROM (VALUES ${CHANGES.map(
    (c) => `(${c.listing}, '${c.city}', ${c.price}, '${lsnText(c.lsn)}', ${c.seq}, '${c.at}', '${c.op}')`,
  ).join(', ')}) AS t(listing_id, city, price, _lsn, _seq, ts, _op)`;

/** The SCD2 rules, spelled in TypeScript: each listing's versions from its changes. */
function expectedVersions(): Map<number, { city: string; price: number; deleted: boolean }[]> {
  const out = new Map<number, { city: string; price: number; deleted: boolean }[]>();
  const order = (c: Change): string => `${c.at}|${lsnText(c.lsn)}|${String(c.seq).padStart(20, '0')}`;
  const sorted = [...CHANGES].sort((a, b) => (order(a) < order(b) ? -1 : 1));
  // Changes of one listing at one commit time collapse to the last.
  const last = new Map<string, Change>();
  for (const c of sorted) last.set(`${c.listing}|${c.at}`, c);
  for (const c of [...last.values()].sort((a, b) => (order(a) < order(b) ? -1 : 1))) {
    const versions = out.get(c.listing) ?? [];
    const state = { city: c.city, price: c.price, deleted: c.op === 'd' };
    const prev = versions.at(-1);
    if (!prev || JSON.stringify(prev) !== JSON.stringify(state)) versions.push(state);
    out.set(c.listing, versions);
  }
  return out;
}

function expectedMart(): { city: string; listings: number; total_price: number }[] {
  const byCity = new Map<string, { city: string; listings: number; total_price: number }>();
  for (const versions of expectedVersions().values()) {
    const now = versions.at(-1);
    if (!now || now.deleted) continue;
    const row = byCity.get(now.city) ?? { city: now.city, listings: 0, total_price: 0 };
    byCity.set(now.city, { ...row, listings: row.listings + 1, total_price: row.total_price + now.price });
  }
  return [...byCity.values()].sort((a, b) => (a.city < b.city ? -1 : 1));
}

function definitions(): Definitions {
  return defineDefinitions({
    assets: [
      asset({ key: RAW, kind: 'custom', sql: rawSql }),
      asset({
        key: DIM,
        kind: 'scd2',
        scd2: { source: RAW, businessKey: ['listing_id'], tracked: ['city', 'price'] },
        spark: sparkJob('scd2_merge', { buckets: 2 }),
      }),
      asset({ key: EVENTS, kind: 'custom', sql: eventsSql }),
      // Partitioned, and read back on the Spark engine: a day's rows are those in its window of started_at.
      asset({
        key: SESSIONS,
        kind: 'fact',
        engine: 'spark',
        partitions: daily({ start: '2026-11-23' }),
        deps: [EVENTS],
        spark: sparkJob(
          'sessionize',
          { source: EVENTS, day: '{{ partition_key }}' },
          { timeColumn: 'started_at' },
        ),
        checks: [{ type: 'not_null', columns: ['session_id', 'started_at'] }],
      }),
      asset({
        key: MART,
        kind: 'mart',
        deps: [DIM],
        primaryKey: ['city'],
        sql: `SELECT city, count(*) AS listings, sum(price) AS total_price FROM ${DIM} WHERE is_current AND NOT is_deleted GROUP BY city`,
      }),
    ],
  });
}

const configFor = (dir: string, spark: boolean) =>
  parseConfig(
    {
      environment: 'cross-engine-test',
      stateDir: dir,
      defaultEngine: 'trino',
      engines: {
        trino: { type: 'trino', url: TRINO ?? '', catalog: 'iceberg' },
        spark: { type: 'spark', url: SPARK_URL ?? '' },
      },
      ledger: { type: 'sqlite', path: join(dir, 'ledger.sqlite') },
      temporal: { address: TEMPORAL_ADDRESS },
      // `spark: {}`: spark-submit, jars, properties and Python from scripts/services/spark.sh's environment.
      ...(spark ? { spark: {} } : {}),
    },
    env,
  );

describe('config: spark', () => {
  it('takes what the section leaves out from TESSERA_SPARK_*; refuses a section without spark-submit', () => {
    const base = {
      environment: 'x',
      defaultEngine: 'd',
      engines: { d: { type: 'duckdb', path: ':memory:' } },
      ledger: { type: 'sqlite', path: ':memory:' },
    };
    const cfg = parseConfig(
      { ...base, spark: { master: 'spark://h:7077' } },
      {
        TESSERA_SPARK_SUBMIT: '/opt/spark/bin/spark-submit',
        TESSERA_SPARK_JARS: '/j/a.jar,/j/b.jar',
        TESSERA_SPARK_MASTER: 'local[2]',
      },
    );
    expect(cfg.spark).toMatchObject({
      submit: '/opt/spark/bin/spark-submit',
      master: 'spark://h:7077',
      jars: ['/j/a.jar', '/j/b.jar'],
    });
    expect(parseConfig(base, { TESSERA_SPARK_SUBMIT: '/x' }).spark).toBeUndefined();
    expect(() => parseConfig({ ...base, spark: {} }, {})).toThrow(/spark\.submit.*TESSERA_SPARK_SUBMIT/s);
    expect(() => parseConfig({ ...base, spark: { submit: 'x', mastr: 'y' } }, {})).toThrow(ConfigError);
  });
});

describe.skipIf(!TRINO || !SUBMIT || !SPARK_URL)(
  'a Spark job asset between Trino assets, through a Temporal worker',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cross-engine-'));
    let platform: Platform | undefined;
    let temporal: TemporalTestEnv | undefined;
    let worker: RunningWorker | undefined;
    let trino: Engine;

    beforeAll(async () => {
      platform = await openPlatform({
        config: configFor(dir, true),
        definitions: definitions(),
        logger: pino({ level: 'silent' }),
      });
      const engine = platform.engines['trino'];
      if (!engine) throw new Error('no trino engine');
      trino = engine;
      temporal = await connectTestEnv('cross-engine');
      worker = await startWorker(temporal, platform.activities, { maxConcurrentActivityTaskExecutions: 2 });
    }, 300_000);

    afterAll(async () => {
      await worker?.stop();
      if (platform) {
        for (const t of [`${MART}__build`, DIM, RAW, SESSIONS, EVENTS])
          await trino.execute(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
        for (const s of ['raw', 'core', 'marts', 'clickstream'])
          await trino.execute(`DROP SCHEMA IF EXISTS ${ns}_${s}`).catch(() => undefined);
      }
      await platform?.close();
      await temporal?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const snapshotsOf = async (table: string): Promise<number> => {
      const [schema, name] = table.split('.');
      const [r] = await trino.query(`SELECT count(*) AS n FROM ${schema}."${name}$snapshots"`);
      return Number(r?.['n']);
    };
    const martRows = () =>
      trino.query(`SELECT city, listings, total_price FROM ${MART}__build ORDER BY city`);

    it('an asset needing Spark with no spark: config is a start-up error', async () => {
      await expect(
        openPlatform({
          config: configFor(dir, false),
          definitions: definitions(),
          logger: pino({ level: 'silent' }),
        }),
      ).rejects.toThrow(new RegExp(`${DIM}.*built by Spark jobs.*no "spark:" section`, 's'));
    });

    it('builds the dimension with spark-submit and the mart with Trino; a re-run or a retry writes nothing twice', async () => {
      if (!platform || !temporal) throw new Error('not started');
      const target = { taskQueue: temporal.taskQueue, uiBaseUrl: UI_BASE_URL };
      const run = await startMaterialize(temporal.client, target, { request: { selection: `+${MART}` } });
      const summary = (await run.result()) as MaterializeSummary;
      expect(summary.steps.filter((s) => s.status !== 'success')).toEqual([]);
      expect(summary.succeeded).toBe(3);

      // The mart Trino built from the dimension Spark wrote.
      expect(await martRows()).toEqual(expectedMart());
      // The dimension's versions, as the SCD2 rules give them.
      const versions = await trino.query<{
        listing_id: number;
        city: string;
        price: number;
        is_deleted: boolean;
      }>(`SELECT listing_id, city, price, is_deleted FROM ${DIM} ORDER BY listing_id, valid_from`);
      const expected = [...expectedVersions().entries()]
        .sort(([a], [b]) => a - b)
        .flatMap(([listing, vs]) =>
          vs.map((v) => ({ listing_id: listing, city: v.city, price: v.price, is_deleted: v.deleted })),
        );
      expect(versions).toEqual(expected);

      // The ledger: a success per step; the dimension's row count and data version read back through Trino.
      const view = await platform.ledger.view([RAW, DIM, MART]);
      for (const key of [RAW, DIM, MART]) expect(view.latestSuccess(key, '')?.runId).toBe(summary.runId);
      const dim = view.latestSuccess(DIM, '');
      expect(dim?.rowCount).toBe(expected.length);
      expect(dim?.dataVersion).toMatch(/^[0-9a-f]{32}$/);
      // Checks ran on Trino after the job: the built-in scd2_intervals of the dimension, the mart's key checks.
      const checks = await platform.ledger.checkResults(DIM, '', summary.runId);
      expect(checks.map((c) => [c.checkName, c.passed])).toEqual([['scd2_intervals', true]]);
      const martChecks = await platform.ledger.checkResults(MART, '', summary.runId);
      expect(martChecks.length).toBeGreaterThan(0);
      expect(martChecks.every((c) => c.passed)).toBe(true);
      const snapshots = await snapshotsOf(DIM);
      expect(snapshots).toBeGreaterThan(0);

      // A retry of the dimension's step in the same run (Temporal retrying after the worker died past the
      // job's commit): the job finds its step id in the snapshot summary and commits nothing.
      const step = {
        id: stepId(DIM, ''),
        assetKey: DIM,
        partitionKey: '',
        reason: 'forced' as const,
        upstream: [],
        inputs: [],
      };
      const retried = await platform.activities.materializeStep({ runId: summary.runId, step, force: true });
      expect(retried).toMatchObject({ status: 'success', dataVersion: dim?.dataVersion });
      expect(await snapshotsOf(DIM)).toBe(snapshots);

      // The whole graph forced again through the worker: a new run (a new step id), nothing new in the change
      // log: the merge commits nothing, the mart is the same.
      const again = await startMaterialize(temporal.client, target, {
        request: { selection: `+${MART}` },
        force: true,
      });
      const second = (await again.result()) as MaterializeSummary;
      expect(second.steps.filter((s) => s.status !== 'success')).toEqual([]);
      expect(second.succeeded).toBe(3);
      expect(await snapshotsOf(DIM)).toBe(snapshots);
      expect(await martRows()).toEqual(expectedMart());
      const after = (await platform.ledger.view([DIM])).latestSuccess(DIM, '');
      expect(after).toMatchObject({ runId: second.runId, dataVersion: dim?.dataVersion });
    }, 1_200_000);

    it('a partitioned job asset: each day its own rows, data version and checks, read on the Spark engine', async () => {
      if (!platform || !temporal) throw new Error('not started');
      const target = { taskQueue: temporal.taskQueue, uiBaseUrl: UI_BASE_URL };
      const days = ['2026-11-23', '2026-11-24'];
      const run = await startMaterialize(temporal.client, target, {
        request: { selection: `+${SESSIONS}`, partitionKeys: days },
      });
      const summary = (await run.result()) as MaterializeSummary;
      expect(summary.steps.filter((s) => s.status !== 'success')).toEqual([]);
      expect(summary.succeeded).toBe(3); // the events, two days of sessions
      const view = await platform.ledger.view([SESSIONS]);
      const [first, second] = days.map((d) => view.latestSuccess(SESSIONS, d));
      // Each step counts and fingerprints its own day, not the table (which holds both).
      expect([first?.rowCount, second?.rowCount]).toEqual(days.map(sessionsOn));
      expect(first?.dataVersion).not.toBe(second?.dataVersion);
      const [all] = await trino.query(`SELECT count(*) AS n FROM ${SESSIONS}`);
      expect(Number(all?.['n'])).toBe(days.reduce((n, d) => n + sessionsOn(d), 0));
      for (const d of days) {
        const checks = await platform.ledger.checkResults(SESSIONS, d, summary.runId);
        expect(checks.map((c) => c.passed)).toEqual([true]);
      }
    }, 1_200_000);
  },
);
