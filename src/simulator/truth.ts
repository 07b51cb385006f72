import { z } from 'zod';
import type { FxRateRow } from '../sources/fx/fx.js';
import type { CampaignDailyRow } from './ads.js';
import type { ClickFact } from './clickstream.js';
import { EXPERIMENT } from './config.js';
import type { MalformedLine } from './snowplow-files.js';
import { addDays, US_PER_MS, utcDate } from './time.js';
import type { Facts } from './core.js';

/**
 * The ground truth of a simulated landing folder (`truth.json`), computed from what was actually written:
 * OLTP facts by UTC day of their timestamp column, clickstream by UTC day of derived_tstamp after dropping
 * malformed lines and duplicates, sessions with the catalog's rule (a gap ≥ 30 min on derived_tstamp per
 * domain_userid starts a new session; a session counts on the day of its first event), ads by account-local day.
 */

const count = z.number().int().nonnegative();
const SOURCES = ['organic', 'google', 'facebook', 'tiktok', 'twitter'] as const;

export const dayTruthSchema = z.object({
  date: z.string(),
  users_signed_up: count,
  users_deleted: count,
  users_at_end_of_day: count,
  profile_edits: count,
  vendors_created: count,
  listings_created: count,
  listing_price_changes: count,
  bookings_created: count,
  bookings_confirmed: count,
  bookings_cancelled: count,
  bookings_refunded: count,
  gross_confirmed_cents: count,
  refunded_cents: count,
  net_revenue_cents: z.number().int(),
  events: count,
  page_views: count,
  page_pings: count,
  searches: count,
  link_clicks: count,
  sessions: count,
  sessions_by_source: z.record(z.enum(SOURCES), count),
  experiment_exposures: count,
  malformed_lines: count,
  duplicate_events: count,
  late_events: count,
});
export type DayTruth = z.infer<typeof dayTruthSchema>;

export const adDayTruthSchema = z.object({
  date: z.string(),
  platform: z.enum(['google', 'facebook', 'tiktok', 'twitter']),
  spend_usd: z.number(),
  impressions: count,
  clicks: count,
  conversions: count,
  rows: count,
});

const variantTruth = z.object({
  exposed_users: count,
  converters: count,
  conversion_rate: z.number(),
  bookings: count,
});

export const groundTruthSchema = z.object({
  version: z.literal(1),
  seed: z.number().int(),
  start: z.string(),
  days: z.number().int().positive(),
  scale: z.enum(['small', 'demo']),
  daily: z.array(dayTruthSchema),
  ads_daily: z.array(adDayTruthSchema),
  experiment: z.object({
    key: z.string(),
    unit: z.literal('user_id'),
    exposure: z.string(),
    conversion: z.string(),
    variants: z.object({ control: variantTruth, treatment: variantTruth }),
    true_effect: z.object({
      control_conversion: z.number(),
      treatment_conversion: z.number(),
      multiplier: z.number(),
      relative_lift: z.number(),
    }),
  }),
  malformed: z.array(
    z.object({ file: z.string(), line: z.number().int(), reason: z.enum(['field_count', 'bad_timestamp']) }),
  ),
  totals: z.record(z.string(), z.number()),
  files: z.object({
    debezium: z.array(z.string()),
    snowplow: z.array(z.string()),
    ads: z.string(),
    fx: z.string(),
    debezium_events: z.record(z.string(), count),
    snowplow_lines: count,
  }),
});
export type GroundTruth = z.infer<typeof groundTruthSchema>;

export interface TruthInput {
  readonly seed: number;
  readonly start: string;
  readonly days: number;
  readonly scale: 'small' | 'demo';
  readonly facts: Facts;
  readonly clicks: readonly ClickFact[];
  readonly malformed: readonly MalformedLine[];
  readonly duplicatesByDay: ReadonlyMap<string, number>;
  readonly ads: readonly CampaignDailyRow[];
  readonly fx: readonly FxRateRow[];
  readonly files: GroundTruth['files'];
}

