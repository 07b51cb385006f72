import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engines/types.js';
import { AdsApiError, AdsAuthError } from '../../../src/sources/ads/errors.js';
import { EngineAdReportStore } from '../../../src/sources/ads/store.js';
import { syncAdAccount } from '../../../src/sources/ads/sync.js';
import type { AdPlatform, AdsConnector } from '../../../src/sources/ads/types.js';
import { account, landed, memoryEngine, NOW, sampleRows } from './fixtures.js';
import type {
  FakeAdAccount,
  FakeResponse,
  FakeServer,
} from '../../../src/sources/ads/live/fake-apis/server.js';

/**
 * The behaviour every ads connector shares, run against its local fake: a first sync lands the restatement
 * window in account-local days; paging; a restated day replaces its partition (and a withdrawn campaign-day
 * disappears) while days outside the window stay; re-running is idempotent; rate limits and 5xx are retried;
 * bad credentials raise AdsAuthError without retrying.
 */
export interface ConnectorHarness {
  readonly platform: AdPlatform;
  readonly accountId: string;
  readonly timezone: string;
  readonly restatementDays: number;
  /** Starts the fake with these accounts; `pageSize` small enough to force several pages. */
  start(accounts: FakeAdAccount[]): Promise<FakeServer>;
  connector(server: FakeServer, opts?: { badCredentials?: boolean }): AdsConnector;
  /** The platform's rate-limit answer (waits 0 s). */
  readonly rateLimited: FakeResponse;
  /** Path fragment of report requests (to aim faults at them). */
  readonly reportPath: string;
  /** Path fragment of the paged requests, when it is not the report (X pages its campaign listing). */
  readonly pagedPath?: string;
}

export function adsConnectorContract(h: ConnectorHarness): void {
  describe(`${h.platform} connector against its local fake`, () => {
    let engine: Engine;
    let server: FakeServer;
    let acct: FakeAdAccount;
    // Account-local today is 2026-11-23 in America/*, 2026-11-24 east of UTC (NOW is 06:00Z).
    const today = NOW.setZone(h.timezone).toISODate() as string;
    const windowStart = NOW.setZone(h.timezone).minus({ days: h.restatementDays }).toISODate() as string;
    const yesterday = NOW.setZone(h.timezone).minus({ days: 1 }).toISODate() as string;

    beforeEach(async () => {
      engine = await memoryEngine();
      acct = account(h.accountId, h.timezone, 'EUR', sampleRows('2026-09-01', today));
      server = await h.start([acct]);
    });
    afterEach(async () => {
      await server.close();
      await engine.close();
    });

    const sync = (connector: AdsConnector) =>
      syncAdAccount({ connector, accountId: h.accountId, store: new EngineAdReportStore(engine), now: NOW });

    it('lands the closed days of the restatement window, in the account timezone, with exact spend', async () => {
      const res = await sync(h.connector(server));
      expect(res.timezone).toBe(h.timezone);
      expect(res.currency).toBe('EUR');
      expect(res.days[0]).toBe(windowStart);
      expect(res.days.at(-1)).toBe(yesterday);
      expect(res.days).toHaveLength(h.restatementDays);
      expect(res.partitions.map((p) => p.key)).toContain(`${yesterday}|${h.platform}|${h.accountId}`);
      const rows = await landed(engine, h.platform, h.accountId);
      const expected = acct.rows.filter((r) => r.date >= windowStart && r.date <= yesterday);
      expect(rows).toHaveLength(expected.length);
      const first = expected[0];
      const got = rows.find((r) => r.date === first?.date && r.campaign_id === first?.campaignId);
      expect(got).toMatchObject({
        impressions: first?.impressions,
        clicks: first?.clicks,
        spend_micros: String(first?.spendMicros),
        conversions: first?.conversions,
        currency: 'EUR',
        account_timezone: h.timezone,
        campaign_name: first?.campaignName,
      });
      expect(res.watermark.watermark).toBe(
        NOW.setZone(h.timezone).startOf('day').toUTC().toISO({ suppressMilliseconds: true }),
      );
      // Paging: the paged listing took more than one request.
      const paged = h.pagedPath ?? h.reportPath;
      expect(server.requests.filter((r) => r.path.includes(paged)).length).toBeGreaterThan(1);
    });

    it('replaces restated days within the window, leaves older days, and re-runs idempotently', async () => {
      await syncAdAccount({
        connector: h.connector(server),
        accountId: h.accountId,
        store: new EngineAdReportStore(engine),
        now: NOW,
        firstDay: '2026-10-01',
      });
      const before = await landed(engine, h.platform, h.accountId);
      // The platform restates: yesterday's first campaign changes, its second is withdrawn, an old day changes.
      const restatedCampaign = acct.rows.find((r) => r.date === yesterday && r.campaignId === '111');
      acct.rows = acct.rows
        .filter((r) => !(r.date === yesterday && r.campaignId === '222'))
        .map((r) =>
          r === restatedCampaign
            ? { ...r, impressions: 7, clicks: 3, spendMicros: 990_000n, conversions: 1 }
            : r.date === '2026-10-01'
              ? { ...r, impressions: 1 }
              : r,
        );
      const res = await sync(h.connector(server));
      expect(res.days[0]).toBe(windowStart);
      const after = await landed(engine, h.platform, h.accountId);
      const y = after.filter((r) => r.date === yesterday);
      expect(y).toEqual([
        expect.objectContaining({ campaign_id: '111', impressions: 7, spend_micros: '990000' }),
      ]);
      // Outside the window nothing was re-pulled.
      expect(after.filter((r) => r.date === '2026-10-01')).toEqual(
        before.filter((r) => r.date === '2026-10-01'),
      );
      expect(after).toHaveLength(before.length - 1);
      await sync(h.connector(server));
      expect(await landed(engine, h.platform, h.accountId)).toEqual(after);
    });

    it('retries rate limits and 5xx, then succeeds', async () => {
      server.fail({ ...h.rateLimited, match: h.reportPath, times: 2 });
      server.fail({
        status: 503,
        body: { error: 'unavailable' },
        headers: { 'retry-after': '0' },
        match: h.reportPath,
      });
      const res = await sync(h.connector(server));
      expect(res.rows).toBeGreaterThan(0);
    });

    it('gives up on a rate limit that does not clear with a retryable error', async () => {
      server.fail({ ...h.rateLimited, match: h.reportPath, times: 100 });
      const err = await sync(h.connector(server)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdsApiError);
      expect(err).not.toBeInstanceOf(AdsAuthError);
      expect((err as AdsApiError).retryable).toBe(true);
    });

    it('raises AdsAuthError on bad credentials, without retrying and without leaking them', async () => {
      const err = await sync(h.connector(server, { badCredentials: true })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdsAuthError);
      expect((err as AdsAuthError).retryable).toBe(false);
      expect((err as Error).message).toContain(h.platform);
      expect((err as Error).message).not.toMatch(/wrong-secret/);
      expect(server.requests).toHaveLength(1);
    });
  });
}
