/**
 * Runs the ledger contract on PostgreSQL when TESSERA_TEST_PG_URL is set
 * (`eval "$(scripts/services/postgres.sh env)"`); otherwise the suite shows as skipped.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/index.js';
import { openPostgresLedger } from '../../src/ledger/postgres.js';
import { LATEST_SCHEMA_VERSION } from '../../src/ledger/sql.js';
import { ledgerContract, mat } from './contract.js';

const url = process.env['TESSERA_TEST_PG_URL'];

if (!url) {
  describe('PostgreSQL ledger', () => {
    it.skip('needs TESSERA_TEST_PG_URL (eval "$(scripts/services/postgres.sh env)")', () => undefined);
  });
} else {
  // One schema per test, dropped at the end: tests never see each other's rows.
  const prefix = `tessera_t${process.pid}_${Date.now().toString(36)}`;
  const schemas: string[] = [];
  const freshSchema = (): string => {
    const s = `${prefix}_${schemas.length}`;
    schemas.push(s);
    return s;
  };
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await client.end();
  });

  ledgerContract('postgres', () => openPostgresLedger(url, { schema: freshSchema() }));

  describe('PostgreSQL ledger schema', () => {
    it('migrates once even when several processes open it at once, and persists', async () => {
      const schema = freshSchema();
      const ledgers = await Promise.all(
        Array.from({ length: 4 }, () => openLedger({ type: 'postgres', url, schema })),
      );
      await Promise.all(ledgers.map((l, i) => l.recordMaterialization(mat({ runId: `r${i}` }))));
      await Promise.all(ledgers.map((l) => l.close()));

      const again = await openPostgresLedger(url, { schema });
      expect(await again.history('core.dim_users', '2026-11-24')).toHaveLength(4);
      await again.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ version: string }>(
        `SELECT version FROM "${schema}".schema_version`,
      );
      await client.end();
      expect(rows.map((r) => Number(r.version))).toEqual(
        Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
      );
    });

    it('upgrades a ledger written before the latest table: creates and fills it once at open', async () => {
      const schema = freshSchema();
      const old = await openPostgresLedger(url, { schema });
      await old.recordMaterialization(mat({ runId: 'ok' }));
      await old.recordMaterialization(
        mat({ runId: 'failed', status: 'failed', error: 'x', startedAt: '2026-11-26T00:00:00Z' }),
      );
      await old.recordMaterialization(mat({ assetKey: 'core.other', partitionKey: '', status: 'failed' }));
      await old.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP TABLE "${schema}".latest_materializations`);
      await client.query(`DELETE FROM "${schema}".schema_version WHERE version > 1`);

      const upgraded = await openPostgresLedger(url, { schema });
      const view = await upgraded.view(['core.dim_users', 'core.other']);
      expect(view.latest('core.dim_users', '2026-11-24')?.runId).toBe('failed');
      expect(view.latestSuccess('core.dim_users', '2026-11-24')).toStrictEqual(mat({ runId: 'ok' }));
      expect(view.latest('core.other', '')?.status).toBe('failed');
      expect(view.latestSuccess('core.other', '')).toBeUndefined();
      await upgraded.close();
      await (await openPostgresLedger(url, { schema })).close(); // nothing left to migrate
      const { rows } = await client.query<{ version: string }>(
        `SELECT version FROM "${schema}".schema_version ORDER BY version`,
      );
      await client.end();
      expect(rows.map((r) => Number(r.version))).toEqual(
        Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
      );
    });

    it('rejects schema names that would need quoting', async () => {
      await expect(openPostgresLedger(url, { schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(/invalid/);
    });
  });
}
