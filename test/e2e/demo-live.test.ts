/**
 * `tessera demo --live`, small: the simulator writes into real PostgreSQL databases (replayed transactions,
 * captured through wal2json slots), a real Kafka topic and the ads APIs' local fakes (over HTTP), the pipeline
 * ingests from them through real Temporal workflows, and every mart figure reconciles with the simulator's
 * ground truth. It also runs the secrets suite: with known values for the PII key, the databases' password and
 * the ads APIs' tokens, none of them appears in the demo's output (logs, alerts, errors), the Temporal histories
 * of its workflows, the ledger or any warehouse table.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/types.js';
import { FAKE_API_CREDENTIALS } from '../../src/sources/ads/live/fake-apis/index.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePostgres, withDatabase } from '../helpers/postgres.js';
import { ensureTemporalServer, TEMPORAL_ADDRESS } from '../helpers/temporal.js';

// `tcdc_<pid>_` names are swept by the PostgreSQL helper if this process dies before dropping them.
const DBS = { user_db: `tcdc_${process.pid}_live_user`, inventory_db: `tcdc_${process.pid}_live_inventory` };
let baseUrl: string | undefined;
// Other days than test/e2e/demo.test.ts's, so the two demos' data never look alike in the Temporal UI.
const START = '2026-10-05';
const LAST = '2026-10-07';
// Known secret values: a run must leak none of them anywhere.
const PII_KEY = `pii-key-${randomUUID()}`;
const DB_PASSWORD = `db-pass-${randomUUID()}`;
const SECRETS = [PII_KEY, DB_PASSWORD, ...Object.values(FAKE_API_CREDENTIALS)];

/** Keeps only what is not secret; trust auth accepts any password, so the test cluster takes this one. */
const withPassword = (url: string) =>
  url.replace('postgresql://postgres@', `postgresql://postgres:${DB_PASSWORD}@`);

const leaks = (where: string, text: string) =>
  SECRETS.filter((s) => text.includes(s)).map((s) => `${where}: ${s.slice(0, 12)}…`);

