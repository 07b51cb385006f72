import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineAdReportStore, type AdReportRow } from '../../src/sources/ads/index.js';
import { adSpendUsdSql, FxTable, ingestFxFile, parseFxCsv, parseFxJson } from '../../src/sources/fx/index.js';
import { EngineRawSink } from '../../src/sources/sinks/engine-sink.js';
import { memoryEngine } from '../fakes/ads/fixtures.js';

describe('FX rates', () => {
  it('parses CSV in any column order, rejecting bad records with reasons', () => {
    const res = parseFxCsv(
      'currency,usd_rate,date,source\nEUR,1.08,2026-11-20,ecb\ngbp,1.27,2026-11-20,ecb\nJPY,-1,2026-11-20,x\nEUR,1.1,2026-02-30,x\n',
    );
    expect(res.rows).toEqual([
      { date: '2026-11-20', currency: 'EUR', usd_rate: 1.08 },
      { date: '2026-11-20', currency: 'GBP', usd_rate: 1.27 },
    ]);
    expect(res.rejected.map((r) => [r.at, r.reason])).toEqual([
      ['line 4', 'usd_rate: rate must be > 0'],
      ['line 5', 'date: not a YYYY-MM-DD date'],
    ]);
    expect(() => parseFxCsv('day,ccy,rate\n')).toThrow(/header must name/);
  });

  it('parses JSON rows and USD-based rate tables (inverted to USD per unit)', () => {
    const res = parseFxJson(
      JSON.stringify([
        { date: '2026-11-20', currency: 'INR', usd_rate: 0.012 },
        { base: 'USD', date: '2026-11-21', rates: { EUR: 0.925, USD: 1 } },
        { date: 'nope' },
      ]),
    );
    expect(res.rows).toEqual([
      { date: '2026-11-20', currency: 'INR', usd_rate: 0.012 },
      { date: '2026-11-21', currency: 'EUR', usd_rate: 1 / 0.925 },
    ]);
    expect(res.rejected).toHaveLength(1);
  });

  it('lands rates idempotently and normalizes ad spend to USD with the latest rate on or before the day', async () => {
    const engine = await memoryEngine();
    const dir = await mkdtemp(join(tmpdir(), 'fx-'));
    try {
      const sink = new EngineRawSink(engine);
      const file = join(dir, 'rates.csv');
      await writeFile(
        file,
        'date,currency,usd_rate\n2026-11-20,EUR,1.08\n2026-11-22,EUR,1.10\n2026-11-01,GBP,1.3\nbad,EUR,1\n',
      );
      expect(await ingestFxFile(file, sink)).toEqual({ inserted: 3, quarantined: 1 });
      expect(await ingestFxFile(file, sink)).toEqual({ inserted: 0, quarantined: 1 });
      expect(await engine.query(`SELECT origin FROM raw.quarantine`)).toEqual([{ origin: `${file}:line 5` }]);

      const store = new EngineAdReportStore(engine);
      const row = (date: string, currency: string, account: string): AdReportRow => ({
        date,
        platform: 'facebook',
        account_id: account,
        account_timezone: 'Europe/Berlin',
        campaign_id: 'c',
        campaign_name: null,
        impressions: 1,
        clicks: 1,
        spend_micros: '100000000',
        currency,
        conversions: 0,
      });
      for (const [date, cur, acct] of [
        ['2026-11-21', 'EUR', 'a'], // Saturday: Friday's 1.08
        ['2026-11-22', 'EUR', 'a'],
        ['2026-11-22', 'USD', 'b'],
        ['2026-11-22', 'GBP', 'c'], // last GBP rate is 21 days old: too stale
      ] as const) {
        await store.replacePartition({ date, platform: 'facebook', account_id: acct }, [
          row(date, cur, acct),
        ]);
      }
      const got = await engine.query(
        `SELECT CAST("date" AS VARCHAR) AS d, currency, round(spend_usd, 6) AS usd FROM (${adSpendUsdSql()}) ORDER BY d, currency`,
      );
      expect(got).toEqual([
        { d: '2026-11-21', currency: 'EUR', usd: 108 },
        { d: '2026-11-22', currency: 'EUR', usd: 110 },
        { d: '2026-11-22', currency: 'GBP', usd: null },
        { d: '2026-11-22', currency: 'USD', usd: 100 },
      ]);

      const fx = new FxTable([
        { date: '2026-11-20', currency: 'EUR', usd_rate: 1.08 },
        { date: '2026-11-01', currency: 'GBP', usd_rate: 1.3 },
      ]);
      expect(fx.toUsdMicros('100000000', 'EUR', '2026-11-21')).toBe('108000000');
      expect(fx.toUsdMicros('5', 'USD', '2026-11-21')).toBe('5');
      expect(fx.toUsdMicros('5', 'GBP', '2026-11-21')).toBeUndefined();
      expect(fx.toUsdMicros('5', 'EUR', '2026-11-19')).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
      await engine.close();
    }
  });
});
