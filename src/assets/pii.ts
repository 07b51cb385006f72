/**
 * BookMyEvent's PII policy for its OLTP sources, applied at ingestion (src/sources/pii.ts): contact details are
 * replaced by a keyed hash (joins on equal values still work), credentials never reach the warehouse.
 * Live sources read the same rules from config (config/*.yaml `sources.<db>.pii`); keep them equal.
 */
export const BOOKMYEVENT_PII: Readonly<Record<string, Readonly<Record<string, 'drop' | 'hash'>>>> = {
  user_db: { email: 'hash', phone: 'hash', password_hash: 'drop' },
};
