import type { EnrichedEventInput } from '../sources/snowplow/encode.js';
import { RATES } from './config.js';
import type { Browser } from './model.js';
import type { Rng } from './rng.js';
import { isoMillis, US_PER_MS } from './time.js';

/** One enriched event's fields as Snowplow's JS tracker + enrich would fill them for BookMyEvent's web app. */

export const SITE = 'www.bookmyevent.com';

interface Agent {
  readonly ua: string;
  readonly br: readonly [string, string, string, string];
  readonly os: readonly [string, string, string];
  readonly mobile: boolean;
  readonly screen: readonly [number, number];
}

const AGENTS: readonly Agent[] = [
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36',
    br: ['Chrome 129', 'Chrome', '129.0.0.0', 'Browser'],
    os: ['Windows 10', 'Windows', 'Microsoft Corporation'],
    mobile: false,
    screen: [1920, 1080],
  },
  {
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15',
    br: ['Safari 18', 'Safari', '18.0', 'Browser'],
    os: ['Mac OS X', 'Mac OS X', 'Apple Inc.'],
    mobile: false,
    screen: [1512, 982],
  },
  {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
    br: ['Mobile Safari', 'Safari', '18.0', 'Browser (mobile)'],
    os: ['iOS 18', 'iOS', 'Apple Inc.'],
    mobile: true,
    screen: [390, 844],
  },
  {
    ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36',
    br: ['Chrome Mobile', 'Chrome', '129.0.0.0', 'Browser (mobile)'],
    os: ['Android 14', 'Android', 'Google Inc.'],
    mobile: true,
    screen: [412, 915],
  },
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0',
    br: ['Firefox 131', 'Firefox', '131.0', 'Browser'],
    os: ['Windows 10', 'Windows', 'Microsoft Corporation'],
    mobile: false,
    screen: [1366, 768],
  },
];
const AGENT_WEIGHTS = [34, 14, 26, 20, 6];
const AGENT_BY_UA = new Map(AGENTS.map((a) => [a.ua, a]));

export const TIMEZONES: Readonly<Record<string, string>> = {
  US: 'America/New_York',
  GB: 'Europe/London',
  DE: 'Europe/Berlin',
  FR: 'Europe/Paris',
  ES: 'Europe/Madrid',
  NL: 'Europe/Amsterdam',
  IE: 'Europe/Dublin',
  CA: 'America/Toronto',
  AU: 'Australia/Sydney',
  IT: 'Europe/Rome',
};

export function newBrowser(rng: Rng, country: string, mobile?: boolean): Browser {
  let agent = AGENTS[rng.weightedIndex(AGENT_WEIGHTS)] as Agent;
  if (mobile !== undefined && agent.mobile !== mobile) agent = AGENTS[mobile ? 2 : 0] as Agent;
  return {
    id: rng.uuid(),
    networkId: rng.uuid(),
    useragent: agent.ua,
    mobile: agent.mobile,
    // Enrich's IP anonymisation (anonOctets: 1).
    ip: `${rng.int(23, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.x`,
    country,
    userId: undefined,
    sessions: 0,
    lastEventMs: 0,
  };
}

export interface SessionInfo {
  readonly browser: Browser;
  readonly sessionId: string;
  readonly sessionIdx: number;
}

export interface PageInfo {
  readonly path: string;
  readonly query?: string;
  readonly title: string;
  readonly referrer?: string;
}

/** Fields every event of a session shares, plus timestamps as enrich derives them. */
export function baseEvent(
  rng: Rng,
  s: SessionInfo,
  ms: number,
  event: string,
  userId: number | undefined,
  page: PageInfo,
): { fields: EnrichedEventInput; late: boolean } {
  const b = s.browser;
  const agent = AGENT_BY_UA.get(b.useragent) ?? (AGENTS[0] as Agent);
  const late = rng.chance(RATES.lateEvent);
  // derived = collector - (sent - created): the device's clock error cancels, a late send (offline) does not shift it.
  const netMs = rng.int(20, 400);
  const sendDelay = late ? 3_600_000 + rng.int(0, 300_000) : rng.int(5, 300);
  const created = ms - netMs;
  const collector = created + sendDelay + netMs;
  const at = (x: number) => isoMillis(x * US_PER_MS);
  return {
    late,
    fields: {
      app_id: 'bookmyevent-web',
      platform: 'web',
      etl_tstamp: at(collector + rng.int(2_000, 40_000)),
      collector_tstamp: at(collector),
      dvce_created_tstamp: at(created),
      dvce_sent_tstamp: at(created + sendDelay),
      derived_tstamp: at(ms),
      event,
      event_id: rng.uuid(),
      name_tracker: 'sp',
      v_tracker: 'js-3.24.2',
      v_collector: 'ssc-3.2.0-kinesis',
      v_etl: 'snowplow-enrich-kinesis-5.1.0',
      user_id: userId === undefined ? null : String(userId),
      user_ipaddress: b.ip,
      domain_userid: b.id,
      domain_sessionidx: s.sessionIdx,
      domain_sessionid: s.sessionId,
      network_userid: b.networkId,
      geo_country: b.country,
      geo_timezone: TIMEZONES[b.country] ?? 'UTC',
      page_url: `https://${SITE}${page.path}${page.query ? `?${page.query}` : ''}`,
      page_title: page.title,
      page_referrer: page.referrer ?? null,
      page_urlscheme: 'https',
      page_urlhost: SITE,
      page_urlport: 443,
      page_urlpath: page.path,
      page_urlquery: page.query ?? null,
      useragent: b.useragent,
      br_name: agent.br[0],
      br_family: agent.br[1],
      br_version: agent.br[2],
      br_type: agent.br[3],
      br_renderengine: agent.br[1] === 'Firefox' ? 'GECKO' : 'WEBKIT',
      br_lang: 'en-US',
      br_cookies: true,
      br_colordepth: '24',
      br_viewwidth: agent.screen[0],
      br_viewheight: agent.screen[1] - 120,
      os_name: agent.os[0],
      os_family: agent.os[1],
      os_manufacturer: agent.os[2],
      os_timezone: TIMEZONES[b.country] ?? 'UTC',
      dvce_type: agent.mobile ? 'Mobile' : 'Computer',
      dvce_ismobile: agent.mobile,
      dvce_screenwidth: agent.screen[0],
      dvce_screenheight: agent.screen[1],
      doc_charset: 'UTF-8',
      doc_width: agent.screen[0],
      doc_height: rng.int(1200, 6000),
      event_fingerprint: rng.hex(32),
    },
  };
}
