/**
 * Raw landing on every engine (issues 13 and 14): the same inputs (a Debezium landing folder with declared
 * decimals and timestamps and one undecodable event, CDC from PostgreSQL logical decoding, Snowplow TSV with a
 * malformed line, an ads report, FX rates with a bad row) land through the loaders into DuckDB and into each
 * server engine here (Trino over Iceberg, the BigQuery emulator, Spark over Iceberg), and the raw tables are
 * compared row for row. A replay lands nothing; a bad record is quarantined with its reason and position and the
 * records after it land; partitions report the same row counts and versions everywhere.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableTestEngines, type Engine, type EngineType } from '../../src/engines/index.js';
import { PostgresCdcLoader } from '../../src/sources/cdc/loader.js';
import { landingLoaders } from '../../src/sources/landing/landing-loaders.js';
import { engineDialect } from '../../src/sources/sinks/index.js';
import { contextsJson, encodeEnrichedEvent, SCHEMAS } from '../../src/sources/snowplow/index.js';
import type { IngestRequest, LandResult, SourceLoader } from '../../src/sources/types.js';
import { scratchDatabase, uniqueName, type ScratchDatabase } from '../helpers/postgres.js';

const WANTED: readonly EngineType[] = ['duckdb', 'trino', 'bigquery', 'spark'];
const engines = (await availableTestEngines()).filter((e) => WANTED.includes(e.type));

// ---- the inputs ----------------------------------------------------------------------------------------------

const source = (txId: number, lsn: number, last: number, table: string) => ({
  ts_us: 1_795_514_400_000_000 + lsn * 1000,
  txId,
  lsn,
  sequence: JSON.stringify([String(last), String(lsn)]),
  table,
});
const purchase = (txId: number, lsn: number, last: number, after: Record<string, unknown>) =>
  JSON.stringify({ op: 'c', before: null, after, source: source(txId, lsn, last, 'purchases') });
const heartbeat = (txId: number, lsn: number, last: number) =>
  JSON.stringify({ op: 'm', source: source(txId, lsn, last, ''), message: { prefix: 'hb', content: '' } });
const COLUMN_TYPES = {
  'purchases.amount': 'decimal(2)',
  'purchases.created_at': 'timestamp(us)',
  'purchases.event_date': 'date',
};
const DEBEZIUM = [
  // 10.00 (unscaled 1000 = 0x03E8), -0.01 (0xFF), 1234567.89 (0x075BCD15).
  purchase(10, 100, 50, {
    purchase_id: 1,
    amount: 'A+g=',
    created_at: 1_795_514_400_123_456,
    event_date: 20_781,
    note: "it's",
  }),
  purchase(11, 200, 150, {
    purchase_id: 2,
    amount: '/w==',
    created_at: 0,
    event_date: null,
    note: 'back\\slash',
  }),
  purchase(12, 300, 250, { purchase_id: 3, amount: 'not base64!', created_at: 1, event_date: 0, note: null }),
  purchase(12, 310, 250, {
    purchase_id: 4,
    amount: 'B1vNFQ==',
    created_at: 1_795_514_460_000_000,
    event_date: 20_781,
    note: 'línea\ndos',
  }),
  heartbeat(13, 400, 350),
].join('\n');

const event = (id: string, derived: string, extra: Record<string, string> = {}): string =>
  encodeEnrichedEvent({
    app_id: 'bme-web',
    platform: 'web',
    event: 'page_view',
    event_id: id,
    collector_tstamp: derived,
    derived_tstamp: derived,
    domain_userid: `du-${id}`,
    ...extra,
  });
const SNOWPLOW = [
  event('e1', '2026-11-24T10:05:00.000Z', { page_url: "https://bme.test/it's\\here?x=1" }),
  event('e2', '2026-11-24T10:06:30.250Z', {
    contexts: contextsJson([
      { schema: SCHEMAS.experimentExposure, data: { experiment_key: 'exp-1', variant: 'b' } },
    ]),
  }),
  'malformed\tline',
  encodeEnrichedEvent({
    app_id: 'bme-web',
    platform: 'web',
    event: 'struct',
    event_id: 'e3',
    collector_tstamp: '2026-11-24T10:40:00.000Z',
    derived_tstamp: '2026-11-24T10:40:00.000Z',
    se_category: 'cart',
    se_action: 'add',
    se_value: '-12.5',
  }),
  event('e4', '2026-11-24T10:59:59.999Z'),
  '',
].join('\n');

const FX =
  'date,currency,usd_rate\n2026-11-24,EUR,1.0825\n2026-11-24,INR,0.011987\n2026-11-24,XX,1\n2026-11-24,GBP,1.2731\n';
const adRow = (platform: string, campaign: string, spend: string, conversions: number) => ({
  date: '2026-11-24',
  platform,
  account_id: 'acct-1',
  account_timezone: 'Europe/Berlin',
  campaign_id: campaign,
  campaign_name: campaign === 'c2' ? null : `Campaign ${campaign}`,
  impressions: 1000,
  clicks: 10,
  spend_micros: spend,
  account_currency: 'EUR',
  conversions,
});
const ADS = JSON.stringify([
  adRow('google', 'c1', '12500000', 1.5),
  adRow('google', 'c2', '9007199254740993', 0),
  adRow('facebook', 'c3', '42', 3),
]);

async function writeInputs(dir: string): Promise<void> {
  const put = async (rel: string, text: string) => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  await put('debezium/inventory_db/inventory_db-20261124.ndjson', DEBEZIUM);
  await put('snowplow/2026-11-24T10.tsv', SNOWPLOW);
  await put('fx/rates-2026-11-24.csv', FX);
  await put('ads/campaign_daily.json', ADS);
}

// ---- comparison ----------------------------------------------------------------------------------------------

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/;

/** One value as comparable text: timestamps to microseconds, numbers to 12 digits, JSON documents re-serialized. */
function norm(v: unknown, dir: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return String(Number(v.toPrecision(12)));
  if (typeof v === 'boolean') return String(v);
  const s = typeof v === 'string' ? v.replaceAll(dir, '<dir>') : JSON.stringify(v);
  const iso = ISO.exec(s);
  if (iso) return `${iso[1]}.${(iso[2] ?? '').padEnd(6, '0').slice(0, 6)}Z`;
  if (/^-?\d+(\.\d+)?$/.test(s) && !/^0\d/.test(s) && s.length < 16)
    return String(Number(Number(s).toPrecision(12)));
  if (/^[[{]/.test(s)) {
    try {
      return JSON.stringify(JSON.parse(s));
    } catch {
      return s;
    }
  }
  return s;
}

async function dump(
  engine: Engine,
  table: string,
  dir: string,
  drop: readonly string[] = [],
): Promise<string[]> {
  const d = engineDialect(engine);
  if (!(await engine.describeTable(table))) return [];
  const rows = await engine.query(`SELECT * FROM ${d.table(table)}`);
  return rows
    .map((r) =>
      JSON.stringify(
        Object.keys(r)
          .filter((k) => !drop.includes(k))
          .sort()
          .map((k) => [k, norm(r[k], dir)]),
      ),
    )
    .sort();
}

const TABLES: readonly (readonly [string, readonly string[]])[] = [
  ['raw.inventory_db_purchases_changes', []],
  ['raw.snowplow_events', []],
  ['raw.fx_rates', []],
  ['raw.ad_reports', []],
  ['raw.quarantine', ['quarantined_at']],
  ['raw.inventory_db_vendors_changes', []],
];

// ---- CDC from PostgreSQL -------------------------------------------------------------------------------------

let pg: ScratchDatabase;

interface Landed {
  readonly type: EngineType;
  readonly dir: string;
  readonly first: Record<string, LandResult | undefined>;
  readonly replay: Record<string, LandResult | undefined>;
  readonly ingest: Record<string, unknown>;
  readonly tables: Record<string, string[]>;
  readonly seconds: number;
}
const landed = new Map<EngineType, Landed>();

const req = (
  assetKey: string,
  stream: string,
  window?: { start: string; end: string },
  dims?: Record<string, string>,
): IngestRequest => ({
  assetKey,
  stream,
  partitionKey: 'p',
  ...(window ? { window } : {}),
  ...(dims ? { dimensions: dims } : {}),
  heartbeat: () => undefined,
});
const DAY = { start: '2026-11-24T00:00:00.000Z', end: '2026-11-25T00:00:00.000Z' };
const EVER = { start: '2000-01-01T00:00:00.000Z', end: '2100-01-01T00:00:00.000Z' };

async function landAll(
  loaders: Record<string, SourceLoader>,
): Promise<Record<string, LandResult | undefined>> {
  const out: Record<string, LandResult | undefined> = {};
  for (const s of ['inventory_db', 'snowplow', 'fx', 'ads'])
    out[s] = await loaders[s]?.land?.(() => undefined);
  return out;
}

beforeAll(async () => {
  pg = await scratchDatabase('inventory_db');
  // One slot per engine, all created before the writes, so every engine decodes the same changes.
  const cdc = new Map<EngineType, { engine: Engine; loader: PostgresCdcLoader }>();
  for (const e of engines) {
    const engine = await e.create();
    const loader = new PostgresCdcLoader({
      engine,
      url: pg.url,
      database: 'inventory_db',
      tables: ['vendors'],
      slot: uniqueName('t_land'),
      holdSlotMs: 0,
    });
    await loader.init();
    cdc.set(e.type, { engine, loader });
  }
  await pg.client.query(
    `INSERT INTO vendors (name, category, city, country, commission_rate, onboarded_on, created_at)
     VALUES ('Hall ''A''', 'venue', 'Berlin', 'DE', 0.1250, DATE '2026-11-02', TIMESTAMPTZ '2026-11-24 10:00:00.123456+00'),
            ('Caterer', 'catering', 'Pune', 'IN', 0.0999, NULL, TIMESTAMPTZ '2026-11-24 11:00:00+00')`,
  );
  await pg.client.query(
    `UPDATE vendors SET status = 'active', commission_rate = 0.1300 WHERE name = 'Caterer'`,
  );
  await pg.client.query(`DELETE FROM vendors WHERE name = 'Hall ''A'''`);

  for (const e of engines) {
    const { engine, loader } = cdc.get(e.type) ?? {};
    if (!engine || !loader) continue;
    const started = performance.now();
    try {
      const dir = await mkdtemp(join(tmpdir(), `tessera-engine-landing-${e.type}-`));
      await writeInputs(dir);
      const options = { engine, landingDir: dir, columnTypes: { inventory_db: COLUMN_TYPES } };
      const first = await landAll(landingLoaders(options));
      first['cdc'] = await loader.land(() => undefined);
      // A replay: the same files delivered again, read by fresh loaders (a restarted worker).
      await writeInputs(dir);
      const again = landingLoaders(options);
      const replay = await landAll(again);
      replay['cdc'] = await loader.land(() => undefined);
      const ingest = {
        debezium: await again['inventory_db']?.ingest(
          req('raw.inventory_db_purchases_changes', 'purchases', DAY),
        ),
        snowplow: await again['snowplow']?.ingest(
          req('raw.snowplow_events', 'enriched', {
            start: '2026-11-24T10:00:00.000Z',
            end: '2026-11-24T11:00:00.000Z',
          }),
        ),
        fx: await again['fx']?.ingest(req('raw.fx_rates', 'rates', DAY)),
        ads: await again['ads']?.ingest(
          req('raw.ad_reports', 'campaign_daily', DAY, { date: '2026-11-24', platform: 'google' }),
        ),
        // Real commit times (today): a window around them; the watermark (an idle heartbeat's time) is left out.
        cdc: {
          ...(await loader.ingest(req('raw.inventory_db_vendors_changes', 'vendors', EVER))),
          watermark: null,
        },
      };
      const tables: Record<string, string[]> = {};
      for (const [t, drop] of TABLES) tables[t] = await dump(engine, t, dir, drop);
      landed.set(e.type, {
        type: e.type,
        dir,
        first,
        replay,
        ingest,
        tables,
        seconds: (performance.now() - started) / 1000,
      });
    } finally {
      await loader.dropSlot().catch(() => undefined);
      await loader.close();
      await engine.close();
    }
  }
}, 900_000);

afterAll(async () => {
  await pg?.drop();
  for (const l of landed.values()) await rm(l.dir, { recursive: true, force: true });
});

const baseline = (): Landed => {
  const b = landed.get('duckdb');
  if (!b) throw new Error('DuckDB did not land');
  return b;
};

describe('raw landing on DuckDB (the baseline)', () => {
  it('lands every source, quarantines the bad records with reason and position, and the records after them', () => {
    const b = baseline();
    expect(b.first['inventory_db']).toMatchObject({ landed: 3, quarantined: 1 });
    expect(b.first['snowplow']).toMatchObject({ landed: 4, quarantined: 1 });
    expect(b.first['fx']).toMatchObject({ landed: 3, quarantined: 1 });
    expect(b.first['ads']).toMatchObject({ landed: 3 });
    expect(b.first['cdc']?.landed).toBe(4); // two inserts, an update, a delete
    const q = b.tables['raw.quarantine']?.map((r) => JSON.parse(r) as [string, string][]) ?? [];
    const origins = q.map((r) => Object.fromEntries(r)).map((r) => [r['source'], r['origin']]);
    expect(origins).toEqual(
      expect.arrayContaining([
        ['inventory_db', 'inventory_db-20261124.ndjson:3'],
        ['snowplow', '<dir>/snowplow/2026-11-24T10.tsv:3'],
        ['fx', '<dir>/fx/rates-2026-11-24.csv:line 4'],
      ]),
    );
    expect(b.tables['raw.inventory_db_purchases_changes']).toHaveLength(3);
    expect(b.tables['raw.snowplow_events']).toHaveLength(4);
  });
});

describe.each(engines.filter((e) => e.type !== 'duckdb').map((e) => e.type))('raw landing on %s', (type) => {
  const on = (): Landed => {
    const l = landed.get(type);
    if (!l) throw new Error(`${type} did not land`);
    return l;
  };

  it('lands the same raw tables as DuckDB, row for row', () => {
    const l = on();
    process.stdout.write(
      `[engine-landing] ${type}: landed and replayed everything in ${l.seconds.toFixed(1)} s\n`,
    );
    for (const [t] of TABLES)
      expect({ table: t, rows: l.tables[t] }).toEqual({ table: t, rows: baseline().tables[t] });
  });

  it('reports the same landing counts, and a replay lands nothing', () => {
    const l = on();
    const counts = (r: Record<string, LandResult | undefined>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [v?.landed, v?.quarantined]]));
    expect(counts(l.first)).toEqual(counts(baseline().first));
    for (const s of ['inventory_db', 'snowplow', 'fx', 'cdc']) expect(l.replay[s]?.landed).toBe(0);
    // Ads restate whole partitions: the replay rewrote them with the same rows (compared above).
    expect(l.replay['ads']?.landed).toBe(3);
  });

  it('reports the same partitions (row counts, versions) as DuckDB', () => {
    expect(on().ingest).toEqual(baseline().ingest);
  });
});
