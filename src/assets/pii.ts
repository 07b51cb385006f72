/**
 * BookMyEvent's PII policy for its OLTP sources, applied at ingestion (src/sources/pii.ts) before anything is
 * written. One rule per personal column; every other column of the User DB (ids, country, locale, consent,
 * status, timestamps) is not personal on its own and lands as is. Live sources read the same rules from config
 * (config/*.yaml `sources.user_db.pii`); test/sources/pii-policy.test.ts keeps them equal.
 *
 * - `email`, `phone` → hash: contact details, but the marts join and count on them (`dim_users` tracks
 *   `email_hash`), so a keyed hash keeps equality without the value.
 * - `first_name`, `last_name`, `date_of_birth` → drop: no asset reads them, and a hash of a name or a birth date
 *   is guessable from a short list. An age band would be computed at the door if a mart ever needs one.
 * - `password_hash` → drop: a credential never reaches the warehouse.
 * - `profile_changes.old_value`, `new_value` → hash: the audit's free text holds old and new emails, phones and
 *   names (its `field` column says which).
 */
export const BOOKMYEVENT_PII: Readonly<Record<string, Readonly<Record<string, 'drop' | 'hash'>>>> = {
  user_db: {
    email: 'hash',
    phone: 'hash',
    first_name: 'drop',
    last_name: 'drop',
    date_of_birth: 'drop',
    password_hash: 'drop',
    'profile_changes.old_value': 'hash',
    'profile_changes.new_value': 'hash',
  },
};
