import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { IngestPassResult } from '../../src/activities/types.js';
import { asset, daily, defineDefinitions } from '../../src/dsl/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { withJobScope } from '../../src/engines/core/job-scope.js';
import { BigQueryClient } from '../../src/engines/bigquery/bigquery-client.js';
import { BigQueryDialect } from '../../src/engines/bigquery/bigquery-dialect.js';
import { bigqueryTypes } from '../../src/engines/bigquery/bigquery-types.js';
import { rowsFromRaw } from '../../src/engines/bigquery/bigquery-values.js';
import { bigqueryConfigSchema, createBigQueryEngine } from '../../src/engines/bigquery/bigquery-engine.js';
import { startEmulator, type EmulatorProcess } from '../../src/engines/bigquery/bigquery-emulator.js';
import { PartitionMismatchError } from '../../src/engines/errors.js';
import type { Engine, PartitionSelector } from '../../src/engines/types.js';
import type { SourceLoader } from '../../src/sources/types.js';

/**
 * The BigQuery engine: rendering and value conversion without a server, then the engine on the emulator
 * (a private one for this file, started from the binary scripts/services/bigquery.sh builds).
 * Where the emulator differs from BigQuery, the test says so.
 */

const BIN = process.env['TESSERA_BQ_EMULATOR_BIN'];
const PROJECT = 'test-engine';
const d = new BigQueryDialect();

describe('BigQuery dialect (no server)', () => {
  it('quotes with backticks and escapes string literals with backslashes', () => {
    expect(d.table('core.dim_users')).toBe('`core`.`dim_users`');
    expect(d.quote('we`ird')).toBe('`we\\`ird`');
    expect(d.literal("it's a \\ test\n")).toBe("'it\\'s a \\\\ test\\n'");
    expect(d.timestampLiteral('2026-11-24T01:00:00+02:00')).toBe("TIMESTAMP '2026-11-23 23:00:00.000000'");
  });

  it('stages into the scratch dataset under a per-operation token', () => {
    expect(d.createTempTableAs('__tessera_stage', 'SELECT 1 AS x')).toBe(
      'CREATE OR REPLACE TABLE `tessera_scratch`.`__TX____tessera_stage` AS SELECT 1 AS x',
    );
    expect(d.describeSql({ schema: 'core', name: 't' })).toContain('`core`.INFORMATION_SCHEMA.COLUMNS');
  });

  it('maps GoogleSQL types: every integer alias is INT64, parameterized types keep their parameters', () => {
    expect(bigqueryTypes.parse('INT64')).toMatchObject({ family: 'integer', rank: 8 });
    expect(bigqueryTypes.parse('BIGINT').rank).toBe(bigqueryTypes.parse('SMALLINT').rank);
    expect(bigqueryTypes.parse('NUMERIC(10, 2)')).toMatchObject({
      family: 'decimal',
      precision: 10,
      scale: 2,
    });
    expect(bigqueryTypes.parse('NUMERIC')).toMatchObject({ precision: 38, scale: 9 });
    expect(bigqueryTypes.parse('STRING(10)').family).toBe('string');
    expect(bigqueryTypes.parse('TIMESTAMP').family).toBe('timestamptz');
    expect(bigqueryTypes.parse('ARRAY<INT64>').family).toBe('nested');
    expect(bigqueryTypes.decimal(40, 2)).toBe('BIGNUMERIC(40, 2)');
  });

  it('converts raw REST rows to boundary values', () => {
    const fields = [
      { name: 'small', type: 'INTEGER' },
      { name: 'big', type: 'INTEGER' },
      { name: 'dec', type: 'NUMERIC' },
      { name: 'ts', type: 'TIMESTAMP' },
      { name: 'ts_us', type: 'TIMESTAMP' },
      { name: 'ok', type: 'BOOLEAN' },
      { name: 'd', type: 'DATE' },
      { name: 'xs', type: 'INTEGER', mode: 'REPEATED' },
      { name: 'nothing', type: 'STRING' },
    ];
    const raw = [
      {
        f: [
          { v: '42' },
          { v: '9007199254740993' },
          { v: '12.34' },
          { v: '1795525500000000' },
          { v: '1795525500123456' },
          { v: 'true' },
          { v: '2026-11-24' },
          { v: [{ v: '1' }, { v: '2' }] },
          { v: null },
        ],
      },
    ];
    expect(rowsFromRaw(fields, raw)).toEqual([
      {
        small: 42,
        big: '9007199254740993',
        dec: 12.34,
        ts: '2026-11-24T13:05:00.000Z',
        ts_us: '2026-11-24T13:05:00.123456Z',
        ok: true,
        d: '2026-11-24',
        xs: [1, 2],
        nothing: null,
      },
    ]);
  });

  it('takes either an endpoint or an emulator binary to start, not both', () => {
    expect(() =>
      bigqueryConfigSchema.parse({
        type: 'bigquery',
        projectId: 'p',
        apiEndpoint: 'http://127.0.0.1:1',
        emulatorBinary: '/bin/true',
      }),
    ).toThrow(/either apiEndpoint or emulatorBinary/);
  });
});

