/**
 * The CLI as a subprocess on the catalog alone (no worker): assets, lineage, plan, and the usage errors every
 * command shares (exit 2 with the nearest valid name). Runs beside runtime.test.ts, which needs the worker.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv } from './helpers.js';

const env = cliEnv('catalog');
const P = env.prefix;

interface AssetRow {
  key: string;
  kind: string;
  partitions: string;
  deps: string[];
  publishGroup: string;
  codeVersion: string;
}

describe('tessera assets and plan', () => {
  it('lists, shows and traces the assets of the definitions module', async () => {
    const [list, text, show, tree, dot, lineage] = await Promise.all([
      env.json<AssetRow[]>(['assets', 'list']),
      env.run(['assets', 'list', '--select', 'kind:scd2']),
      env.json<Record<string, unknown>>(['assets', 'show', `${P}core.dim_users`]),
      env.run(['assets', 'lineage', `+${P}marts.users_by_country`]),
      env.run(['assets', 'lineage', `+${P}marts.users_by_country`, '--format', 'dot']),
      env.json<{ key: string; upstream: string[] }[]>(['assets', 'lineage', `+${P}marts.users_by_country`]),
    ]);
    expect(list.code).toBe(0);
    expect(list.value.map((a) => a.key)).toContain(`${P}marts.users_by_country`);
    const mart = list.value.find((a) => a.key === `${P}marts.users_by_country`);
    expect(mart).toMatchObject({
      kind: 'mart',
      deps: [`${P}core.users_daily`],
      publishGroup: `${P}users`,
      partitions: expect.stringContaining('daily(start=2026-11-01') as unknown,
    });
    expect(mart?.codeVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(text.stdout).toMatch(new RegExp(`^${P}core\\.dim_users\\s+scd2`, 'm'));
    expect(text.stdout).not.toContain('users_daily');

    expect(show.value).toMatchObject({
      key: `${P}core.dim_users`,
      kind: 'scd2',
      deps: [{ key: `${P}raw.users_changes`, mapping: 'allUpstream()' }],
      downstream: [`${P}core.users_daily`],
      checks: [{ name: 'scd2_intervals', blocking: true }],
    });

    expect(tree.code).toBe(0);
    expect(tree.stdout.split('\n').slice(0, 4)).toEqual([
      `${P}marts.users_by_country (mart)`,
      `  ${P}core.users_daily (snapshot)`,
      `    ${P}core.dim_users (scd2)`,
      `      ${P}raw.users_changes (raw_cdc)`,
    ]);
    expect(dot.stdout).toContain(`"${P}core.users_daily" -> "${P}marts.users_by_country";`);
    expect(lineage.value).toContainEqual({ key: `${P}core.dim_users`, upstream: [`${P}raw.users_changes`] });
  });

  it('plans what would run and why, as JSON', async () => {
    const r = await env.json<{
      steps: { id: string; reason: string; upstream: string[] }[];
      skippedFresh: number;
    }>(['plan', '--select', `+${P}marts.users_by_country`, '--partition', '2026-11-02']);
    expect(r.code).toBe(0);
    expect(r.value.skippedFresh).toBe(0);
    expect(r.value.steps.map((s) => [s.id, s.reason])).toEqual([
      [`${P}raw.users_changes@2026-11-02`, 'missing'],
      [`${P}core.dim_users@`, 'missing'],
      [`${P}core.users_daily@2026-11-02`, 'missing'],
      [`${P}marts.users_by_country@2026-11-02`, 'missing'],
    ]);
    const text = await env.run([
      'plan',
      '-s',
      `${P}marts.users_by_country`,
      '--from',
      '2026-11-01',
      '--to',
      '2026-11-03',
    ]);
    expect(text.stdout).toContain('3 steps (3 missing); 0 fresh skipped');
  });

  it('simulates BookMyEvent into a landing folder', async () => {
    const landing = join(env.dir, 'landing');
    const r = await env.json<{ landingDir: string; files: number; totals: Record<string, number> }>([
      'simulate',
      '--days',
      '1',
      '--scale',
      'small',
      '--landing',
      landing,
    ]);
    expect(r.code).toBe(0);
    expect(r.value.landingDir).toBe(landing);
    expect(r.value.files).toBeGreaterThan(5);
    expect(r.value.totals['users_signed_up']).toBeGreaterThan(0);
    expect(existsSync(join(landing, 'truth.json'))).toBe(true);
  });

  it('uses BookMyEvent’s catalog when no definitions module is given', async () => {
    const bme = cliEnv('bme', { catalog: false });
    const r = await bme.json<AssetRow[]>(['assets', 'list', '--select', 'kind:scd2']);
    expect(r.code).toBe(0);
    expect(r.value.map((a) => a.key)).toEqual(
      expect.arrayContaining(['core.dim_users', 'core.dim_vendors', 'core.dim_purchases']),
    );
  });
});

describe.concurrent('usage errors exit 2 and suggest the nearest valid input', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown asset',
      ['assets', 'show', `${P}core.dim_user`],
      new RegExp(`did you mean "${P}core\\.dim_users"`),
    ],
    [
      'unknown asset in a selection',
      ['materialize', '-s', `${P}marts.user_by_country`, '--partition', '2026-11-02'],
      new RegExp(`unknown asset "${P}marts\\.user_by_country"; did you mean "${P}marts\\.users_by_country"`),
    ],
    [
      'reversed dates',
      ['backfill', 'start', '-s', `${P}raw.users_changes`, '--from', '2026-11-05', '--to', '2026-11-01'],
      /--from 2026-11-05 is after --to 2026-11-01/,
    ],
    [
      'bad date',
      ['plan', '-s', '*', '--from', '2026-11-31', '--to', '2026-12-01'],
      /--from "2026-11-31" is not a date/,
    ],
    [
      'partition before the first one',
      ['plan', '-s', `${P}marts.users_by_country`, '--partition', '2020-01-01'],
      /before the first partition .*the first key is '2026-11-01'/,
    ],
    [
      'range before the first partition',
      ['status', '-s', `${P}raw.users_changes`, '--from', '2020-01-01', '--to', '2020-01-31'],
      /covers no partition of the selected assets; the first one is 2026-11-01/,
    ],
    [
      'malformed selection',
      ['plan', '-s', `+${P}marts.users_by_country and (`, '--partition', '2026-11-02'],
      /selection .*expected a key/,
    ],
    ['unknown command', ['materialise'], /Did you mean materialize\?/],
    [
      'unknown option',
      ['assets', 'list', '--selekt', 'x'],
      /unknown option '--selekt'\s+\(Did you mean --select\?\)/,
    ],
    ['bad choice', ['assets', 'lineage', '--format', 'svg'], /Allowed choices are tree, dot/],
    ['bad number', ['materialize', '-s', '*', '--concurrency', '0'], /--concurrency.*above 0/],
    ['unknown publish group', ['publish', 'rollback', `${P}user`], new RegExp(`did you mean "${P}users"`)],
    ['unknown schedule', ['schedules', 'pause', `${P}nighty`], new RegExp(`did you mean "${P}nightly"`)],
    ['bad --as-of', ['query', 'select 1', '--as-of', 'yesterday'], /--as-of "yesterday" is not a date/],
    ['bad --start', ['simulate', '--start', '2026-02-30'], /--start "2026-02-30" is not a date/],
    ['missing config', ['--config', '/nonexistent/tessera.yaml', 'assets', 'list'], /config file not found/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await env.run(args);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(message) as unknown,
    });
  });

  it('says so when the warehouse does not exist yet (exit 1)', async () => {
    const r = await env.run(['query', 'select 1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warehouse .*warehouse\.duckdb does not exist yet/);
  });
});
