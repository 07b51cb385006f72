/**
 * Issue 15 finding 6: a landing file that was all malformed lines does not move the watermark the barrier trusts,
 * and quarantine is never silent: a materialized step reports what its ingest pass quarantined, as a non-blocking
 * `quarantined` check in its result and in the ledger (what `tessera checks` reads), and in the run's outcome.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { rawAssets } from '../../src/assets/raw.js';
import { defineDefinitions } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import { encodeEnrichedEvent } from '../../src/sources/snowplow/index.js';

const pageView = (id: string, derived: string): string =>
  encodeEnrichedEvent({
    app_id: 'bme-web',
    platform: 'web',
    event: 'page_view',
    event_id: id,
    collector_tstamp: derived,
    derived_tstamp: derived,
    domain_userid: `du-${id}`,
  });

let engine: Engine;
let dir: string;
const write = async (rel: string, text: string): Promise<void> => {
  const path = join(dir, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
};

beforeEach(async () => {
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'tessera-landing-quarantine-'));
});
afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a landing file with nothing readable', () => {
  it('does not move the watermark until its hour is delivered again', async () => {
    const snowplow = landingLoaders({ engine, landingDir: dir, allowedLatenessMinutes: 0 })['snowplow'];
    const land = () => snowplow?.land?.(() => undefined);
    await write('snowplow/2026-11-24T10.tsv', pageView('e1', '2026-11-24T10:05:00.000Z'));
    expect(await land()).toMatchObject({ watermark: { watermark: '2026-11-24T11:00:00.000Z' } });

    await write('snowplow/2026-11-24T11.tsv', ['garbage', 'more\tgarbage', ''].join('\n'));
    const garbage = await land();
    expect(garbage).toMatchObject({ landed: 0, quarantined: 2 });
    expect(garbage?.watermark?.watermark).toBe('2026-11-24T11:00:00.000Z'); // not 12:00
    expect(existsSync(join(dir, 'snowplow', 'rejected', '2026-11-24T11.tsv'))).toBe(true);

    // A later good hour does not carry the watermark past the hole either.
    await write('snowplow/2026-11-24T12.tsv', pageView('e3', '2026-11-24T12:10:00.000Z'));
    expect((await land())?.watermark?.watermark).toBe('2026-11-24T11:00:00.000Z');

    // The hour delivered again, readable: the watermark moves to the newest landed hour's end.
    await write('snowplow/2026-11-24T11-redelivered.tsv', pageView('e2', '2026-11-24T11:20:00.000Z'));
    expect(await land()).toMatchObject({ landed: 1, watermark: { watermark: '2026-11-24T13:00:00.000Z' } });
  });

  it('is not rejected when its events are duplicates of landed ones', async () => {
    const snowplow = landingLoaders({ engine, landingDir: dir })['snowplow'];
    await write('snowplow/2026-11-24T10.tsv', pageView('e1', '2026-11-24T10:05:00.000Z'));
    await snowplow?.land?.(() => undefined);
    await write('snowplow/2026-11-24T11.tsv', [pageView('e1', '2026-11-24T10:05:00.000Z'), 'bad'].join('\n'));
    expect(await snowplow?.land?.(() => undefined)).toMatchObject({
      landed: 0,
      quarantined: 1,
      watermark: { watermark: '2026-11-24T12:00:00.000Z' },
    });
  });
});

describe('a materialized step whose ingest pass quarantined inputs', () => {
  it('reports the count in its result, its checks and the ledger, and still succeeds', async () => {
    const definitions = defineDefinitions({
      assets: rawAssets.filter((a) => a.key === 'raw.snowplow_events'),
    });
    const ledger = new MemoryLedger();
    const acts = createActivities({
      definitions,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger,
      loaders: landingLoaders({ engine, landingDir: dir }),
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });
    const bad = Array.from({ length: 9 }, (_, i) => `malformed line ${i}`);
    await write(
      'snowplow/2026-11-24T10.tsv',
      [pageView('e1', '2026-11-24T10:05:00.000Z'), ...bad].join('\n'),
    );
    const step = {
      id: 'raw.snowplow_events@2026-11-24T10',
      assetKey: 'raw.snowplow_events',
      partitionKey: '2026-11-24T10',
      reason: 'missing' as const,
      upstream: [],
      inputs: [],
    };
    const r = await acts.materializeStep({ runId: 'r1', step, force: false });
    expect(r.status).toBe('success');
    expect(r.quarantined).toBe(9);
    expect(r.checks.find((c) => c.name === 'quarantined')).toEqual({
      name: 'quarantined',
      blocking: false,
      passed: false,
      detail: '9 input(s) quarantined by the ingest pass (raw.quarantine, source snowplow)',
    });
    const recorded = await ledger.checkResults('raw.snowplow_events', '2026-11-24T10', 'r1');
    expect(recorded.find((c) => c.checkName === 'quarantined')).toMatchObject({
      passed: false,
      failingRows: 9,
    });

    // The next pass finds nothing new: the check passes, nothing is counted twice.
    const again = await acts.materializeStep({ runId: 'r2', step, force: true });
    expect(again.quarantined).toBeUndefined();
    expect(again.checks.find((c) => c.name === 'quarantined')?.passed).toBe(true);
  });
});
