import type { AdPlatform } from '../sources/ads/types.js';

/** Volumes per scale, and the fixed catalogs (cities, categories, ad accounts) the simulator draws from. */

export type SimScale = 'small' | 'demo';

export interface ScaleParams {
  /** Sign-ups per day (day 0, the launch, gets `launchFactor` times as many). */
  readonly signupsPerDay: number;
  readonly launchFactor: number;
  /** Vendors created on day 0, then per day. */
  readonly initialVendors: number;
  readonly vendorsPerDay: number;
  /** Sessions per day from new or returning anonymous browsers. */
  readonly anonSessionsPerDay: number;
  /** Chance a registered user has a session on a given day. */
  readonly userSessionRate: number;
  /** Account deletions per registered user and day ("a few": higher in 'small' so tests see some). */
  readonly deletionsPerUserDay: number;
  /** Ad budgets are multiplied by this. */
  readonly adBudgetFactor: number;
}

export const SCALES: Readonly<Record<SimScale, ScaleParams>> = {
  demo: {
    signupsPerDay: 125,
    launchFactor: 3,
    initialVendors: 120,
    vendorsPerDay: 3,
    anonSessionsPerDay: 420,
    userSessionRate: 0.6,
    deletionsPerUserDay: 0.0015,
    adBudgetFactor: 1,
  },
  small: {
    signupsPerDay: 13,
    launchFactor: 3,
    initialVendors: 12,
    vendorsPerDay: 0.3,
    anonSessionsPerDay: 42,
    userSessionRate: 0.6,
    deletionsPerUserDay: 0.008,
    adBudgetFactor: 0.1,
  },
};

/** Behaviour rates shared by every scale. */
export const RATES = {
  profileEditsPerUserDay: 0.02,
  priceChangesPerListingDay: 0.03,
  capacityChangesPerListingDay: 0.01,
  unlistPerListingDay: 0.003,
  vendorChangesPerVendorDay: 0.01,
  /** Chance a logged-in session ends on the checkout page (an exposure to checkout_v2). */
  checkout: 0.6,
  /** Chance a user who converted books again at a later checkout. */
  repeatBooking: 0.7,
  /** Share of anonymous sessions that arrive from a paid campaign; registered users' sessions. */
  paidAnon: 0.5,
  paidRegistered: 0.15,
  /** Booking lifecycle. */
  cancelPending: 0.08,
  refundConfirmed: 0.07,
  /** Clickstream noise. */
  duplicateEvent: 0.002,
  lateEvent: 0.003,
} as const;

export const EXPERIMENT = {
  key: 'checkout_v2',
  variants: ['control', 'treatment'] as const,
  /** Chance a user converts (books at their first checkout exposure); treatment multiplies it. */
  controlConversion: 0.5,
  multiplier: 1.2,
} as const;
export type Variant = (typeof EXPERIMENT.variants)[number];

/** Cities with their country (vendors, listings, searches). */
export const CITIES: readonly (readonly [string, string])[] = [
  ['New York', 'US'],
  ['Chicago', 'US'],
  ['Austin', 'US'],
  ['San Francisco', 'US'],
  ['London', 'GB'],
  ['Manchester', 'GB'],
  ['Berlin', 'DE'],
  ['Munich', 'DE'],
  ['Paris', 'FR'],
  ['Lyon', 'FR'],
  ['Madrid', 'ES'],
  ['Barcelona', 'ES'],
  ['Amsterdam', 'NL'],
  ['Dublin', 'IE'],
  ['Toronto', 'CA'],
  ['Sydney', 'AU'],
];

export const USER_COUNTRIES = ['US', 'GB', 'DE', 'FR', 'ES', 'NL', 'IE', 'CA', 'AU', 'IT'] as const;
export const USER_COUNTRY_WEIGHTS = [34, 16, 11, 9, 7, 5, 4, 6, 5, 3] as const;
export const LOCALES: Readonly<Record<string, string>> = {
  US: 'en-US',
  GB: 'en-GB',
  DE: 'de-DE',
  FR: 'fr-FR',
  ES: 'es-ES',
  NL: 'nl-NL',
  IE: 'en-IE',
  CA: 'en-CA',
  AU: 'en-AU',
  IT: 'it-IT',
};

export const VENDOR_CATEGORIES = ['venue', 'catering', 'photography', 'music', 'decor', 'planning'] as const;
export const VENDOR_CATEGORY_WEIGHTS = [55, 14, 10, 8, 7, 6] as const;

