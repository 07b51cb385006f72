import type { AdPlatform } from '../sources/ads/types.js';
import {
  contextsJson,
  experimentExposureContext,
  linkClickEvent,
  listingContext,
  unstructEventJson,
  type EnrichedEventInput,
  type SelfDescribingJson,
} from '../sources/snowplow/encode.js';
import {
  AD_ACCOUNTS,
  CLICK_ID_PARAM,
  CITIES,
  EXPERIMENT,
  RATES,
  SEARCH_TERMS,
  USER_COUNTRIES,
  USER_COUNTRY_WEIGHTS,
  type ScaleParams,
  type Variant,
} from './config.js';
import { baseEvent, newBrowser, type PageInfo, type SessionInfo } from './events.js';
import type { Browser, Listing, User } from './model.js';
import type { Rng } from './rng.js';
import type { SnowplowFiles } from './snowplow-files.js';
import { US_PER_MS } from './time.js';
import type { World } from './world.js';

/** Browsing sessions: anonymous visits, sign-ups and logged-in users who search, browse, check out and book. */

export type ClickEventName = 'page_view' | 'page_ping' | 'struct' | 'link_click';

/** One valid event as the truth needs it (duplicates and malformed lines are not in here). */
export interface ClickFact {
  readonly ms: number;
  readonly browser: string;
  readonly event: ClickEventName;
  readonly userId: number | null;
  readonly exposure: Variant | null;
  readonly source: string | null;
  readonly late: boolean;
}

interface Campaign {
  readonly platform: AdPlatform;
  readonly id: string;
}

const CAMPAIGNS: readonly Campaign[] = AD_ACCOUNTS.flatMap((a) =>
  a.campaigns.map((c) => ({ platform: a.platform, id: c.id })),
);
const CAMPAIGN_WEIGHTS = AD_ACCOUNTS.flatMap((a) => a.campaigns.map((c) => c.budget / c.cpc));
const REFERRERS: Readonly<Record<AdPlatform, readonly [string, string, string]>> = {
  google: ['www.google.com', 'search', 'Google'],
  facebook: ['m.facebook.com', 'social', 'Facebook'],
  tiktok: ['www.tiktok.com', 'social', 'TikTok'],
  twitter: ['t.co', 'social', 'Twitter'],
};
const GAP_MS = 45 * 60_000;

interface Cursor {
  t: number;
  readonly s: SessionInfo;
  user: User | undefined;
  landing: EnrichedEventInput | undefined;
  source: string | null;
}

