import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSparkJob, type SparkJobConfig } from '../../src/activities/spark-job.js';
import { sparkArgs, sparkStartupProblems } from '../../src/activities/spark-step.js';
import { sparkConfigSchema } from '../../src/config/index.js';
import { asset, daily, defineDefinitions, sparkJob, type AssetSpec } from '../../src/dsl/index.js';
import { createSparkEngine } from '../../src/engines/spark/spark-engine.js';
import type { Engine } from '../../src/engines/types.js';

/**
 * The PySpark jobs of jobs/ run by the sparkJob activity's body (runSparkJob: spark-submit, local[2]) on the
 * lakehouse catalog, and read back through the Spark SQL server; then Trino reads what Spark wrote and Spark
 * reads what Trino wrote (when scripts/services/trino.sh is up). A retry with the same step id finds its
 * commit in the snapshot summary and writes nothing.
 */

const env = process.env;
const URL = env['TESSERA_SPARK_URL'];
const SUBMIT = env['TESSERA_SPARK_SUBMIT'];
const TRINO = env['TESSERA_TRINO_URL'];
const config: SparkJobConfig = {
  submit: SUBMIT ?? '',
  master: 'local[2]',
  propertiesFile: env['TESSERA_SPARK_PROPERTIES'],
  jars: (env['TESSERA_SPARK_JARS'] ?? '').split(',').filter(Boolean),
  python: env['TESSERA_SPARK_PYTHON'],
  javaHome: env['TESSERA_SPARK_JAVA_HOME'],
};
// A schema of its own per run: the jobs write the shared lakehouse catalog.
const S = `sparkjobs_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
let e: Engine;

describe('assets built by Spark jobs (no Spark)', () => {
  const changes = asset({ key: 'raw.users_changes', kind: 'custom', sql: 'SELECT 1 AS user_id' });
  const events = asset({ key: 'raw.events', kind: 'custom', sql: 'SELECT 1 AS e' });
  const dim = asset({
    key: 'core.dim_users',
    kind: 'scd2',
    scd2: { source: 'raw.users_changes', businessKey: ['user_id'], tracked: ['email', 'country'] },
    spark: sparkJob('scd2_merge', { buckets: 4 }),
  });
  const sessions = asset({
    key: 'clickstream.sessions',
    kind: 'fact',
    partitions: daily({ start: '2026-11-01' }),
    deps: ['raw.events'],
    spark: sparkJob(
      'sessionize',
      { source: 'raw.events', day: '{{ partition_key }}' },
      { timeColumn: 'started_at' },
    ),
  });
  const defs = defineDefinitions({ assets: [changes, events, dim, sessions] });

  it('gives the job its target, deps by key as tables, the partition, and the change log of an scd2 asset', () => {
    expect(sparkArgs(defs, defs.asset('core.dim_users'), { partitionKey: '' })).toEqual({
      changes: 'raw.users_changes',
      'business-key': 'user_id',
      tracked: 'email,country',
      'order-by': '_lsn,_seq',
      'commit-time': '_commit_time',
      op: '_op',
      buckets: 4,
      target: 'core.dim_users',
    });
    const facts = {
      partitionKey: '2026-11-24',
      window: { start: '2026-11-24T00:00:00.000Z', end: '2026-11-25T00:00:00.000Z' },
    };
    expect(sparkArgs(defs, defs.asset('clickstream.sessions'), facts)).toEqual({
      source: 'raw.events',
      day: '2026-11-24',
      target: 'clickstream.sessions',
    });
  });

  it('refuses what cannot work when the asset is declared', () => {
    const bad = (spec: Partial<AssetSpec>) => () => asset({ key: 'a.b', kind: 'fact', ...spec } as AssetSpec);
    expect(bad({ sql: 'SELECT 1', spark: sparkJob('sessionize') })).toThrow(/exactly one of sql, spark/);
    expect(bad({ spark: { job: 'sessionize', args: { target: 'x.y' } } })).toThrow(
      /target is the asset's own table/,
    );
    expect(bad({ spark: { job: 'Bad.py' } })).toThrow(/job file name/);
    expect(() =>
      asset({
        key: 'a.b',
        kind: 'scd2',
        scd2: { source: 'raw.x', businessKey: ['k'], tracked: ['v'], strategy: 'check' },
        spark: sparkJob('scd2_merge'),
      }),
    ).toThrow(/strategy 'log' only/);
  });

  it("is part of the asset's code version", () => {
    const other = asset({
      key: 'core.dim_users',
      kind: 'scd2',
      scd2: { source: 'raw.users_changes', businessKey: ['user_id'], tracked: ['email', 'country'] },
      spark: sparkJob('scd2_merge', { buckets: 8 }),
    });
    const engineBuilt = asset({
      key: 'core.dim_users',
      kind: 'scd2',
      scd2: { source: 'raw.users_changes', businessKey: ['user_id'], tracked: ['email', 'country'] },
    });
    expect(new Set([dim.codeVersion, other.codeVersion, engineBuilt.codeVersion]).size).toBe(3);
  });

  it('at start-up: no spark: config, an unknown job or argument, a missing argument are errors', () => {
    expect(sparkStartupProblems(defs, undefined)).toEqual([
      expect.stringMatching(
        /clickstream\.sessions, core\.dim_users are built by Spark jobs.*no "spark:" section/,
      ),
    ]);
    const spark = sparkConfigSchema.parse({ submit: 'spark-submit' });
    expect(sparkStartupProblems(defs, spark)).toEqual([]);
    const wrong = defineDefinitions({
      assets: [
        events,
        asset({ key: 'x.one', kind: 'custom', spark: sparkJob('nope') }),
        asset({
          key: 'x.two',
          kind: 'custom',
          deps: ['raw.events'],
          spark: sparkJob('sessionize', { source: 'raw.events', dya: '2026-11-01' }),
        }),
      ],
    });
    expect(sparkStartupProblems(wrong, spark)).toEqual([
      expect.stringMatching(/x\.one: unknown Spark job "nope"; jobs: scd2_merge, sessionize/),
      expect.stringMatching(/x\.two: Spark job sessionize takes no argument "dya"/),
      expect.stringMatching(/x\.two: Spark job sessionize needs the argument "day"/),
    ]);
  });
});

describe('sparkJob arguments (no Spark)', () => {
  it('refuses a bad argument before starting spark-submit', async () => {
    const run = runSparkJob(
      { submit: '/nonexistent/spark-submit', master: 'local[2]' },
      { job: 'sessionize', stepId: 's', args: { source: 'raw.e', target: 'c.s', day: '24/11/2026' } },
    );
    await expect(run).rejects.toThrow(/day/);
  });
});

describe.skipIf(!URL || !SUBMIT)('Spark jobs (spark-submit) on Iceberg', () => {
  beforeAll(async () => {
    e = await createSparkEngine({ type: 'spark', url: URL ?? '' });
    await e.execute(`CREATE NAMESPACE IF NOT EXISTS ${S}`);
  });
  afterAll(async () => {
    if (!e) return;
    for (const t of ['events', 'sessions', 'users_changes', 'dim_users', 'for_trino']) {
      await e.execute(`DROP TABLE IF EXISTS ${S}.${t} PURGE`).catch(() => undefined);
    }
    await e.execute(`DROP NAMESPACE IF EXISTS ${S}`).catch(() => undefined);
    await e.close();
    // PURGE deletes the files, not the folders.
    const warehouse = env['TESSERA_LAKEHOUSE_WAREHOUSE'];
    if (warehouse) await rm(join(warehouse, S), { recursive: true, force: true });
  });

  it('sessionizes a day as clickstream.fct_sessions does; a retry of the step writes nothing', async () => {
    // User a: a session from the day before running into the day (left out), a 30-minute gap (same session),
    // a 31-minute gap (new session); user b: a session starting at 23:59 whose next event is the next day.
    await e.execute(
      `CREATE TABLE ${S}.events AS SELECT event_id, event_name, domain_userid, user_id, CAST(ts AS TIMESTAMP) AS derived_tstamp, ` +
        `mkt_source, mkt_medium, mkt_campaign FROM VALUES ` +
        `('e1', 'page_view', 'a', NULL, '2026-11-23 23:50:00', 'bing', NULL, NULL), ` +
        `('e2', 'page_view', 'a', NULL, '2026-11-24 00:10:00', NULL, NULL, NULL), ` +
        `('e3', 'page_view', 'a', NULL, '2026-11-24 08:00:00', NULL, NULL, NULL), ` +
        `('e4', 'struct', 'a', 'u1', '2026-11-24 08:05:00', 'google', 'cpc', 'winter'), ` +
        `('e5', 'page_view', 'a', NULL, '2026-11-24 08:35:00', 'meta', NULL, NULL), ` +
        `('e6', 'page_view', 'a', 'u1', '2026-11-24 09:06:00', 'meta', 'social', NULL), ` +
        `('e7', 'page_view', 'b', NULL, '2026-11-24 23:59:00', NULL, NULL, NULL), ` +
        `('e8', 'page_view', 'b', NULL, '2026-11-25 00:10:00', 'x', NULL, NULL) ` +
        `AS v(event_id, event_name, domain_userid, user_id, ts, mkt_source, mkt_medium, mkt_campaign)`,
    );
    const input = {
      job: 'sessionize' as const,
      stepId: `clickstream.fct_sessions@2026-11-24#${S}`,
      args: { source: `${S}.events`, target: `${S}.sessions`, day: '2026-11-24' },
    };
    let beats = 0;
    const first = await runSparkJob({ ...config, heartbeatMs: 1000 }, input, {
      heartbeat: () => void beats++,
    });
    expect(first).toMatchObject({ status: 'committed', table: `${S}.sessions`, stepId: input.stepId });
    expect(await e.query(`SELECT * FROM ${S}.sessions ORDER BY started_at`)).toEqual([
      {
        session_id: 'a-20261124080000',
        domain_userid: 'a',
        user_id: 'u1',
        started_at: '2026-11-24T08:00:00.000Z',
        ended_at: '2026-11-24T08:35:00.000Z',
        page_views: 2,
        mkt_source: 'google',
        mkt_medium: 'cpc',
        mkt_campaign: 'winter',
      },
      {
        session_id: 'a-20261124090600',
        domain_userid: 'a',
        user_id: 'u1',
        started_at: '2026-11-24T09:06:00.000Z',
        ended_at: '2026-11-24T09:06:00.000Z',
        page_views: 1,
        mkt_source: 'meta',
        mkt_medium: 'social',
        mkt_campaign: null,
      },
      {
        session_id: 'b-20261124235900',
        domain_userid: 'b',
        user_id: null,
        started_at: '2026-11-24T23:59:00.000Z',
        ended_at: '2026-11-24T23:59:00.000Z',
        page_views: 1,
        mkt_source: null,
        mkt_medium: null,
        mkt_campaign: null,
      },
    ]);

    // The worker died after the commit and Temporal retries the step: the job finds its step id, writes nothing.
    const retry = await runSparkJob(config, input);
    expect(retry).toEqual({ ...first, status: 'skipped' });
    const snapshots = await e.query<{ snapshot_id: string; step: string | null }>(
      `SELECT CAST(snapshot_id AS STRING) AS snapshot_id, summary['tessera.step-id'] AS step FROM ${S}.sessions.snapshots`,
    );
    expect(snapshots.filter((s) => s.step === input.stepId).map((s) => s.snapshot_id)).toEqual([
      first.snapshotId,
    ]);
    expect(await e.query(`SELECT count(*) AS n FROM ${S}.sessions`)).toEqual([{ n: 3 }]);
    expect(beats).toBeGreaterThan(0);
  }, 1_200_000);

  it('merges a change log into an SCD2 dimension; the same step again writes nothing', async () => {
    await e.execute(
      `CREATE TABLE ${S}.users_changes AS SELECT user_id, email, country, lsn, CAST(ts AS TIMESTAMP) AS committed_at, op FROM VALUES ` +
        `(1, 'a@x', 'DE', 10L, '2026-11-01 10:00:00', 'c'), (2, 'b@x', 'FR', 11L, '2026-11-01 10:00:00', 'c'), ` +
        // Two changes of user 1 at one commit time collapse to the later one (lsn 13).
        `(1, 'tmp@x', 'DE', 12L, '2026-11-02 10:00:00', 'u'), (1, 'a2@x', 'DE', 13L, '2026-11-02 10:00:00', 'u'), ` +
        // Same state again: no version. Then a delete, and a revival with the old attributes: new versions.
        `(1, 'a2@x', 'DE', 14L, '2026-11-03 10:00:00', 'u'), (2, 'b@x', 'FR', 15L, '2026-11-04 10:00:00', 'd'), ` +
        `(2, 'b@x', 'FR', 16L, '2026-11-05 10:00:00', 'c') ` +
        `AS v(user_id, email, country, lsn, ts, op)`,
    );
    const input = {
      job: 'scd2_merge' as const,
      stepId: `core.dim_users@2026-11-05#${S}`,
      args: {
        changes: `${S}.users_changes`,
        target: `${S}.dim_users`,
        'business-key': 'user_id',
        tracked: 'email,country',
        'order-by': 'lsn',
        'commit-time': 'committed_at',
        op: 'op',
        buckets: 4,
      },
    };
    const first = await runSparkJob(config, input);
    expect(first.status).toBe('committed');
    const versions = `SELECT user_id, email, CAST(valid_from AS DATE) AS vf, CAST(valid_to AS DATE) AS vt, is_current, is_deleted, source_lsn FROM ${S}.dim_users ORDER BY user_id, valid_from`;
    const expected = [
      {
        user_id: 1,
        email: 'a@x',
        vf: '2026-11-01',
        vt: '2026-11-02',
        is_current: false,
        is_deleted: false,
        source_lsn: 10,
      },
      {
        user_id: 1,
        email: 'a2@x',
        vf: '2026-11-02',
        vt: null,
        is_current: true,
        is_deleted: false,
        source_lsn: 13,
      },
      {
        user_id: 2,
        email: 'b@x',
        vf: '2026-11-01',
        vt: '2026-11-04',
        is_current: false,
        is_deleted: false,
        source_lsn: 11,
      },
      {
        user_id: 2,
        email: 'b@x',
        vf: '2026-11-04',
        vt: '2026-11-05',
        is_current: false,
        is_deleted: true,
        source_lsn: 15,
      },
      {
        user_id: 2,
        email: 'b@x',
        vf: '2026-11-05',
        vt: null,
        is_current: true,
        is_deleted: false,
        source_lsn: 16,
      },
    ];
    expect(await e.query(versions)).toEqual(expected);
    // row_hash is the Spark dialect's hash of the tracked attributes (the engine's SCD2 spelling).
    const [h] = await e.query(
      `SELECT count(*) AS bad FROM ${S}.dim_users WHERE row_hash <> CAST(conv(substr(md5(concat_ws(chr(31), ` +
        `coalesce(CAST(email AS STRING), chr(30)), coalesce(CAST(country AS STRING), chr(30)))), 1, 16), 16, -10) AS BIGINT)`,
    );
    expect(h).toEqual({ bad: 0 });

    const retry = await runSparkJob(config, input);
    expect(retry).toEqual({ ...first, status: 'skipped' });
    const steps = await e.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${S}.dim_users.snapshots WHERE summary['tessera.step-id'] = '${input.stepId}'`,
    );
    expect(steps).toEqual([{ n: 1 }]);
    expect(await e.query(versions)).toEqual(expected);
  }, 1_200_000);

  it.skipIf(!TRINO)(
    'Trino reads what Spark wrote, Spark reads what Trino wrote',
    async () => {
      const trino = async (sql: string): Promise<unknown[][]> => {
        let res = (await (
          await fetch(`${TRINO}/v1/statement`, {
            method: 'POST',
            headers: { 'X-Trino-User': 'tessera', 'X-Trino-Catalog': 'iceberg' },
            body: sql,
          })
        ).json()) as { nextUri?: string; data?: unknown[][]; error?: { message: string } };
        const rows: unknown[][] = [];
        for (;;) {
          if (res.error) throw new Error(`trino: ${res.error.message}`);
          rows.push(...(res.data ?? []));
          if (!res.nextUri) return rows;
          res = (await (await fetch(res.nextUri)).json()) as typeof res;
        }
      };
      await e.replaceTable({ table: `${S}.for_trino`, selectSql: `SELECT 1 AS user_id, 'a@x' AS email` });
      expect(await trino(`SELECT user_id, email FROM iceberg.${S}.for_trino`)).toEqual([[1, 'a@x']]);
      await trino(`CREATE TABLE iceberg.${S}.from_trino AS SELECT 7 AS n, 'trino' AS who`);
      try {
        // Spark's Hadoop file system opens file:// locations only (Trino's local:// ones fail, after Iceberg's
        // metadata retries, minutes later): say so at once.
        const files = await trino(`SELECT file_path FROM iceberg.${S}."from_trino$files"`);
        expect(String(files[0]?.[0])).toMatch(/^file:\//);
        expect(await e.query(`SELECT n, who FROM ${S}.from_trino`)).toEqual([{ n: 7, who: 'trino' }]);
      } finally {
        await trino(`DROP TABLE iceberg.${S}.from_trino`);
      }
    },
    600_000,
  );
});
