/**
 * The landing folder parses with the repo's own readers, and the truth agrees with what they read:
 * Debezium files through readDebeziumFile + MemorySink, Snowplow lines through parseEnrichedLine, FX through
 * parseFxCsv, ads recomputed with FxTable.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsByPlatform } from '../../src/sources/ads/live/index.js';
import { readCampaignDaily, simulate, type GroundTruth } from '../../src/simulator/index.js';
import { readDebeziumFile } from '../../src/sources/debezium/file.js';
import { parseFxCsv } from '../../src/sources/fx/fx.js';
import { FxTable } from '../../src/sources/fx/normalize.js';
import { MemorySink } from '../../src/sources/sinks/memory-sink.js';
import { parseEnrichedLine } from '../../src/sources/snowplow/parse.js';
import type { SnowplowEventRow } from '../../src/sources/snowplow/schema.js';
import type { RawRow } from '../../src/sources/types.js';

const PII = {
  email: 'hash',
  phone: 'hash',
  password_hash: 'drop',
  'profile_changes.old_value': 'hash',
  'profile_changes.new_value': 'hash',
} as const;

let dir: string;
let truth: GroundTruth;
const sinks: Record<string, MemorySink> = {};
const events: SnowplowEventRow[] = [];
const rejected: { file: string; line: number; reason: string }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-sim-landing-'));
  truth = await simulate({ seed: 2026, start: '2026-11-23', days: 5, landingDir: dir, scale: 'small' });
  for (const db of ['user_db', 'inventory_db']) {
    const sink = new MemorySink();
    sinks[db] = sink;
    for (const f of truth.files.debezium.filter((p) => p.includes(`/${db}/`))) {
      const res = await readDebeziumFile(join(dir, f), sink, {
        source: db,
        pii: db === 'user_db' ? PII : {},
        piiKey: 'simulator-test-key-0123456789',
      });
      expect(res.quarantined, f).toBe(0);
      expect(res.warnings, f).toEqual([]);
    }
  }
  for (const f of truth.files.snowplow) {
    const lines = (await readFile(join(dir, f), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      const r = parseEnrichedLine(line);
      if (r.ok) events.push(r.row);
      else rejected.push({ file: f, line: i + 1, reason: r.reason.split(':')[0] ?? '' });
    });
  }
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rows = (db: string, table: string): RawRow[] => sinks[db]?.rows(`raw.${db}_${table}_changes`) ?? [];
const day = (v: unknown): string => String(v).slice(0, 10);
const ms = (iso: string): number => DateTime.fromISO(iso, { zone: 'utc' }).toMillis();
function countBy<T>(
  items: readonly T[],
  key: (t: T) => string | undefined,
  value: (t: T) => number = () => 1,
) {
  const m = new Map<string, number>();
  for (const x of items) {
    const k = key(x);
    if (k !== undefined) m.set(k, (m.get(k) ?? 0) + value(x));
  }
  return m;
}
const daily = <K extends keyof GroundTruth['daily'][number]>(k: K) =>
  new Map(truth.daily.filter((d) => d[k] !== 0).map((d) => [d.date, d[k]]));

describe('OLTP change events', () => {
  it('land in raw change tables with PII handled at the door', () => {
    const users = rows('user_db', 'users');
    expect(users.length).toBeGreaterThan(50);
    expect(Object.keys(users[0] ?? {})).toEqual(
      expect.arrayContaining(['email_hash', 'phone_hash', '_lsn', '_op']),
    );
    expect(Object.keys(users[0] ?? {})).not.toContain('email');
    expect(Object.keys(rows('user_db', 'credentials')[0] ?? {})).not.toContain('password_hash');
    const lsns = [...rows('inventory_db', 'purchases'), ...rows('inventory_db', 'listings')]
      .sort(
        (a, b) =>
          String(a._commit_time).localeCompare(String(b._commit_time)) || Number(a._seq) - Number(b._seq),
      )
      .map((r) => String(r._lsn));
    expect(lsns).toEqual([...lsns].sort());
  });

  it('agree with the truth: sign-ups, deletions, bookings and revenue per day', () => {
    const users = rows('user_db', 'users');
    expect(
      countBy(
        users.filter((r) => r._op === 'c'),
        (r) => day(r.created_at),
      ),
    ).toEqual(daily('users_signed_up'));
    expect(
      countBy(
        users.filter((r) => r._op === 'd'),
        (r) => day(r._commit_time),
      ),
    ).toEqual(daily('users_deleted'));
    const purchases = rows('inventory_db', 'purchases');
    const created = purchases.filter((r) => r._op === 'c');
    expect(created.every((r) => r.status === 'pending' && r.currency === 'USD')).toBe(true);
    expect(countBy(created, (r) => day(r.placed_at))).toEqual(daily('bookings_created'));
    const becomes = (s: string) => purchases.filter((r) => r._op === 'u' && r.status === s);
    expect(countBy(becomes('confirmed'), (r) => day(r.confirmed_at))).toEqual(daily('bookings_confirmed'));
    expect(
      countBy(
        becomes('confirmed'),
        (r) => day(r.confirmed_at),
        (r) => Number(r.amount_cents),
      ),
    ).toEqual(daily('gross_confirmed_cents'));
    expect(
      countBy(
        becomes('refunded'),
        (r) => day(r.refunded_at),
        (r) => Number(r.amount_cents),
      ),
    ).toEqual(daily('refunded_cents'));
    expect(countBy(becomes('cancelled'), (r) => day(r.cancelled_at))).toEqual(daily('bookings_cancelled'));
    for (const k of ['users_deleted', 'bookings_confirmed', 'bookings_cancelled', 'bookings_refunded'])
      expect(truth.totals[k], k).toBeGreaterThan(0);
    const items = rows('inventory_db', 'purchase_items');
    expect(items.length).toBe(created.length);
    const listings = rows('inventory_db', 'listings');
    expect(listings.find((r) => r._op === 'c')?.amenities).toMatch(/^\[/);
  });
});

describe('Snowplow enriched events', () => {
  it('quarantine exactly the planted malformed lines', () => {
    expect(rejected).toEqual(truth.malformed);
    expect(rejected.length).toBeGreaterThanOrEqual(truth.days);
  });

  it('agree with the truth after dedupe: page views, duplicates, sessions, exposures', () => {
    const byId = new Map<string, SnowplowEventRow>();
    for (const e of events) {
      expect(e.event_hour).toBe(e.derived_tstamp.slice(0, 13));
      byId.set(e.event_id, e);
    }
    expect(events.length - byId.size).toBe(truth.totals['duplicate_events']);
    const unique = [...byId.values()];
    expect(
      countBy(unique, (e) => (e.event_name === 'page_view' ? day(e.derived_tstamp) : undefined)),
    ).toEqual(daily('page_views'));
    const late = unique.filter((e) => ms(e.collector_tstamp) - ms(e.derived_tstamp) >= 3_600_000);
    expect(late.length).toBe(truth.totals['late_events']);
    // Sessions with the catalog's rule, and the tracker's domain_sessionid agrees with it.
    const starts: SnowplowEventRow[] = [];
    const pairs = new Set<string>();
    const byBrowser = new Map<string, SnowplowEventRow[]>();
    for (const e of unique)
      byBrowser.set(e.domain_userid ?? '', [...(byBrowser.get(e.domain_userid ?? '') ?? []), e]);
    for (const list of byBrowser.values()) {
      list.sort((a, b) => a.derived_tstamp.localeCompare(b.derived_tstamp));
      list.forEach((e, i) => {
        const prev = list[i - 1];
        if (!prev || ms(e.derived_tstamp) - ms(prev.derived_tstamp) >= 1_800_000) starts.push(e);
        pairs.add(`${starts.at(-1)?.event_id}|${e.domain_sessionid}`);
      });
    }
    expect(countBy(starts, (e) => day(e.derived_tstamp))).toEqual(daily('sessions'));
    // One tracker session id per rule session and vice versa.
    expect(new Set(unique.map((e) => e.domain_sessionid)).size).toBe(starts.length);
    expect(pairs.size).toBe(starts.length);
    const paid = starts.filter((e) => e.mkt_source !== null);
    expect(paid.length).toBeGreaterThan(0);
    expect(paid.every((e) => e.mkt_medium === 'cpc' && e.page_url?.includes('utm_campaign='))).toBe(true);
    const sumSource = (s: string) =>
      truth.daily.reduce((n, d) => n + (d.sessions_by_source[s as 'google'] ?? 0), 0);
    expect(paid.filter((e) => e.mkt_source === 'google').length).toBe(sumSource('google'));
  });

  it('carry the checkout_v2 exposure; converters per variant match the purchases', () => {
    const exposures = [...new Map(events.map((e) => [e.event_id, e])).values()].filter(
      (e) => e.experiment_key,
    );
    expect(exposures.every((e) => e.page_urlpath?.startsWith('/checkout/') && e.user_id !== null)).toBe(true);
    const first = new Map<string, SnowplowEventRow>();
    for (const e of exposures.sort((a, b) => a.derived_tstamp.localeCompare(b.derived_tstamp)))
      if (!first.has(e.user_id as string)) first.set(e.user_id as string, e);
    const placed = rows('inventory_db', 'purchases').filter((r) => r._op === 'c');
    for (const variant of ['control', 'treatment'] as const) {
      const users = [...first.values()].filter((e) => e.experiment_variant === variant);
      const converters = users.filter((e) =>
        placed.some(
          (p) => String(p.user_id) === e.user_id && String(p.placed_at) >= e.derived_tstamp.replace('Z', ''),
        ),
      );
      expect(users.length).toBe(truth.experiment.variants[variant].exposed_users);
      expect(converters.length).toBe(truth.experiment.variants[variant].converters);
    }
    expect(truth.experiment.true_effect.multiplier).toBe(1.2);
  });
});

describe('ads and FX', () => {
  it('rates cover every day and currency; spend in USD matches the truth', async () => {
    const fx = parseFxCsv(await readFile(join(dir, truth.files.fx), 'utf8'));
    expect(fx.rejected).toEqual([]);
    expect(fx.rows.length).toBe(truth.days * 3);
    const table = new FxTable(fx.rows);
    const ads = await readCampaignDaily(dir);
    const spend = countBy(
      ads,
      (r) => `${r.date}|${r.platform}`,
      (r) => (Number(r.spend_micros) / 1e6) * (table.usdRate(r.account_currency, r.date) ?? NaN),
    );
    for (const a of truth.ads_daily) expect(spend.get(`${a.date}|${a.platform}`)).toBeCloseTo(a.spend_usd, 4);
    expect(new Set(ads.map((r) => r.account_currency))).toEqual(new Set(['USD', 'EUR', 'GBP']));
    const accounts = accountsByPlatform(ads);
    expect(accounts.google.map((a) => a.timezone)).toEqual(['America/New_York', 'Europe/London']);
    expect(accounts.twitter[0]?.rows.length).toBe(truth.days * 2);
  });
});
