import { defineErasurePolicy } from '../gdpr/policy.js';

/**
 * BookMyEvent's GDPR erasure policy (`tessera gdpr erase --user ID`; mechanism in src/gdpr). A data subject is a
 * user of the User DB. What identifies them: their `user_id`, and the Snowplow cookie ids (`domain_userid`) seen
 * logged in as them, so the anonymous browsing of the same browser goes with the rest.
 *
 * - Profiles, credentials, clickstream, exposures, features and per-user marts: rows deleted.
 * - Purchases (raw change log, SCD2 history, fact): anonymised. The row stays with its amount, listing and
 *   status, so revenue, vendor performance and the inventory reconciliation are unchanged; `user_id` is cleared.
 * - Quarantined inputs are free text: the ones holding one of the person's cookie ids are deleted.
 * - Everything else says why it holds nothing personal (aggregates, businesses, ad spend): every asset of the
 *   catalog must appear here (resolveTargets refuses a catalog with an undeclared asset).
 */
const byUser = { user_id: 'subject' } as const;
const byUserOrCookie = { user_id: 'subject', domain_userid: 'cookie' } as const;

export const BOOKMYEVENT_ERASURE = defineErasurePolicy({
  subject: 'user',
  linked: { cookie: { table: 'raw.snowplow_events', column: 'domain_userid', subjectColumn: 'user_id' } },
  tables: {
    'raw.user_db_users_changes': { match: byUser, action: 'delete' },
    // Landed beside the catalog's change logs (the Debezium folder holds every table of the database).
    'raw.user_db_credentials_changes': { match: byUser, action: 'delete', source: 'user_db' },
    'raw.inventory_db_purchases_changes': { match: byUser, action: 'anonymise' },
    'raw.inventory_db_vendors_changes': { none: 'vendors are businesses, not data subjects' },
    'raw.inventory_db_listings_changes': { none: 'listings of vendors' },
    'raw.snowplow_events': { match: byUserOrCookie, action: 'delete' },
    'raw.quarantine': { match: { raw: 'cookie' }, how: 'contains', action: 'delete', source: 'snowplow' },
    'raw.ad_reports': { none: 'campaign totals per platform and account' },
    'raw.fx_rates': { none: 'exchange rates' },
    'core.dim_users': { match: byUser, action: 'delete' },
    'core.users_daily': { match: byUser, action: 'delete' },
    'core.dim_purchases': { match: byUser, action: 'anonymise' },
    'core.fct_purchases': { match: byUser, action: 'anonymise' },
    'core.dim_vendors': { none: 'vendors are businesses' },
    'core.dim_listings': { none: 'listings of vendors' },
    'core.listings_daily': { none: 'listings of vendors' },
    'clickstream.fct_page_views': { match: byUserOrCookie, action: 'delete' },
    'clickstream.fct_sessions': { match: byUserOrCookie, action: 'delete' },
    'clickstream.fct_funnel_daily': { none: 'counts per day' },
    'marketing.fct_ad_spend': { none: 'spend per campaign' },
    'marketing.fct_attribution': {
      none: 'purchase ids and campaigns; the purchase’s link to a user is anonymised in core.fct_purchases',
    },
    'marketing.mart_marketing_roas': { none: 'totals per campaign' },
    'experiments.exposures': { match: byUserOrCookie, action: 'delete' },
    'experiments.experiment_sufficient_stats': { none: 'sums per variation' },
    'experiments.mart_experiment_results': { none: 'statistics per variation' },
    'reporting.mart_daily_revenue': { none: 'totals per day' },
    'reporting.mart_vendor_performance': { none: 'totals per vendor' },
    'reporting.mart_customer_ltv': { match: byUser, action: 'delete' },
    'ml.ml_user_features': { match: byUser, action: 'delete' },
  },
});
