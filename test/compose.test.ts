/**
 * docker-compose.yml must parse the way `docker compose config` parses it. There is no Docker here, so the test
 * builds tools/compose-validate (a few lines over compose-go, the loader Docker Compose itself uses: schema,
 * interpolation, cross-references) with the machine's Go, caches the binary in .cache/, and feeds it the real file
 * and broken copies.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEARCH_ATTRIBUTES } from '../src/runtime/search-attributes.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const tool = join(repo, 'tools', 'compose-validate');
const composeFile = join(repo, 'docker-compose.yml');
const run = promisify(execFile);

/** What `${VAR:?}` demands; values are placeholders, never real secrets. */
const REQUIRED_ENV = {
  TEMPORAL_DB_PASSWORD: 'placeholder-temporal',
  USER_DB_PASSWORD: 'placeholder-user',
  INVENTORY_DB_PASSWORD: 'placeholder-inventory',
  TESSERA_PII_KEY: 'placeholder-pii',
  TESSERA_BQ_PROJECT: 'placeholder-project',
  SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/slack',
  MARKETING_ALERT_WEBHOOK: 'http://127.0.0.1:9/marketing',
};

/** Builds the validator once per source version (the first build downloads compose-go: ~30 s). */
async function validatorBinary(): Promise<string> {
  const sources = ['go.mod', 'go.sum', 'main.go'].map((f) => readFileSync(join(tool, f)));
  const version = createHash('sha256').update(Buffer.concat(sources)).digest('hex').slice(0, 16);
  const bin = join(repo, '.cache', 'compose-validate', version, 'compose-validate');
  if (existsSync(bin)) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  const partial = `${bin}.${process.pid}.tmp`;
  try {
    await run('go', ['build', '-buildvcs=false', '-o', partial, '.'], {
      cwd: tool,
      env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
      timeout: 240_000,
    });
  } catch (e) {
    throw new Error(
      `building tools/compose-validate needs Go (and the Go module proxy on first use): ${String(e)}`,
      { cause: e },
    );
  }
  renameSync(partial, bin);
  return bin;
}

interface Validation {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

let binary: string;

async function validate(file: string, env: Record<string, string> = REQUIRED_ENV): Promise<Validation> {
  // Only PATH and HOME from the outside: a variable set on the machine must not satisfy a ${VAR:?}.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() };
  try {
    const { stdout, stderr } = await run(binary, [file], { env: { ...base, ...env }, timeout: 30_000 });
    return { ok: true, stdout, stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** A broken copy of the real file, beside a copy of what it mounts (relative paths resolve from its folder). */
function brokenCopy(edit: (text: string) => string): string {
  const text = readFileSync(composeFile, 'utf8');
  const changed = edit(text);
  expect(changed).not.toBe(text); // the edit must hit, or the case proves nothing
  const file = join(mkdtempSync(join(tmpdir(), 'tessera-compose-')), 'docker-compose.yml');
  writeFileSync(file, changed);
  return file;
}

const healthcheckSchema = z.object({ test: z.array(z.string()).min(1) });
const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string().optional() }).optional(),
  command: z.array(z.string()).optional(),
  entrypoint: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string().nullable()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  healthcheck: healthcheckSchema.optional(),
  volumes: z
    .array(z.object({ type: z.string(), source: z.string().optional(), target: z.string() }))
    .optional(),
});
const projectSchema = z.object({ services: z.record(z.string(), serviceSchema) });

describe('docker-compose.yml', () => {
  beforeAll(async () => {
    binary = await validatorBinary();
  }, 300_000);

  it('parses as Docker Compose does, with the production-shaped services wired by health', async () => {
    const r = await validate(composeFile);
    expect(r.stderr).toBe('');
    expect(r.ok).toBe(true);
    const { services } = projectSchema.parse(parse(r.stdout));
    expect(Object.keys(services).sort()).toEqual(
      [
        'inventory-db',
        'kafka',
        'platform-db',
        'temporal',
        'temporal-setup',
        'temporal-ui',
        'trino',
        'user-db',
        'worker',
      ].sort(),
    );
    expect(services.temporal?.image).toMatch(/^temporalio\/(auto-setup|server):/);
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:/);
    expect(services.kafka?.image).toMatch(/^apache\/kafka:3\.9\./);
    expect(services.trino?.image).toMatch(/^trinodb\/trino:/);
    // Every "wait until healthy" points at a service that has a healthcheck.
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        if (condition === 'service_healthy')
          expect(services[dep]?.healthcheck, `${name} waits on ${dep}`).toBeDefined();
      }
    }
    expect(Object.keys(services.worker?.depends_on ?? {}).sort()).toEqual(
      ['inventory-db', 'kafka', 'platform-db', 'temporal', 'temporal-setup', 'trino', 'user-db'].sort(),
    );
    expect(services.worker?.depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
    // The workflows set these search attributes: the one-shot setup registers every one, with its type.
    const setup = services['temporal-setup']?.entrypoint?.join(' ') ?? '';
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(setup).toContain(`${name}=${type}`);
    expect(services.worker?.build?.dockerfile).toBe('Dockerfile');
    expect(existsSync(join(repo, 'Dockerfile'))).toBe(true);
    // The OLTP databases decode logically and run the repo's migrations on first start.
    for (const [db, dir] of [
      ['user-db', 'user_db'],
      ['inventory-db', 'inventory_db'],
    ] as const) {
      const s = services[db];
      expect(s?.command).toContain('wal_level=logical');
      const init = s?.volumes?.find((v) => v.target === '/docker-entrypoint-initdb.d');
      expect(init?.source).toBe(join(repo, 'src', 'sources', 'oltp', dir));
      expect(existsSync(join(init?.source ?? '', '001_init.sql'))).toBe(true);
    }
    // Secrets reach the containers from the environment only.
    expect(services.worker?.environment?.TESSERA_PII_KEY).toBe(REQUIRED_ENV.TESSERA_PII_KEY);
    const text = readFileSync(composeFile, 'utf8');
    for (const value of Object.values(REQUIRED_ENV)) expect(text).not.toContain(value);
  });

  it('refuses to resolve without the secrets, naming each missing variable', async () => {
    const r = await validate(composeFile, {});
    expect(r.ok).toBe(false);
    for (const name of Object.keys(REQUIRED_ENV)) expect(r.stderr).toContain(`required variable ${name}`);
  });

  it('fails on broken copies: a bad depends_on condition, an undefined service, a misspelt key, bad YAML', async () => {
    const cases: [string, (t: string) => string, RegExp][] = [
      ['condition', (t) => t.replace('condition: service_healthy', 'condition: service_happy'), /condition/],
      ['undefined service', (t) => t.replace(/^ {6}kafka:$/m, '      kafak:'), /undefined service "kafak"/],
      [
        'misspelt key',
        (t) => t.replace('healthcheck: *pg-healthcheck', 'healthchek: *pg-healthcheck'),
        /healthchek/,
      ],
      ['yaml', (t) => t.replace('services:\n', 'services:\n  worker: [\n'), /yaml|line/i],
    ];
    for (const [what, edit, message] of cases) {
      const r = await validate(brokenCopy(edit));
      expect(r.ok, what).toBe(false);
      expect(r.stderr, what).toMatch(message);
    }
  });
});