/** Every table's rows as text, searched for each secret in the engine. */
async function warehouseLeaks(engine: Engine): Promise<string[]> {
  const tables = await engine.query<{ s: string; t: string }>(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'pg_catalog')`,
  );
  const out: string[] = [];
  for (const { s, t } of tables)
    for (const secret of SECRETS) {
      const [r] = await engine.query<{ n: number }>(
        `SELECT count(*)::INT AS n FROM "${s}"."${t}" AS x WHERE strpos(CAST(x AS VARCHAR), ?) > 0`,
        [secret],
      );
      if ((r?.n ?? 0) > 0) out.push(`warehouse ${s}.${t}: ${secret.slice(0, 12)}…`);
    }
  return out;
}

/** The histories of every workflow on the demo's task queue, payloads decoded, searched for each secret. */
async function temporalLeaks(taskQueue: string): Promise<{ workflows: number; leaks: string[] }> {
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  try {
    const client = new Client({ connection });
    let workflows = 0;
    const out: string[] = [];
    for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      workflows++;
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const text = JSON.stringify(history, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
      );
      out.push(...leaks(`history of ${w.workflowId}`, text));
    }
    return { workflows, leaks: out };
  } finally {
    await connection.close();
  }
}

afterAll(async () => {
  if (!baseUrl) return;
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try {
    for (const name of Object.values(DBS)) {
      const slots = await c.query<{ slot_name: string }>(
        'SELECT slot_name FROM pg_replication_slots WHERE database = $1',
        [name],
      );
      for (const s of slots.rows)
        await c.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  } finally {
    await c.end();
  }
});

describe('the BookMyEvent demo in live mode', () => {
  it(
    'replays into PostgreSQL and Kafka, ingests from them, and reconciles every mart figure',
    { timeout: 400_000 },
    async () => {
      await ensureTemporalServer();
      baseUrl = await ensurePostgres();
      const brokers = await ensureKafka();
      const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-live-'));
      const config = join(dir, 'tessera.yaml');
      const tag = `${process.pid}_${Date.now()}`;
      writeFileSync(
        config,
        [
          'environment: demo-live-test',
          `stateDir: ${dir}`,
          'defaultEngine: duckdb',
          `engines: { duckdb: { type: duckdb, path: ${join(dir, 'w.duckdb')} } }`,
          `ledger: { type: sqlite, path: ${join(dir, 'l.sqlite')} }`,
          `temporal: { address: "${TEMPORAL_ADDRESS}", taskQueue: demo-live-test-${process.pid} }`,
          'sources:',
          `  user_db: { type: postgres, url: "${withPassword(withDatabase(baseUrl, DBS.user_db))}", slot: tlive_${tag}_u, tables: [users, credentials, profile_changes], pii: { email: hash, phone: hash }, replayClock: true }`,
          `  inventory_db: { type: postgres, url: "${withPassword(withDatabase(baseUrl, DBS.inventory_db))}", slot: tlive_${tag}_i, tables: [vendors, listings, purchases, purchase_items], replayClock: true }`,
          `  snowplow: { type: kafka, brokers: [${brokers.map((b) => `"${b}"`).join(', ')}], topic: demo-live-test-${tag}, format: snowplow, groupId: demo-live-test-${tag} }`,
          '  ads: { type: ads_api }',
        ].join('\n'),
      );
      const { stdout, stderr } = await promisify(execFile)(
        'node',
        [
          'bin/tessera.js',
          '--config',
          config,
          'demo',
          '--live',
          '--start',
          START,
          '--scale',
          'small',
          '--days',
          '3',
          '--seed',
          '7',
        ],
        { timeout: 360_000, maxBuffer: 64 * 2 ** 20, env: { ...process.env, TESSERA_PII_KEY: PII_KEY } },
      ).catch((e: Error & { stdout?: string }) => {
        // The demo's own lines say which step failed (a barrier's wait, a mismatch).
        throw new Error(`${e.message}\n--- stdout ---\n${e.stdout ?? ''}`, { cause: e });
      });
      expect(stdout).toMatch(/replayed [1-9]\d* transactions \([1-9]\d* changes\) into PostgreSQL user_db/);
      expect(stdout).toMatch(
        /replayed [1-9]\d* transactions \([1-9]\d* changes\) into PostgreSQL inventory_db/,
      );
      const topic = /produced [1-9]\d* Snowplow events to Kafka topic (\S+)/.exec(stdout)?.[1];
      expect(topic).toBeDefined();
      expect(stdout).toMatch(/serving ads through local API fakes: google http/);
      expect(stdout).toMatch(/backfill completed: \d+ partitions built, 0 failed, 0 skipped/);
      expect(stdout).toMatch(new RegExp(`tick ${LAST}: success`));
      for (const group of ['finance', 'marketing', 'experiments'])
        expect(stdout).toMatch(new RegExp(`publish ${group} @ ${LAST}: published`));
      const reconciled = /reconciled with the simulator's ground truth: (\d+)\/(\d+) figures match/.exec(
        stdout,
      );
      expect(Number(reconciled?.[2])).toBeGreaterThan(20);
      expect(reconciled?.[1]).toBe(reconciled?.[2]);

      // The demo deletes its run's topic when it ends (each run produces a fresh one).
      const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        expect(await admin.listTopics()).not.toContain(topic);
      } finally {
        await admin.disconnect();
      }

      // The warehouse's rows came through the real databases' slots: a row's xmin in PostgreSQL is the xid of
      // the transaction that last wrote it, which logical decoding lands as `_txid` (the landing files carry
      // the simulator's invented xids instead). The demo frees its slots when it ends.
      const engine = await createDuckDbEngine({
        type: 'duckdb',
        path: join(dir, 'demo', 'warehouse.duckdb'),
      });
      try {
        for (const [db, table, key] of [
          ['user_db', 'users', 'user_id'],
          ['inventory_db', 'purchases', 'purchase_id'],
        ] as const) {
          const c = new pg.Client({ connectionString: withDatabase(baseUrl, DBS[db]) });
          await c.connect();
          try {
            const slots = await c.query('SELECT slot_name FROM pg_replication_slots WHERE database = $1', [
              DBS[db],
            ]);
            expect(slots.rows, db).toEqual([]);
            const rows = await c.query<{ k: string; x: string }>(
              `SELECT ${key}::text AS k, xmin::text AS x FROM ${table} ORDER BY ${key}`,
            );
            expect(rows.rows.length, db).toBeGreaterThan(0);
            const last = await engine.query<{ k: string; x: string }>(
              `SELECT CAST(${key} AS VARCHAR) AS k, CAST(arg_max(_txid, _lsn || lpad(CAST(_seq AS VARCHAR), 20, '0')) AS VARCHAR) AS x
                 FROM raw.${db}_${table}_changes GROUP BY ${key}`,
            );
            const byKey = new Map(last.map((r) => [r.k, r.x]));
            expect(
              rows.rows.map((r) => [r.k, byKey.get(r.k)]),
              db,
            ).toEqual(rows.rows.map((r) => [r.k, r.x]));
          } finally {
            await c.end();
          }
        }
        // Secrets: nowhere in the warehouse, the ledger, the output or Temporal's histories.
        const found = [
          ...(await warehouseLeaks(engine)),
          ...leaks('stdout', stdout),
          ...leaks('stderr', stderr),
        ];
        for (const f of [
          'l.sqlite',
          'l.sqlite-wal',
          join('demo', 'ledger.sqlite'),
          join('demo', 'ledger.sqlite-wal'),
        ]) {
          const path = join(dir, f);
          if (existsSync(path)) found.push(...leaks(`ledger ${f}`, readFileSync(path).toString('latin1')));
        }
        // The demo runs on its own queue, `<config queue>-demo`.
        const histories = await temporalLeaks(`demo-live-test-${process.pid}-demo`);
        expect(histories.workflows).toBeGreaterThan(10);
        found.push(...histories.leaks);
        expect(found).toEqual([]);
        // The checks can find what they look for: the key is in the environment the demo ran with.
        expect(leaks('env', JSON.stringify({ TESSERA_PII_KEY: PII_KEY }))).toHaveLength(1);
      } finally {
        await engine.close();
      }
    },
  );
});