type Counters = Omit<DayTruth, 'date' | 'sessions_by_source'>;

export function computeTruth(input: TruthInput): GroundTruth {
  const dates = Array.from({ length: input.days }, (_, i) => addDays(input.start, i));
  const zero = (): Counters => ({
    ...(Object.fromEntries(
      Object.keys(dayTruthSchema.shape)
        .filter((k) => k !== 'date' && k !== 'sessions_by_source')
        .map((k) => [k, 0]),
    ) as Counters),
  });
  const days = new Map(
    dates.map((d) => [
      d,
      {
        c: zero(),
        src: Object.fromEntries(SOURCES.map((s) => [s, 0])) as Record<(typeof SOURCES)[number], number>,
      },
    ]),
  );
  const bump = (us: number | null, key: keyof Counters, n = 1) => {
    const d = us === null ? undefined : days.get(utcDate(us));
    if (d) d.c[key] += n;
  };
  const f = input.facts;
  f.signups.forEach((t) => bump(t, 'users_signed_up'));
  f.deletions.forEach((t) => bump(t, 'users_deleted'));
  f.profileEdits.forEach((t) => bump(t, 'profile_edits'));
  f.vendorsCreated.forEach((t) => bump(t, 'vendors_created'));
  f.listingsCreated.forEach((t) => bump(t, 'listings_created'));
  f.priceChanges.forEach((t) => bump(t, 'listing_price_changes'));
  for (const p of f.purchases) {
    bump(p.placedUs, 'bookings_created');
    bump(p.confirmedUs, 'bookings_confirmed');
    bump(p.confirmedUs, 'gross_confirmed_cents', p.amountCents);
    bump(p.cancelledUs, 'bookings_cancelled');
    bump(p.refundedUs, 'bookings_refunded');
    bump(p.refundedUs, 'refunded_cents', p.amountCents);
  }
  let alive = 0;
  for (const d of days.values()) {
    alive += d.c.users_signed_up - d.c.users_deleted;
    d.c.users_at_end_of_day = alive;
    d.c.net_revenue_cents = d.c.gross_confirmed_cents - d.c.refunded_cents;
  }

  const EVENT_KEY = {
    page_view: 'page_views',
    page_ping: 'page_pings',
    struct: 'searches',
    link_click: 'link_clicks',
  } as const;
  const byBrowser = new Map<string, ClickFact[]>();
  for (const e of input.clicks) {
    const us = e.ms * US_PER_MS;
    bump(us, 'events');
    bump(us, EVENT_KEY[e.event]);
    if (e.late) bump(us, 'late_events');
    if (e.exposure) bump(us, 'experiment_exposures');
    let list = byBrowser.get(e.browser);
    if (!list) byBrowser.set(e.browser, (list = []));
    list.push(e);
  }
  for (const list of byBrowser.values()) {
    list.sort((a, b) => a.ms - b.ms);
    let last = -Infinity;
    for (const e of list) {
      if (e.ms - last >= 30 * 60_000) {
        const d = days.get(utcDate(e.ms * US_PER_MS));
        if (d) {
          d.c.sessions++;
          d.src[(e.source ?? 'organic') as (typeof SOURCES)[number]]++;
        }
      }
      last = e.ms;
    }
  }
  for (const m of input.malformed) {
    const d = days.get(m.file.slice('snowplow/'.length, 'snowplow/'.length + 10));
    if (d) d.c.malformed_lines++;
  }
  for (const [date, n] of input.duplicatesByDay) {
    const d = days.get(date);
    if (d) d.c.duplicate_events += n;
  }
  const daily: DayTruth[] = dates.map((date) => {
    const d = days.get(date) as { c: Counters; src: DayTruth['sessions_by_source'] };
    return { date, ...d.c, sessions_by_source: d.src };
  });

  const adsDaily = adTruth(input.ads, input.fx);
  const totals: Record<string, number> = {};
  for (const d of daily)
    for (const [k, v] of Object.entries(d))
      if (typeof v === 'number' && k !== 'users_at_end_of_day') totals[k] = (totals[k] ?? 0) + v;
  for (const a of adsDaily)
    totals[`spend_usd_${a.platform}`] = round6((totals[`spend_usd_${a.platform}`] ?? 0) + a.spend_usd);

  return {
    version: 1,
    seed: input.seed,
    start: input.start,
    days: input.days,
    scale: input.scale,
    daily,
    ads_daily: adsDaily,
    experiment: experimentTruth(input),
    malformed: [...input.malformed],
    totals,
    files: input.files,
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function adTruth(rows: readonly CampaignDailyRow[], fx: readonly FxRateRow[]): GroundTruth['ads_daily'] {
  const rate = new Map(fx.map((r) => [`${r.date}|${r.currency}`, r.usd_rate]));
  const out = new Map<string, GroundTruth['ads_daily'][number]>();
  for (const r of rows) {
    const key = `${r.date}|${r.platform}`;
    const a = out.get(key) ?? {
      date: r.date,
      platform: r.platform,
      spend_usd: 0,
      impressions: 0,
      clicks: 0,
      conversions: 0,
      rows: 0,
    };
    const usdRate = r.account_currency === 'USD' ? 1 : rate.get(`${r.date}|${r.account_currency}`);
    if (usdRate === undefined)
      throw new Error(`simulator: no FX rate for ${r.account_currency} on ${r.date}`);
    out.set(key, {
      ...a,
      spend_usd: a.spend_usd + (Number(r.spend_micros) / 1e6) * usdRate,
      impressions: a.impressions + r.impressions,
      clicks: a.clicks + r.clicks,
      conversions: a.conversions + r.conversions,
      rows: a.rows + 1,
    });
  }
  return [...out.values()].map((a) => ({ ...a, spend_usd: round6(a.spend_usd) }));
}

function experimentTruth(input: TruthInput): GroundTruth['experiment'] {
  const first = new Map<number, { ms: number; variant: 'control' | 'treatment' }>();
  for (const e of input.clicks) {
    if (!e.exposure || e.userId === null) continue;
    const cur = first.get(e.userId);
    if (!cur || e.ms < cur.ms) first.set(e.userId, { ms: e.ms, variant: e.exposure });
  }
  const v = {
    control: { exposed_users: 0, converters: 0, conversion_rate: 0, bookings: 0 },
    treatment: { exposed_users: 0, converters: 0, conversion_rate: 0, bookings: 0 },
  };
  const converted = new Set<number>();
  for (const x of first.values()) v[x.variant].exposed_users++;
  for (const p of input.facts.purchases) {
    const x = first.get(p.userId);
    if (!x || p.placedUs < x.ms * US_PER_MS) continue;
    v[x.variant].bookings++;
    if (!converted.has(p.userId)) {
      converted.add(p.userId);
      v[x.variant].converters++;
    }
  }
  for (const s of [v.control, v.treatment])
    s.conversion_rate = s.exposed_users > 0 ? s.converters / s.exposed_users : 0;
  return {
    key: EXPERIMENT.key,
    unit: 'user_id',
    exposure:
      'page_view of /checkout/<listing_id> carrying the experiment_exposure context (logged-in users only)',
    conversion:
      'user placed ≥ 1 purchase (purchases.placed_at) at or after their first exposure, within the simulated window',
    variants: v,
    true_effect: {
      control_conversion: EXPERIMENT.controlConversion,
      treatment_conversion: round6(EXPERIMENT.controlConversion * EXPERIMENT.multiplier),
      multiplier: EXPERIMENT.multiplier,
      relative_lift: round6(EXPERIMENT.multiplier - 1),
    },
  };
}