export class Clickstream {
  readonly facts: ClickFact[] = [];
  private readonly anon: Browser[] = [];

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly files: SnowplowFiles,
    private readonly endMs: number,
  ) {}

  planDay(dayStart: number, dayIndex: number, scale: ScaleParams): void {
    const w = this.world;
    const r = this.rng;
    const signups = r.poisson(scale.signupsPerDay * (dayIndex === 0 ? scale.launchFactor : 1));
    for (let i = 0; i < signups; i++) w.schedule(w.timeInDay(dayStart), (t) => this.anonSession(t, true));
    const anon = r.poisson(scale.anonSessionsPerDay);
    for (let i = 0; i < anon; i++) w.schedule(w.timeInDay(dayStart), (t) => this.anonSession(t, false));
    for (const u of w.alive.items)
      if (r.chance(scale.userSessionRate)) w.schedule(w.timeInDay(dayStart), (t) => this.userSession(t, u));
  }

  private anonSession(at: number, signup: boolean): void {
    const ms = Math.floor(at / US_PER_MS);
    let b: Browser | undefined =
      this.anon.length > 0 && this.rng.chance(0.3) ? this.rng.pick(this.anon) : undefined;
    if (!b || b.userId !== undefined || ms < b.lastEventMs + GAP_MS) {
      b = newBrowser(this.rng, this.rng.weighted(USER_COUNTRIES, USER_COUNTRY_WEIGHTS));
      this.anon.push(b);
    }
    this.session(ms, b, undefined, signup);
  }

  private userSession(at: number, u: User): void {
    if (u.deletedUs !== undefined) return;
    const r = this.rng;
    const first = u.browsers[0] as Browser;
    if (u.browsers.length === 1 && r.chance(0.25)) {
      const b = newBrowser(r, u.country, !first.mobile);
      b.userId = u.id;
      u.browsers.push(b);
    }
    const b = r.pick(u.browsers);
    const ms = Math.floor(at / US_PER_MS);
    if (ms < b.lastEventMs + GAP_MS) {
      const later = (b.lastEventMs + GAP_MS + r.int(0, 90 * 60_000)) * US_PER_MS;
      this.world.schedule(later, (t) => this.userSession(t, u));
      return;
    }
    b.country = u.country;
    this.session(ms, b, u, false);
  }

  private session(startMs: number, b: Browser, user: User | undefined, signup: boolean): void {
    const r = this.rng;
    b.sessions++;
    const c: Cursor = {
      t: startMs,
      s: { browser: b, sessionId: r.uuid(), sessionIdx: b.sessions },
      user,
      landing: undefined,
      source: null,
    };
    const paid = r.chance(user ? RATES.paidRegistered : RATES.paidAnon);
    const campaign = paid ? r.weighted(CAMPAIGNS, CAMPAIGN_WEIGHTS) : undefined;
    c.landing = this.landingFields(campaign);
    c.source = campaign?.platform ?? null;
    const viewed: Listing[] = [];
    const land = r.next();
    if (land < 0.35 || this.world.published.size === 0)
      this.page(c, { path: '/', title: 'BookMyEvent: venues and vendors for every event' });
    else if (land < 0.65) this.search(c);
    else viewed.push(this.listing(c));
    let steps = Math.min(10, r.poisson(2.6));
    if (signup) {
      for (let i = Math.min(steps, r.int(0, 2)); i > 0; i--, steps--) this.step(c, viewed);
      this.page(c, { path: '/signup', title: 'Create your account | BookMyEvent' });
      c.t += r.int(30_000, 180_000);
      if (c.t >= this.endMs) return;
      c.user = this.world.signUp(c.t * US_PER_MS, b);
      const at = this.anon.indexOf(b);
      if (at >= 0) this.anon.splice(at, 1);
      c.t += 2_000;
      this.page(c, { path: '/welcome', title: 'Welcome to BookMyEvent' });
      steps = Math.min(steps, r.int(0, 3));
    }
    for (let i = 0; i < steps; i++) this.step(c, viewed);
    const last = viewed.at(-1);
    if (c.user && last && this.world.published.has(last) && r.chance(RATES.checkout))
      this.checkout(c, last, viewed);
  }

  private step(c: Cursor, viewed: Listing[]): void {
    const r = this.rng;
    const kind =
      this.world.published.size === 0
        ? 'search'
        : r.weighted(['listing', 'search', 'vendor', 'click'], [50, 30, 8, 12]);
    const last = viewed.at(-1);
    if (kind === 'search') this.search(c);
    else if (kind === 'vendor' && last)
      this.page(c, { path: `/vendors/${last.vendorId}`, title: 'Vendor profile | BookMyEvent' });
    else if (kind === 'click' && last) {
      const target = r.chance(0.5)
        ? `https://www.instagram.com/bme_vendor_${last.vendorId}/`
        : `https://maps.google.com/?q=${encodeURIComponent(last.city)}`;
      this.emit(
        c,
        'unstruct',
        this.pageOf(last),
        { unstruct_event: unstructEventJson(linkClickEvent(target, { elementId: 'vendor-link' })) },
        [listingContext(String(last.id))],
      );
      c.t += r.int(2_000, 60_000);
    } else viewed.push(this.listing(c));
  }

  private pageOf(l: Listing): PageInfo {
    return { path: `/listings/${l.id}`, title: `${l.title} | BookMyEvent` };
  }

  private listing(c: Cursor): Listing {
    const l = this.rng.pick(this.world.published.items);
    this.page(c, this.pageOf(l), [listingContext(String(l.id))]);
    return l;
  }

  private search(c: Cursor): void {
    const r = this.rng;
    const term = r.pick(SEARCH_TERMS);
    const [city] = r.pick(CITIES) as readonly [string, string];
    const query = `q=${encodeURIComponent(term)}&city=${encodeURIComponent(city)}`;
    const page: PageInfo = { path: '/search', query, title: `${term} in ${city} | BookMyEvent` };
    const t0 = c.t;
    this.emit(c, 'page_view', page, {});
    c.t = t0 + r.int(200, 900);
    const results = this.world.published.items.filter((l) => l.city === city).length;
    this.emit(c, 'struct', page, {
      se_category: 'search',
      se_action: 'search',
      se_label: term,
      se_property: city,
      se_value: results,
    });
    c.t = t0;
    this.think(c, r.int(0, 1), page);
  }

  /** A page view, its page pings, then the reader's think time. */
  private page(c: Cursor, page: PageInfo, contexts: SelfDescribingJson[] = []): boolean {
    const ok = this.emit(c, 'page_view', page, {}, contexts);
    this.think(c, this.rng.int(0, 2), page, contexts);
    return ok;
  }

  private think(c: Cursor, pings: number, page?: PageInfo, contexts: SelfDescribingJson[] = []): void {
    const t0 = c.t;
    for (let i = 1; page && i <= pings; i++) {
      c.t = t0 + i * 10_000;
      const y = this.rng.int(200, 4000);
      this.emit(
        c,
        'page_ping',
        page,
        { pp_xoffset_min: 0, pp_xoffset_max: 0, pp_yoffset_min: 0, pp_yoffset_max: y },
        contexts,
      );
    }
    const read = Math.min(8 * 60_000, 5_000 + Math.round(this.rng.exp(50_000)));
    c.t = t0 + Math.max(read, pings * 10_000 + this.rng.int(2_000, 8_000));
  }

  /** Checkout page (the experiment's exposure); converters book, once or again later. */
  private checkout(c: Cursor, listing: Listing, viewed: readonly Listing[]): void {
    const u = c.user as User;
    const r = this.rng;
    const page: PageInfo = { path: `/checkout/${listing.id}`, title: 'Checkout | BookMyEvent' };
    const exposure = experimentExposureContext(EXPERIMENT.key, u.variant);
    if (!this.emit(c, 'page_view', page, {}, [exposure, listingContext(String(listing.id))], u.variant))
      return;
    const first = u.converts === undefined;
    if (first) u.converts = r.chance(this.world.conversionChance(u));
    const books = first ? u.converts : u.converts === true && r.chance(RATES.repeatBooking);
    if (!books) return this.think(c, r.int(0, 3), page, [exposure]);
    c.t += r.int(60_000, 240_000);
    if (c.t >= this.endMs) return;
    const p = this.world.book(c.t * US_PER_MS, u, listing);
    // The cart: the venue plus, often, vendor services viewed in the same session.
    const others = [...new Set(viewed)].filter((l) => l.id !== listing.id && this.world.published.has(l));
    for (const extra of others.slice(0, 2))
      if (r.chance(0.5)) this.world.book((c.t + r.int(1, 20)) * US_PER_MS, u, extra);
    c.t += 2_000;
    this.page(c, { path: `/bookings/${p.id}/confirmation`, title: 'Booking received | BookMyEvent' });
  }

  /** Emits one event (dropped past the window's end); the session's first carries its marketing fields. */
  private emit(
    c: Cursor,
    event: 'page_view' | 'page_ping' | 'struct' | 'unstruct',
    page: PageInfo,
    extra: EnrichedEventInput,
    contexts: readonly SelfDescribingJson[] = [],
    exposure: Variant | null = null,
  ): boolean {
    if (c.t >= this.endMs) return false;
    const landing = c.landing;
    c.landing = undefined;
    const withQuery: PageInfo = landing?.page_urlquery
      ? { ...page, query: [page.query, String(landing.page_urlquery)].filter(Boolean).join('&') }
      : page;
    const { fields, late } = baseEvent(this.rng, c.s, c.t, event, c.user?.id, withQuery);
    const all: EnrichedEventInput = { ...fields, ...(landing ?? {}), ...extra };
    if (landing) all.page_urlquery = withQuery.query ?? null;
    if (contexts.length > 0) all.contexts = contextsJson(contexts);
    this.files.add(c.t, all);
    const b = c.s.browser;
    if (c.t > b.lastEventMs) b.lastEventMs = c.t;
    this.facts.push({
      ms: c.t,
      browser: b.id,
      event: event === 'unstruct' ? 'link_click' : event,
      userId: c.user?.id ?? null,
      exposure,
      source: c.source,
      late,
    });
    return true;
  }

  /** Marketing and referrer fields of a session's landing event (enrich parses them from its URL). */
  private landingFields(campaign: Campaign | undefined): EnrichedEventInput {
    const r = this.rng;
    if (campaign) {
      const [param, network] = CLICK_ID_PARAM[campaign.platform];
      const clickId = r.hex(24);
      const [host, medium, source] = REFERRERS[campaign.platform];
      return {
        page_urlquery: `utm_source=${campaign.platform}&utm_medium=cpc&utm_campaign=${campaign.id}&${param}=${clickId}`,
        mkt_source: campaign.platform,
        mkt_medium: 'cpc',
        mkt_campaign: campaign.id,
        mkt_clickid: clickId,
        mkt_network: network,
        page_referrer: `https://${host}/`,
        refr_urlscheme: 'https',
        refr_urlhost: host,
        refr_urlpath: '/',
        refr_medium: medium,
        refr_source: source,
      };
    }
    const kind = r.next();
    if (kind < 0.5) return {};
    const [host, medium, source] =
      kind < 0.9 ? ['www.google.com', 'search', 'Google'] : ['www.instagram.com', 'social', 'Instagram'];
    return {
      page_referrer: `https://${host}/`,
      refr_urlscheme: 'https',
      refr_urlhost: host,
      refr_urlpath: '/',
      refr_medium: medium,
      refr_source: source,
    };
  }
}