describe.skipIf(!BIN)('BigQuery engine on the emulator', { timeout: 180_000 }, () => {
  // Datasets unique to this run, on an emulator of this file's own.
  const run = `e${randomUUID().slice(0, 8)}`;
  let emulator: EmulatorProcess | undefined;
  let URL = '';
  beforeAll(async () => {
    emulator = await startEmulator(BIN ?? '', PROJECT);
    URL = emulator.endpoint;
  }, 120_000);
  afterAll(async () => {
    await emulator?.stop();
  });
  const open = (): Promise<Engine> =>
    createBigQueryEngine(
      bigqueryConfigSchema.parse({ type: 'bigquery', projectId: PROJECT, apiEndpoint: URL }),
    );
  const client = (): BigQueryClient =>
    new BigQueryClient({ projectId: PROJECT, apiEndpoint: URL, scratchDataset: `${run}_scratch` });
  const day = (v: string): PartitionSelector => ({ type: 'values', values: { day: v } });
  const sales = (rows: readonly (readonly [string, number, number])[]): string =>
    `SELECT * FROM UNNEST([${rows.map(([dd, id, amount]) => `STRUCT('${dd}' AS day, ${id} AS id, CAST(${amount} AS FLOAT64) AS amount)`).join(', ')}])`;

  it('replaces a partition whole, idempotently, and touches no other partition', async () => {
    const e = await open();
    const t = `${run}_mart.sales`;
    const first = await e.replacePartition({
      table: t,
      partition: day('d1'),
      selectSql: sales([
        ['d1', 1, 10],
        ['d1', 2, 20],
      ]),
    });
    await e.replacePartition({ table: t, partition: day('d2'), selectSql: sales([['d2', 3, 30]]) });
    const again = await e.replacePartition({
      table: t,
      partition: day('d1'),
      selectSql: sales([
        ['d1', 2, 20],
        ['d1', 1, 10],
      ]),
    });
    expect(again).toMatchObject({ rowCount: 2, dataVersion: first.dataVersion });
    const changed = await e.replacePartition({
      table: t,
      partition: day('d1'),
      selectSql: sales([['d1', 1, 11]]),
    });
    expect(changed.dataVersion).not.toBe(first.dataVersion);
    expect(await e.query(`SELECT day, id, amount FROM ${t} ORDER BY id`)).toEqual([
      { day: 'd1', id: 1, amount: 11 },
      { day: 'd2', id: 3, amount: 30 },
    ]);
    await e.close();
  });

  it('refuses rows outside the partition and keeps the old rows when the select fails', async () => {
    const e = await open();
    const t = `${run}_mart.refused`;
    await e.replacePartition({ table: t, partition: day('d1'), selectSql: sales([['d1', 1, 10]]) });
    await expect(
      e.replacePartition({
        table: t,
        partition: day('d1'),
        selectSql: sales([
          ['d1', 2, 20],
          ['d2', 3, 30],
        ]),
      }),
    ).rejects.toBeInstanceOf(PartitionMismatchError);
    await expect(
      e.replacePartition({
        table: t,
        partition: day('d1'),
        selectSql: `SELECT 'd1' AS day, 5 AS id, CAST('not a number' AS FLOAT64) AS amount`,
      }),
    ).rejects.toThrow();
    expect(await e.query(`SELECT id FROM ${t}`)).toEqual([{ id: 1 }]);
    await e.close();
  });

  it('sends the delete and the insert of a replace together: a failure before the commit writes nothing', async () => {
    const t = `${run}_mart.crash`;
    const seen: string[] = [];
    const e = await createBigQueryEngine(
      bigqueryConfigSchema.parse({ type: 'bigquery', projectId: PROJECT, apiEndpoint: URL }),
      {
        afterStep: (op, step) => {
          seen.push(step);
          if (
            op === 'replacePartition' &&
            step === 'inserted' &&
            seen.filter((s) => s === 'inserted').length === 2
          )
            throw new Error('injected: worker died after the insert was issued');
        },
      },
    );
    await e.replacePartition({ table: t, partition: day('d1'), selectSql: sales([['d1', 1, 10]]) });
    await expect(
      e.replacePartition({ table: t, partition: day('d1'), selectSql: sales([['d1', 9, 90]]) }),
    ).rejects.toThrow('injected');
    expect(await e.query(`SELECT id FROM ${t}`)).toEqual([{ id: 1 }]);
    await e.close();
  });

  it('a retried step re-attaches to the job its predecessor started instead of running it again', async () => {
    const c = client();
    const t = `\`${run}_jobs\`.\`t\``;
    await c.run(`CREATE SCHEMA IF NOT EXISTS \`${run}_jobs\``);
    await c.run(`CREATE TABLE ${t} (n INT64)`);
    const insert = `INSERT INTO ${t} (n) VALUES (1)`;
    const attempt = (key: string) =>
      withJobScope({ key }, () =>
        // A new client per attempt: a restarted worker remembers nothing.
        client().job(insert, { write: true, txId: 'x_' }),
      );
    const first = await attempt(`${run}/step-a`);
    const retry = await attempt(`${run}/step-a`);
    expect(first.attached).toBe(false);
    expect(retry).toMatchObject({ attached: true, jobId: first.jobId });
    expect(await c.query(`SELECT count(*) AS n FROM ${t}`)).toEqual([{ n: 1 }]);
    // Another step (or run) is another job.
    const other = await attempt(`${run}/step-b`);
    expect(other.jobId).not.toBe(first.jobId);
    expect(await c.query(`SELECT count(*) AS n FROM ${t}`)).toEqual([{ n: 2 }]);
  });

  it('the materialize activity scopes its jobs by run and step: a retry re-attaches, another run writes anew', async () => {
    // GENERATE_UUID makes every real execution of the select visible: a re-attached job returns the rows
    // its first execution staged, so the retry's data version equals the first attempt's.
    const key = `${run}_act.ids`;
    const definitions = defineDefinitions({
      assets: [
        asset({
          key,
          kind: 'custom',
          partitions: daily({ start: '2026-11-01' }),
          sql: 'SELECT GENERATE_UUID() AS u',
          checks: [{ type: 'row_count', name: 'one_row', min: 1 }],
        }),
      ],
    });
    const e = await open();
    try {
      const acts = createActivities({
        definitions,
        engines: { bigquery: e },
        defaultEngine: 'bigquery',
        ledger: new MemoryLedger(),
        alertRoutes: [],
        latenessMs: 0,
        logger: pino({ level: 'silent' }),
      });
      const step = {
        id: `${key}@2026-11-02`,
        assetKey: key,
        partitionKey: '2026-11-02',
        reason: 'missing' as const,
        upstream: [],
        inputs: [],
      };
      const first = await acts.materializeStep({ runId: `${run}-r1`, step, force: false });
      // A new engine (a restarted worker remembers nothing) running the same run's step again.
      const e2 = await open();
      try {
        const retried = await createActivities({
          definitions,
          engines: { bigquery: e2 },
          defaultEngine: 'bigquery',
          ledger: new MemoryLedger(),
          alertRoutes: [],
          latenessMs: 0,
          logger: pino({ level: 'silent' }),
        }).materializeStep({ runId: `${run}-r1`, step, force: false });
        expect(first.status).toBe('success');
        expect(retried).toMatchObject({ status: 'success', dataVersion: first.dataVersion, rowCount: 1 });
      } finally {
        await e2.close();
      }
      const other = await acts.materializeStep({ runId: `${run}-r2`, step, force: true });
      expect(other.status).toBe('success');
      expect(other.dataVersion).not.toBe(first.dataVersion);
      expect(await e.query(`SELECT count(*) AS n FROM ${key}`)).toEqual([{ n: 1 }]);
    } finally {
      await e.close();
    }
  });

  it('an ingest pass restates under its own job scope: a retried pass re-attaches, a later pass of the run writes anew', async () => {
    // The ingest workflow's run id is the same for every landing pass. A pass first lands the re-opened partition
    // (no scope: fresh jobs), then restates it (materializes it again under a job scope). Keyed by run and step
    // only, a later pass's restatement would re-attach to the earlier pass's jobs and write nothing.
    // GENERATE_UUID makes every real execution visible: a write that really runs gives a new data version; a
    // re-attached one leaves the table as the pass's landing wrote it, and reports that version.
    const key = `${run}_ing.events`;
    const partitionKey = '2026-11-02';
    const definitions = defineDefinitions({
      assets: [
        asset({
          key,
          kind: 'fact',
          partitions: daily({ start: '2026-11-01' }),
          ingest: { source: 'src', stream: 'events' },
        }),
      ],
    });
    const ledger = new MemoryLedger();
    /** Data versions the loader's writes reported, in order. */
    const versions: string[] = [];
    // A worker: its engine, and a loader that lands the partition anew on every call (as late data would).
    const worker = async () => {
      const engine = await open();
      const loader: SourceLoader = {
        async ingest(req) {
          const selector = { type: 'values' as const, values: { _partition_key: req.partitionKey } };
          const r = await engine.replacePartition({
            table: req.assetKey,
            partition: selector,
            selectSql: `SELECT GENERATE_UUID() AS u, '${req.partitionKey}' AS _partition_key`,
          });
          versions.push(r.dataVersion);
          return { rowCount: r.rowCount, dataVersion: r.dataVersion, partition: selector };
        },
        land: () =>
          Promise.resolve({ landed: 1, quarantined: 0, reopened: [{ stream: 'events', partitionKey }] }),
      };
      const acts = createActivities({
        definitions,
        engines: { bigquery: engine },
        defaultEngine: 'bigquery',
        ledger,
        loaders: { src: loader },
        alertRoutes: [],
        latenessMs: 0,
        logger: pino({ level: 'silent' }),
      });
      return { engine, acts };
    };
    const w1 = await worker();
    const w2 = await worker();
    try {
      const step = { id: `${key}@${partitionKey}`, assetKey: key, partitionKey, reason: 'missing' as const };
      const built = await w1.acts.materializeStep({
        runId: `${run}-first`,
        step: { ...step, upstream: [], inputs: [] },
        force: false,
      });
      expect(built.status).toBe('success');
      /** One pass of the ingest workflow as Temporal runs it (the activity's identity names the pass). */
      const pass = async (w: typeof w1, activityId: string) => {
        const env = new MockActivityEnvironment({
          activityId,
          workflowExecution: { workflowId: `${run}-ingest`, runId: `${run}-wf-run` },
        });
        const ingest = w.acts.ingestSource?.bind(w.acts);
        if (!ingest) throw new Error('no ingestSource activity');
        versions.length = 0;
        const r: IngestPassResult = await env.run(() => ingest({ source: 'src', runId: `${run}-ingest` }));
        expect(r.restated).toEqual([step.id]);
        const [landed, restated] = versions;
        const recorded = (await ledger.view([key])).latestSuccess(key, partitionKey)?.dataVersion;
        expect(recorded).toBe(restated);
        return { landed, restated };
      };
      const first = await pass(w1, '1');
      expect(first.restated).not.toBe(first.landed); // written anew
      // The same pass retried on another worker (the first died after restating): it re-attaches.
      const retried = await pass(w2, '1');
      expect(retried.restated).toBe(retried.landed);
      // A later pass of the same run restates the partition again, and writes it anew.
      const later = await pass(w1, '2');
      expect(later.restated).not.toBe(later.landed);
      expect(await w1.engine.query(`SELECT count(*) AS n FROM ${key}`)).toEqual([{ n: 1 }]);
    } finally {
      await w1.engine.close();
      await w2.engine.close();
    }
  });

  it('dry runs report bytes and change nothing', async () => {
    const c = client();
    const t = `\`${run}_dry\`.\`t\``;
    await c.run(`CREATE SCHEMA IF NOT EXISTS \`${run}_dry\``);
    await c.run(
      `CREATE TABLE ${t} AS SELECT x, CONCAT('row ', CAST(x AS STRING)) AS label FROM UNNEST(GENERATE_ARRAY(1, 50)) AS x`,
    );
    const all = await c.dryRun(`SELECT * FROM ${t}`);
    const few = await c.dryRun(`SELECT * FROM ${t} WHERE x <= 5`);
    expect(all).toBeGreaterThan(0);
    // Emulator: the bytes of the result it computed; BigQuery: the bytes of the columns it would read.
    expect(few).toBeLessThan(all);
    await c.dryRun(`DELETE FROM ${t} WHERE TRUE`);
    expect(await c.query(`SELECT count(*) AS n FROM ${t}`)).toEqual([{ n: 50 }]);
  });

  it('on the emulator, a query result goes to a table in the scratch dataset, not to a new dataset per job', async () => {
    const datasets = async (): Promise<string[]> => {
      const r = await fetch(`${URL}/bigquery/v2/projects/${PROJECT}/datasets?all=true`);
      const body = (await r.json()) as { datasets?: { datasetReference: { datasetId: string } }[] };
      return (body.datasets ?? []).map((d) => d.datasetReference.datasetId).sort();
    };
    const scratch = `${run}_results`;
    const viaScratch = new BigQueryClient({
      projectId: PROJECT,
      apiEndpoint: URL,
      scratchDataset: scratch,
      resultsInScratch: true,
    });
    expect(await viaScratch.query(`SELECT 1 AS warm`)).toEqual([{ warm: 1 }]);
    const before = await datasets();
    expect(before).toContain(scratch);
    for (let i = 0; i < 5; i++)
      expect(await viaScratch.query(`WITH t AS (SELECT ${i} AS n) SELECT n FROM t`)).toEqual([{ n: i }]);
    // The emulator made no dataset for the results (each would hold a GoogleSQL catalog of ~15-20 MB).
    expect(await datasets()).toEqual(before);
    const anonymous = client();
    await anonymous.query(`SELECT 1 AS one`);
    expect((await datasets()).length).toBeGreaterThan(before.length);
  });

  it('merges SCD2 changes into versions, and a replayed batch changes nothing', async () => {
    const e = await open();
    const target = `${run}_core.dim_users`;
    const changes = `SELECT * FROM UNNEST([
      STRUCT(1 AS id, 'oslo' AS city, TIMESTAMP '2026-01-01 01:00:00' AS ts, 1 AS lsn, 'c' AS op),
      STRUCT(1, 'paris', TIMESTAMP '2026-01-01 02:00:00', 2, 'u'),
      STRUCT(2, 'rome', TIMESTAMP '2026-01-01 01:00:00', 3, 'c')])`;
    const req = {
      target,
      changes,
      businessKey: ['id'],
      tracked: ['city'],
      orderBy: 'lsn',
      commitTimeColumn: 'ts',
      opColumn: 'op',
    };
    const first = await e.mergeScd2FromChanges(req);
    expect(first).toMatchObject({ appliedChanges: 3, insertedVersions: 3, rowCount: 3 });
    const again = await e.mergeScd2FromChanges(req);
    expect(again).toMatchObject({ appliedChanges: 0, insertedVersions: 0, dataVersion: first.dataVersion });
    expect(
      await e.query(
        `SELECT id, city, valid_from, valid_to, is_current FROM ${target} ORDER BY id, valid_from`,
      ),
    ).toEqual([
      {
        id: 1,
        city: 'oslo',
        valid_from: '2026-01-01T01:00:00.000Z',
        valid_to: '2026-01-01T02:00:00.000Z',
        is_current: false,
      },
      { id: 1, city: 'paris', valid_from: '2026-01-01T02:00:00.000Z', valid_to: null, is_current: true },
      { id: 2, city: 'rome', valid_from: '2026-01-01T01:00:00.000Z', valid_to: null, is_current: true },
    ]);
    const check = await e.runCheck({ type: 'scd2_intervals' }, target, { scd2: { businessKey: ['id'] } });
    expect(check).toMatchObject({ passed: true, failingRows: 0 });
    await e.close();
  });

  it('emulator difference: a transaction script that fails keeps its earlier statements (BigQuery rolls back)', async () => {
    const c = client();
    const t = `\`${run}_atomic\`.\`t\``;
    await c.run(`CREATE SCHEMA IF NOT EXISTS \`${run}_atomic\``);
    await c.run(`CREATE TABLE ${t} AS SELECT 1 AS id`);
    const script =
      `BEGIN TRANSACTION;\nDELETE FROM ${t} WHERE TRUE;\n` +
      `INSERT INTO ${t} (id) SELECT CAST(ERROR('injected') AS INT64);\nCOMMIT TRANSACTION;`;
    await expect(c.run(script)).rejects.toThrow(/injected/);
    // On BigQuery the DELETE is rolled back with the failed INSERT: 1 row. The emulator keeps it: 0 rows.
    expect(await c.query(`SELECT count(*) AS n FROM ${t}`)).toEqual([{ n: 0 }]);
  });

  it('runs checks', async () => {
    const e = await open();
    const t = `${run}_core.orders`;
    await e.replaceTable({
      table: t,
      selectSql: `SELECT * FROM UNNEST([STRUCT(1 AS id, 'paid' AS status), STRUCT(1, 'lost'), STRUCT(2, CAST(NULL AS STRING))])`,
    });
    expect(await e.runCheck({ type: 'unique', columns: ['id'] }, t)).toMatchObject({
      passed: false,
      failingRows: 2,
    });
    expect(await e.runCheck({ type: 'not_null', columns: ['status'] }, t)).toMatchObject({ failingRows: 1 });
    expect(
      await e.runCheck({ type: 'accepted_values', column: 'status', values: ['paid'] }, t),
    ).toMatchObject({ failingRows: 1 });
    await e.close();
  });
});