export const SPACE_KINDS = [
  'Loft',
  'Ballroom',
  'Garden',
  'Rooftop',
  'Hall',
  'Warehouse',
  'Terrace',
  'Gallery',
];
export const SPACE_AMENITIES = [
  'wifi',
  'parking',
  'stage',
  'kitchen',
  'av equipment',
  'wheelchair access',
  'outdoor area',
  'bar',
];
export const SERVICE_TITLES: Readonly<Record<string, readonly string[]>> = {
  catering: ['Buffet catering', 'Seated dinner service', 'Cocktail canapés', 'BBQ catering'],
  photography: ['Wedding photography', 'Event photo booth', 'Corporate headshots', 'Drone video'],
  music: ['DJ set (4h)', 'Jazz trio', 'String quartet', 'Live band'],
  decor: ['Floral decor', 'Lighting design', 'Balloon installation', 'Table styling'],
  planning: ['Day-of coordination', 'Full wedding planning', 'Corporate event planning'],
};
export const SEARCH_TERMS = [
  'wedding venue',
  'birthday party space',
  'conference room',
  'rooftop bar',
  'garden party',
  'corporate offsite',
  'caterer',
  'photographer',
  'dj',
  'baby shower',
  'gala dinner',
  'workshop space',
];

/** Sessions start more often in the evening UTC (Europe's evening, America's afternoon). Index = UTC hour. */
export const HOUR_WEIGHTS = [
  2, 1.5, 1, 0.8, 0.8, 1, 1.5, 2.5, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 8.5, 8, 6.5, 4.5, 3,
];

export interface CampaignSpec {
  readonly id: string;
  readonly name: string;
  /** Average daily budget in the account's currency (before the scale's factor). */
  readonly budget: number;
  /** Average cost per click in the account's currency. */
  readonly cpc: number;
}

export interface AdAccountSpec {
  readonly platform: AdPlatform;
  readonly id: string;
  readonly timezone: string;
  readonly currency: 'USD' | 'EUR' | 'GBP';
  readonly campaigns: readonly CampaignSpec[];
}

export const AD_ACCOUNTS: readonly AdAccountSpec[] = [
  {
    platform: 'google',
    id: '4837261950',
    timezone: 'America/New_York',
    currency: 'USD',
    campaigns: [
      { id: '21034567890', name: 'Search | Event venues | US', budget: 260, cpc: 1.9 },
      { id: '21034567891', name: 'Search | Wedding venues | US', budget: 180, cpc: 2.4 },
      { id: '21034567892', name: 'Display | Retargeting | US', budget: 60, cpc: 0.7 },
    ],
  },
  {
    platform: 'google',
    id: '9120384756',
    timezone: 'Europe/London',
    currency: 'GBP',
    campaigns: [
      { id: '21098765430', name: 'Search | Party venues | UK', budget: 120, cpc: 1.5 },
      { id: '21098765431', name: 'PMax | Caterers | UK', budget: 70, cpc: 1.1 },
    ],
  },
  {
    platform: 'facebook',
    id: '1029384756',
    timezone: 'UTC',
    currency: 'EUR',
    campaigns: [
      { id: '120210000000001', name: 'Prospecting | Weddings | EU', budget: 150, cpc: 0.9 },
      { id: '120210000000002', name: 'Retargeting | Cart abandoners', budget: 60, cpc: 0.6 },
      { id: '120210000000003', name: 'Lookalike | Corporate events', budget: 90, cpc: 1.2 },
    ],
  },
  {
    platform: 'tiktok',
    id: '7012345678901234567',
    timezone: 'Europe/London',
    currency: 'GBP',
    campaigns: [
      { id: '1780000000000001', name: 'Spark Ads | Party season', budget: 80, cpc: 0.5 },
      { id: '1780000000000002', name: 'In-feed | Venues UK', budget: 50, cpc: 0.6 },
    ],
  },
  {
    platform: 'twitter',
    id: '18ce54d4x5t',
    timezone: 'America/New_York',
    currency: 'USD',
    campaigns: [
      { id: 'f2q7x', name: 'Promoted | Conference venues', budget: 70, cpc: 1.4 },
      { id: 'f2q7y', name: 'Promoted | Brand', budget: 30, cpc: 0.9 },
    ],
  },
];

export const CLICK_ID_PARAM: Readonly<Record<AdPlatform, readonly [string, string]>> = {
  google: ['gclid', 'Google'],
  facebook: ['fbclid', 'Facebook'],
  tiktok: ['ttclid', 'TikTok'],
  twitter: ['twclid', 'Twitter'],
};
