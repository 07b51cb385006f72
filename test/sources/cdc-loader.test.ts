/**
 * PostgresCdcLoader and the simulator's live OLTP writer against a real PostgreSQL 15 with wal2json: the
 * replay clock puts simulated commit times on real transactions, ingest reports a day's rows and the
 * watermark, an idle database still advances it, the first use snapshots what is there, and a second
 * replay applies nothing twice.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { writeOltpLive } from '../../src/simulator/live/oltp-writer.js';
import { simulate } from '../../src/simulator/index.js';
import { PostgresCdcLoader, type PostgresCdcLoaderOptions } from '../../src/sources/cdc/loader.js';
import { OLTP_TABLES } from '../../src/sources/oltp/migrate.js';
import type { IngestRequest } from '../../src/sources/types.js';
import { scratchDatabase, uniqueName, type ScratchDatabase } from '../helpers/postgres.js';

const DAY = '2026-11-01';
const PII_KEY = 'cdc-loader-test-key-0123';
let landingDir: string;
let db: ScratchDatabase;
let engine: Engine;
const loaders: PostgresCdcLoader[] = [];

function loader(extra: Partial<PostgresCdcLoaderOptions> = {}): PostgresCdcLoader {
  const l = new PostgresCdcLoader({
    engine,
    url: db.url,
    database: 'user_db',
    tables: OLTP_TABLES.user_db,
    slot: uniqueName('t_loader'),
    pii: { email: 'hash', phone: 'hash', password_hash: 'drop' },
    piiKey: PII_KEY,
    ...extra,
  });
  loaders.push(l);
  return l;
}

const request = (stream: string, day: string): IngestRequest => ({
  assetKey: `raw.user_db_${stream}_changes`,
  stream,
  partitionKey: day,
  window: {
    start: `${day}T00:00:00.000Z`,
    end: DateTime.fromISO(day, { zone: 'utc' }).plus({ days: 1 }).toISO() ?? '',
  },
  heartbeat: () => undefined,
});

beforeAll(async () => {
  landingDir = mkdtempSync(join(tmpdir(), 'tessera-cdc-loader-'));
  await simulate({ seed: 3, start: DAY, days: 1, landingDir, scale: 'small' });
}, 60_000);

afterEach(async () => {
  for (const l of loaders.splice(0)) {
    await l.dropSlot().catch(() => undefined);
    await l.close();
  }
  await engine?.close();
  await db?.drop();
});

afterAll(() => undefined);

async function fresh(): Promise<void> {
  db = await scratchDatabase('user_db');
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
}

describe('PostgresCdcLoader', () => {
  it('lands a replayed day at its simulated commit times and reports it; a replay is applied once', async () => {
    await fresh();
    const l = loader({ replayClock: true });
    await l.init();
    const first = await writeOltpLive({ landingDir, urls: { user_db: db.url }, migrate: false });
    expect(first.user_db?.transactions).toBeGreaterThan(5);
    expect(first.user_db?.skipped).toBe(0);

    const r = await l.ingest(request('users', DAY));
    const [count] = await engine.query<{ n: number; lo: string; hi: string }>(
      `SELECT count(*)::INTEGER AS n, CAST(min(_commit_time) AS VARCHAR) AS lo, CAST(max(_commit_time) AS VARCHAR) AS hi
         FROM raw.user_db_users_changes`,
    );
    expect(count?.n).toBeGreaterThan(0);
    expect(r.rowCount).toBe(count?.n);
    // Simulated time, not the wall clock of the replay.
    expect(count?.lo.slice(0, 10)).toBe(DAY);
    expect(count?.hi.slice(0, 10)).toBe(DAY);
    expect(r.partition).toMatchObject({ type: 'window', column: '_commit_time' });
    expect(r.dataVersion).toMatch(/^\d+:/);
    expect(r.watermark?.source).toBe('user_db');
    // PII at the door: hashed email, no clear email or password hash column.
    const cols = ((await engine.describeTable('raw.user_db_users_changes')) ?? []).map((c) => c.name);
    expect(cols).toContain('email_hash');
    expect(cols).not.toContain('email');
    const creds = ((await engine.describeTable('raw.user_db_credentials_changes')) ?? []).map((c) => c.name);
    expect(creds).not.toContain('password_hash');

    // The other day has nothing; the same day again reports the same version.
    expect((await l.ingest(request('users', '2026-11-02'))).rowCount).toBe(0);
    expect((await l.ingest(request('users', DAY))).dataVersion).toBe(r.dataVersion);

    const again = await writeOltpLive({ landingDir, urls: { user_db: db.url }, migrate: false });
    expect(again.user_db?.transactions).toBe(0);
    expect(again.user_db?.skipped).toBe(first.user_db?.transactions);
    expect((await l.ingest(request('users', DAY))).rowCount).toBe(r.rowCount);
  });

  it('advances the watermark on an idle database and snapshots existing rows on first use', async () => {
    await fresh();
    await db.client.query(
      `INSERT INTO users (user_id, email, country) VALUES (1, 'a@example.com', 'US'), (2, 'b@example.com', 'FR')`,
    );
    const l = loader();
    const first = await l.land(() => undefined);
    expect(first.landed).toBe(2);
    const ops = await engine.query<{ op: string }>(
      `SELECT DISTINCT _op AS op FROM raw.user_db_users_changes`,
    );
    expect(ops).toEqual([{ op: 'r' }]);
    await new Promise((r) => setTimeout(r, 50));
    const idle = await l.land(() => undefined);
    expect(idle.landed).toBe(0);
    expect(idle.watermark?.watermark ?? '').toBeTruthy();
    expect((idle.watermark?.watermark ?? '') > (first.watermark?.watermark ?? '')).toBe(true);

    // Without the replay clock a change carries the real commit time (a replay message is ignored).
    await db.client.query('BEGIN');
    await db.client.query(
      `SELECT pg_logical_emit_message(true, 'tessera_replay_clock', '2020-01-01T00:00:00Z')`,
    );
    await db.client.query(`UPDATE users SET country = 'DE' WHERE user_id = 1`);
    await db.client.query('COMMIT');
    const changed = await l.land(() => undefined);
    expect(changed.landed).toBe(1);
    const [u] = await engine.query<{ t: string }>(
      `SELECT CAST(_commit_time AS VARCHAR) AS t FROM raw.user_db_users_changes WHERE _op = 'u'`,
    );
    expect(u?.t.slice(0, 4)).not.toBe('2020');
  });
});
