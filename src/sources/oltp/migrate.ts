import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/**
 * SQL migrations of BookMyEvent's two OLTP databases (the services own them in production; the repo keeps
 * a copy so tests, the demo and the bench build the same schemas). Files `NNN_name.sql` per database run in
 * order, each in its own transaction, and are recorded in `schema_migrations` (not captured by CDC).
 */

export type OltpDatabase = 'user_db' | 'inventory_db';

export const OLTP_TABLES: Readonly<Record<OltpDatabase, readonly string[]>> = {
  user_db: ['users', 'credentials', 'profile_changes'],
  inventory_db: ['vendors', 'listings', 'purchases', 'purchase_items'],
};

const here = dirname(fileURLToPath(import.meta.url));

/** Applies the pending migrations of `db` through `client`; returns the versions applied now. */
export async function migrateOltp(client: pg.ClientBase, db: OltpDatabase): Promise<string[]> {
  const dir = join(here, db);
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  await client.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const done = new Set(
    (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map(
      (r) => r.version,
    ),
  );
  const applied: string[] = [];
  for (const file of files) {
    const version = file.replace(/\.sql$/, '');
    if (done.has(version)) continue;
    const sql = await readFile(join(dir, file), 'utf8');
    await client.query('BEGIN');
    try {
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK');
      throw new Error(`migration ${db}/${file} failed: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    applied.push(version);
  }
  return applied;
}
