/**
 * `land()` of the landing-folder loaders (one bounded, idempotent pass) on real DuckDB, and the ingestSource
 * activity over it: watermarks in the ledger, late Snowplow events re-opening hours whose readers then plan as
 * `upstream_changed`, restated ad figures, and errors a retry cannot fix failing non-retryably.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { MemoryStepLeaseStore } from '../../src/activities/lease-store.js';
import { asset, defineDefinitions, hourly } from '../../src/dsl/index.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { MemoryLedger } from '../../src/ledger/index.js';
import { stepLeaseKey } from '../../src/runtime/lease-types.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import { encodeEnrichedEvent } from '../../src/sources/snowplow/index.js';
import type { SourceLoader } from '../../src/sources/types.js';

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

const adRow = (date: string, platform: string, campaign: string, spend: number) => ({
  date,
  platform,
  account_id: 'acct-1',
  account_timezone: 'UTC',
  campaign_id: campaign,
  campaign_name: `Campaign ${campaign}`,
  impressions: 1000,
  clicks: 10,
  spend_micros: String(spend),
  account_currency: 'EUR',
  conversions: 1,
});

let engine: Engine;
let dir: string;
let loaders: Record<string, SourceLoader>;
const beat = () => undefined;

const write = async (rel: string, text: string): Promise<void> => {
  const path = join(dir, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
};
const count = async (table: string): Promise<number> =>
  Number((await engine.query<{ n: number }>(`SELECT count(*)::INT AS n FROM ${table}`))[0]?.n);
const land = (source: string) => {
  const l = loaders[source]?.land;
  if (!l) throw new Error(`${source} has no land()`);
  return l(beat);
};

beforeEach(async () => {
  engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'tessera-landing-land-'));
  loaders = landingLoaders({ engine, landingDir: dir, allowedLatenessMinutes: 0 });
});
afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe('landing loaders: land()', () => {
  it('fx: lands new files once, quarantines bad rows, reports the day after the last rate', async () => {
    expect(await land('fx')).toEqual({ landed: 0, quarantined: 0 });
    await write(
      'fx/rates-2026-11-23.csv',
      'date,currency,usd_rate\n2026-11-23,EUR,1.08\n2026-11-23,INR,0.012\n2026-11-23,XX,1\n',
    );
    expect(await land('fx')).toEqual({
      landed: 2,
      quarantined: 1,
      watermark: { source: 'fx', watermark: '2026-11-24T00:00:00.000Z' },
    });
    expect(existsSync(join(dir, 'fx', 'done', 'rates-2026-11-23.csv'))).toBe(true);
    expect((await land('fx')).landed).toBe(0);
    // A later file with one rate already held: only the new one lands.
    await write(
      'fx/rates-2026-11-24.json',
      JSON.stringify({ base: 'USD', date: '2026-11-24', rates: { EUR: 0.9 } }),
    );
    await write('fx/again-2026-11-23.csv', 'date,currency,usd_rate\n2026-11-23,EUR,1.08\n');
    const r = await land('fx');
    expect(r).toMatchObject({ landed: 1, watermark: { watermark: '2026-11-25T00:00:00.000Z' } });
    expect(await count('raw.fx_rates')).toBe(3);
  });

  it('snowplow: lands hour files, reports late events as re-opened hours, also after a restart', async () => {
    await write(
      'snowplow/2026-11-24T10.tsv',
      [
        pageView('e1', '2026-11-24T10:05:00.000Z'),
        pageView('e2', '2026-11-24T10:50:00.000Z'),
        'bad line',
      ].join('\n'),
    );
    await write('snowplow/2026-11-24T11.tsv', pageView('e3', '2026-11-24T11:30:00.000Z'));
    const first = await land('snowplow');
    expect(first).toEqual({
      landed: 3,
      quarantined: 1,
      watermark: { source: 'snowplow', watermark: '2026-11-24T12:00:00.000Z' },
      reopened: [],
    });
    expect(await land('snowplow')).toMatchObject({ landed: 0, reopened: [] });

    // A late event for 10:00 (closed: the event time is past 11:00 and lateness is 0) in a later file.
    await write('snowplow/2026-11-24T12.tsv', [pageView('e4', '2026-11-24T10:59:00.000Z')].join('\n'));
    expect(await land('snowplow')).toMatchObject({
      landed: 1,
      reopened: [{ stream: 'enriched', partitionKey: '2026-11-24T10' }],
    });

    // A new worker process (new loaders) resumes the event-time watermark from the table.
    const restarted = landingLoaders({ engine, landingDir: dir, allowedLatenessMinutes: 0 });
    await write('snowplow/2026-11-24T13.tsv', pageView('e5', '2026-11-24T10:30:00.000Z'));
    expect(await restarted.snowplow?.land?.(beat)).toMatchObject({
      landed: 1,
      reopened: [{ stream: 'enriched', partitionKey: '2026-11-24T10' }],
    });
    expect(await count('raw.snowplow_events')).toBe(5);
  });

  it('ads: replaces only the (date, platform, account) groups whose rows changed', async () => {
    const rows = [
      adRow('2026-11-23', 'google', 'c1', 1_000_000),
      adRow('2026-11-23', 'google', 'c2', 2_000_000),
      adRow('2026-11-24', 'facebook', 'c3', 3_000_000),
    ];
    await write('ads/campaign_daily.json', JSON.stringify(rows));
    expect(await land('ads')).toEqual({
      landed: 3,
      quarantined: 0,
      watermark: { source: 'ads', watermark: '2026-11-25T00:00:00.000Z' },
      reopened: [
        { stream: 'campaign_daily', partitionKey: '2026-11-23|google' },
        { stream: 'campaign_daily', partitionKey: '2026-11-24|facebook' },
      ],
    });
    expect(await land('ads')).toMatchObject({ landed: 0, reopened: [] });
    // The platform restates Nov 24: only that group is replaced.
    await write(
      'ads/campaign_daily.json',
      JSON.stringify([...rows.slice(0, 2), adRow('2026-11-24', 'facebook', 'c3', 3_500_000)]),
    );
    expect(await land('ads')).toMatchObject({
      landed: 1,
      reopened: [{ stream: 'campaign_daily', partitionKey: '2026-11-24|facebook' }],
    });
    const [spend] = await engine.query<{ s: string }>(
      `SELECT CAST(sum(spend_micros) AS VARCHAR) AS s FROM raw.ad_reports`,
    );
    expect(spend?.s).toBe('6500000');
  });

  it('debezium: lands placed transactions, keeps the held-back one for the next pass', async () => {
    expect(await land('inventory_db')).toEqual({ landed: 0, quarantined: 0 });
    const ev = (txId: number, lsn: number, last: number, id: number): string =>
      JSON.stringify({
        op: 'c',
        before: null,
        after: { vendor_id: id, name: `v${id}` },
        source: {
          ts_us: 1_764_064_800_000_000 + lsn,
          txId,
          lsn,
          sequence: JSON.stringify([String(last), String(lsn)]),
          table: 'vendors',
        },
      });
    // Transaction 11 waits for the next event to learn its commit position.
    await write('debezium/inventory_db/0001.ndjson', [ev(10, 100, 50, 1), ev(11, 200, 150, 2)].join('\n'));
    const first = await land('inventory_db');
    expect(first).toMatchObject({ landed: 1, quarantined: 0, watermark: { source: 'inventory_db' } });
    await write('debezium/inventory_db/0002.ndjson', ev(12, 300, 250, 3));
    expect(await land('inventory_db')).toMatchObject({ landed: 1 });
    expect(await land('inventory_db')).toMatchObject({ landed: 0 });
    expect(await count('raw.inventory_db_vendors_changes')).toBe(2);
  });
});

describe('ingestSource activity', () => {
  const byHour = hourly({ start: '2026-11-24T00:00' });
  const definitions = defineDefinitions({
    assets: [
      asset({
        key: 'raw.snowplow_events',
        kind: 'fact',
        partitions: byHour,
        ingest: { source: 'snowplow', stream: 'enriched' },
      }),
      asset({
        key: 'marts.views_hourly',
        kind: 'mart',
        partitions: byHour,
        deps: ['raw.snowplow_events'],
        sql: `select count(*)::INT as views from raw.snowplow_events where derived_tstamp >= {{ partition_start }} and derived_tstamp < {{ partition_end }}`,
      }),
    ],
  });

  const activities = (ledger: MemoryLedger, extra: Partial<ActivityDeps> = {}) =>
    createActivities({
      definitions,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger,
      loaders,
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
      ...extra,
    });

  it('records the watermark and makes readers of re-opened hours stale (upstream_changed)', async () => {
    const ledger = new MemoryLedger();
    let ticks = 0;
    // A clock that moves, so the ledger orders attempts.
    const acts = activities(ledger, {
      now: () => new Date(Date.UTC(2026, 10, 24, 14, 0, ticks++)).toISOString(),
    });
    const ingest = acts.ingestSource;
    if (!ingest) throw new Error('createActivities has no ingestSource');
    await write('snowplow/2026-11-24T10.tsv', pageView('e1', '2026-11-24T10:05:00.000Z'));
    await write('snowplow/2026-11-24T11.tsv', pageView('e2', '2026-11-24T11:30:00.000Z'));
    expect(await ingest({ source: 'snowplow', runId: 'ingest-1' })).toEqual({
      source: 'snowplow',
      landed: 2,
      quarantined: 0,
      watermark: '2026-11-24T12:00:00.000Z',
      reopened: 0,
      restated: [],
      finishedAt: '2026-11-24T14:00:01.000Z',
    });
    expect(await ledger.watermarks()).toEqual([
      { source: 'snowplow', watermark: '2026-11-24T12:00:00.000Z', updatedAt: '2026-11-24T14:00:00.000Z' },
    ]);

    const request = { selection: '*', range: { from: '2026-11-24T10', to: '2026-11-24T11' } };
    for (const step of (await acts.planRun(request)).steps)
      expect((await acts.materializeStep({ runId: 'run-1', step, force: false })).status).toBe('success');
    expect((await acts.planRun(request)).steps).toEqual([]);

    // Late events for 10:00 (re-opened, reported before) and for 09:00 (re-opened but never reported).
    await write(
      'snowplow/2026-11-24T12.tsv',
      [pageView('e3', '2026-11-24T10:20:00.000Z'), pageView('e4', '2026-11-24T09:10:00.000Z')].join('\n'),
    );
    const late = await ingest({ source: 'snowplow', runId: 'ingest-1' });
    expect(late).toMatchObject({ landed: 2, reopened: 2, restated: ['raw.snowplow_events@2026-11-24T10'] });
    const history = await ledger.history('raw.snowplow_events', '2026-11-24T10');
    expect(history.find((h) => h.runId === 'ingest-1')).toMatchObject({
      rowCount: 2,
      status: 'success',
    });
    const replan = await acts.planRun(request);
    expect(replan.steps.map((s) => [s.id, s.reason])).toEqual([
      ['marts.views_hourly@2026-11-24T10', 'upstream_changed'],
    ]);

    // Nothing new: nothing lands, nothing is restated.
    expect(await ingest({ source: 'snowplow', runId: 'ingest-1' })).toMatchObject({
      landed: 0,
      restated: [],
    });
  });

  it('restates a re-opened partition only once the run building it has released its lease', async () => {
    const ledger = new MemoryLedger();
    const leases = new MemoryStepLeaseStore();
    // The restatement's first read of the held lease is the fact that it is waiting (no duration is involved).
    let waiting = (): void => undefined;
    const seenWaiting = new Promise<void>((r) => (waiting = r));
    const read = leases.read.bind(leases);
    leases.read = (key) => {
      waiting();
      return read(key);
    };
    const acts = activities(ledger, { leases, leaseOptions: { pollMs: 1, maxPollMs: 5 } });
    const ingest = acts.ingestSource;
    if (!ingest) throw new Error('createActivities has no ingestSource');
    await write('snowplow/2026-11-24T10.tsv', pageView('e1', '2026-11-24T10:05:00.000Z'));
    await write('snowplow/2026-11-24T11.tsv', pageView('e2', '2026-11-24T11:30:00.000Z'));
    await ingest({ source: 'snowplow', runId: 'ingest-1' });
    const [step] = (
      await acts.planRun({
        selection: 'raw.snowplow_events',
        range: { from: '2026-11-24T10', to: '2026-11-24T10' },
      })
    ).steps;
    if (!step) throw new Error('no step planned for 10:00');
    expect((await acts.materializeStep({ runId: 'run-1', step, force: false })).status).toBe('success');

    // Another run is building 10:00 when late events re-open it.
    const key = stepLeaseKey('', 'raw.snowplow_events', '2026-11-24T10');
    const held = await leases.claim(key, 'run-2', 60_000, Date.now());
    if (!held.claimed) throw new Error('run-2 did not get the lease');
    await write('snowplow/2026-11-24T12.tsv', pageView('e3', '2026-11-24T10:20:00.000Z'));
    const late = ingest({ source: 'snowplow', runId: 'ingest-1' });
    await seenWaiting;
    const byIngest = async () =>
      (await ledger.history('raw.snowplow_events', '2026-11-24T10')).filter((h) => h.runId === 'ingest-1');
    expect(await byIngest()).toEqual([]);

    await leases.release(key, 'run-2', held.generation, undefined);
    expect(await late).toMatchObject({ landed: 1, restated: ['raw.snowplow_events@2026-11-24T10'] });
    expect(await byIngest()).toMatchObject([{ status: 'success', rowCount: 2 }]);
    expect(await leases.read(key)).toMatchObject({ holder: null, releasedBy: 'ingest-1' });
  });

  it('fails non-retryably for a source without a loader', async () => {
    const acts = createActivities({
      definitions,
      engines: { duckdb: engine },
      defaultEngine: 'duckdb',
      ledger: new MemoryLedger(),
      loaders: { snowplow: { ingest: () => Promise.reject(new Error('unused')) } },
      alertRoutes: [],
      latenessMs: 0,
      logger: pino({ level: 'silent' }),
    });
    for (const source of ['nope', 'snowplow']) {
      const err = await acts.ingestSource?.({ source, runId: 'r' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'ConfigError', nonRetryable: true });
    }
  });
});
