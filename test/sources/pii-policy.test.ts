/**
 * BookMyEvent's PII policy (issue 15 finding 8): every personal column of the User DB has a rule, the configs of
 * the live sources carry the same rules as the landing-file path, and a simulated User DB landed through the
 * landing loader leaves no name, birth date, email, phone or password hash in clear anywhere in the warehouse.
 * No asset may read a dropped column or the clear name of a hashed one.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookMyEvent } from '../../src/assets/index.js';
import { BOOKMYEVENT_PII } from '../../src/assets/pii.js';
import { parse as parseYaml } from 'yaml';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { simulate, type GroundTruth } from '../../src/simulator/index.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';

const POLICY = BOOKMYEVENT_PII['user_db'] ?? {};
const KEY = 'pii-policy-test-key-0123456789';
const DROPPED = Object.entries(POLICY)
  .filter(([, a]) => a === 'drop')
  .map(([c]) => c.split('.').pop() ?? c);
/** The User DB's personal text columns, whatever the policy says about them. */
const PERSONAL = ['email', 'phone', 'first_name', 'last_name', 'password_hash'];
const HASHED = Object.entries(POLICY)
  .filter(([, a]) => a === 'hash')
  .map(([c]) => c.split('.').pop() ?? c);

describe('the PII policy is declared once', () => {
  it('covers each personal column of the User DB', () => {
    expect(POLICY).toMatchObject({
      email: 'hash',
      phone: 'hash',
      first_name: 'drop',
      last_name: 'drop',
      date_of_birth: 'drop',
      password_hash: 'drop',
      'profile_changes.old_value': 'hash',
      'profile_changes.new_value': 'hash',
    });
  });

  it.each(['live', 'production'])(
    'config/%s.yaml applies the same rules to the User DB',
    async (environment) => {
      // Read as written: production's file needs a dozen secrets to interpolate, and `pii` holds none.
      const raw = parseYaml(await readFile(join('config', `${environment}.yaml`), 'utf8')) as {
        sources: Record<string, { type: string; pii?: unknown }>;
      };
      expect(raw.sources['user_db']?.type).toBe('postgres');
      expect(raw.sources['user_db']?.pii).toEqual(POLICY);
    },
  );

  it('no asset reads a dropped column or the clear name of a hashed one', () => {
    for (const a of bookMyEvent.assets) {
      const text = JSON.stringify({ sql: a.sql, scd2: a.scd2, snapshot: a.snapshot, checks: a.checks });
      for (const c of [...DROPPED, ...HASHED]) {
        expect(new RegExp(`\\b${c}\\b`).test(text), `${a.key} reads ${c}`).toBe(false);
      }
    }
  });
});

describe('a simulated User DB landed through the landing files', () => {
  let dir: string;
  let engine: Engine;
  let truth: GroundTruth;
  /** Every personal value the simulator wrote, in clear. */
  const clear = new Set<string>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-pii-policy-'));
    truth = await simulate({ seed: 7, start: '2026-11-23', days: 5, landingDir: dir, scale: 'small' });
    for (const f of truth.files.debezium.filter((p) => p.includes('/user_db/'))) {
      for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
        if (line.trim() === '' || line === 'null') continue;
        const v = JSON.parse(line) as { payload?: Record<string, unknown> } & Record<string, unknown>;
        const p = (v.payload ?? v) as { after?: Record<string, unknown> | null };
        for (const [k, x] of Object.entries(p.after ?? {})) {
          // The audit's old/new values repeat these (and hold statuses, which are not personal).
          if (PERSONAL.includes(k) && typeof x === 'string' && x.length >= 4) clear.add(x);
        }
      }
    }
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
    const loaders = landingLoaders({ engine, landingDir: dir, pii: BOOKMYEVENT_PII, piiKey: KEY });
    await loaders['user_db']?.land?.(() => undefined);
  }, 120_000);
  afterAll(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lands the users without names or birth dates, contact details hashed', async () => {
    const users = (await engine.describeTable('raw.user_db_users_changes'))?.map((c) => c.name) ?? [];
    expect(users).toEqual(expect.arrayContaining(['user_id', 'email_hash', 'phone_hash', 'country']));
    for (const c of ['first_name', 'last_name', 'date_of_birth', 'email', 'phone'])
      expect(users).not.toContain(c);
    const audit = (await engine.describeTable('raw.user_db_profile_changes_changes'))?.map((c) => c.name);
    expect(audit).toEqual(expect.arrayContaining(['old_value_hash', 'new_value_hash']));
    expect(audit).not.toContain('old_value');
  });

  it('leaves no personal value in clear in any raw table or the quarantine', async () => {
    expect(clear.size).toBeGreaterThan(20); // the simulator did write names, emails and phones
    const tables = await engine.query<{ t: string }>(
      `select table_schema || '.' || table_name as t from information_schema.tables where table_schema = 'raw'`,
    );
    expect(tables.map((t) => t.t)).toContain('raw.user_db_users_changes');
    const leaks: string[] = [];
    for (const { t } of tables) {
      for (const row of await engine.query(`select * from ${t}`)) {
        for (const v of Object.values(row)) {
          if (typeof v !== 'string') continue;
          for (const c of clear) if (v.includes(c)) leaks.push(`${t}: ${c}`);
        }
      }
    }
    expect(leaks.slice(0, 5)).toEqual([]);
  });
});
