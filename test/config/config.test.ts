import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.js';

const minimal = {
  environment: 'test',
  defaultEngine: 'duckdb',
  engines: { duckdb: { type: 'duckdb', path: ':memory:' } },
  ledger: { type: 'sqlite', path: 'ledger.sqlite' },
};

describe('config', () => {
  it('fills defaults', () => {
    const cfg = parseConfig(minimal, {});
    expect(cfg.temporal.taskQueue).toBe('tessera');
    expect(cfg.worker.maxConcurrentActivities).toBe(4);
    expect(cfg.lateness.defaultMinutes).toBe(60);
  });

  it('names every bad key', () => {
    const bad = { ...minimal, defaultEngine: 'bq', worker: { maxConcurrentActivities: -1 }, extra: 1 };
    let err: unknown;
    try {
      parseConfig(bad, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/"worker\.maxConcurrentActivities"/);
    expect(msg).toMatch(/"\(root\)": Unrecognized key: "extra"/);
    expect(msg).toMatch(/"defaultEngine": names no engine; configured engines: duckdb/);
  });

  it('takes secrets from the environment and says which variable is missing', () => {
    const raw = { ...minimal, ledger: { type: 'postgres', url: '${env:LEDGER_URL}' } };
    expect(parseConfig(raw, { LEDGER_URL: 'postgresql://x/y' }).ledger).toMatchObject({
      url: 'postgresql://x/y',
    });
    expect(() => parseConfig(raw, {})).toThrow(/"ledger.url": environment variable LEDGER_URL is not set/);
  });

  it('requires a url on webhook routes', () => {
    const raw = { ...minimal, alerts: { routes: [{ name: 'x', type: 'webhook' }] } };
    expect(() => parseConfig(raw, {})).toThrow(/alerts\.routes\.0.*need a url/);
  });

  it('loads the shipped environments', () => {
    const local = loadConfig({ environment: 'local', env: {} });
    expect(local.defaultEngine).toBe('duckdb');
    expect(local.ledger.type).toBe('sqlite');
    const prodEnv = Object.fromEntries(
      [
        'TESSERA_BQ_PROJECT',
        'TESSERA_LEDGER_URL',
        'TEMPORAL_ADDRESS',
        'USER_DB_URL',
        'INVENTORY_DB_URL',
        'KAFKA_BROKERS',
      ].map((k) => [k, 'x']),
    );
    const prod = loadConfig({
      environment: 'production',
      env: {
        ...prodEnv,
        TESSERA_TRINO_URL: 'http://trino:8080',
        TEMPORAL_UI_URL: 'http://ui:8080',
        MARKETING_ALERT_WEBHOOK: 'http://hooks/m',
        SLACK_WEBHOOK_URL: 'http://hooks/s',
      },
    });
    expect(prod.ledger.type).toBe('postgres');
    expect(Object.keys(prod.sources)).toContain('snowplow');
  });

  it('resolves relative paths against the project root', () => {
    const root = mkdtempSync(join(tmpdir(), 'tessera-cfg-'));
    mkdirSync(join(root, 'config'));
    writeFileSync(
      join(root, 'config', 'x.yaml'),
      'environment: x\ndefaultEngine: d\nengines: { d: { type: duckdb, path: w.duckdb } }\nledger: { type: sqlite, path: l.sqlite }\n',
    );
    const cfg = loadConfig({ file: join(root, 'config', 'x.yaml') });
    expect(cfg.engines.d).toMatchObject({ path: join(root, 'w.duckdb') });
    expect(() => loadConfig({ file: join(root, 'config', 'nope.yaml') })).toThrow(/config file not found/);
  });
});
