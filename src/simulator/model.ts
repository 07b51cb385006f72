import type { Variant } from './config.js';
import { pgJsonb, pgTextArray, type PgRow } from './pg.js';
import { pgTimestamp, pgTimestamptz, truncUs } from './time.js';

/** The simulated entities (typed state) and their rows as PostgreSQL would print them. */

export type UserStatus = 'pending_verification' | 'active' | 'suspended' | 'deleted';
export type VendorStatus = 'onboarding' | 'active' | 'paused' | 'offboarded';
export type ListingStatus = 'draft' | 'published' | 'unlisted' | 'archived';
export type PurchaseStatus = 'pending' | 'confirmed' | 'cancelled' | 'refunded';

/** A browser (one domain_userid cookie). */
export interface Browser {
  readonly id: string;
  readonly networkId: string;
  readonly useragent: string;
  readonly mobile: boolean;
  readonly ip: string;
  country: string;
  userId: number | undefined;
  sessions: number;
  /** derived_tstamp (ms) of its newest event: the next session starts ≥ 45 min later. */
  lastEventMs: number;
}

export interface User {
  readonly id: number;
  readonly credentialId: number;
  email: string;
  phone: string | null;
  readonly firstName: string;
  lastName: string;
  country: string;
  locale: string;
  consent: boolean;
  consentUs: number | null;
  status: UserStatus;
  readonly dob: string | null;
  readonly createdUs: number;
  updatedUs: number;
  readonly variant: Variant;
  readonly browsers: Browser[];
  readonly changeIds: number[];
  /** Decided at the first checkout exposure: does this user book (now and possibly again later)? */
  converts: boolean | undefined;
  deletedUs: number | undefined;
}

export interface Vendor {
  readonly id: number;
  readonly name: string;
  readonly category: string;
  readonly city: string;
  readonly country: string;
  commission: string;
  status: VendorStatus;
  onboardedOn: string | null;
  readonly createdUs: number;
  updatedUs: number;
}

export interface Listing {
  readonly id: number;
  readonly vendorId: number;
  readonly type: 'event_space' | 'vendor_service';
  readonly title: string;
  readonly description: string;
  readonly city: string;
  priceCents: number;
  priceChangedUs: number | null;
  capacity: number | null;
  readonly amenities: readonly string[];
  readonly attributes: { readonly [k: string]: string | number | boolean };
  status: ListingStatus;
  readonly availableFrom: string;
  readonly createdUs: number;
  updatedUs: number;
}

export interface Purchase {
  readonly id: number;
  readonly itemId: number;
  readonly userId: number;
  readonly listingId: number;
  status: PurchaseStatus;
  readonly quantity: number;
  readonly unitPriceCents: number;
  readonly discountRate: string;
  readonly amountCents: number;
  readonly eventDate: string;
  readonly eventStartLocal: string;
  readonly guests: number | null;
  /** Millisecond precision (timestamp(3)). */
  readonly placedUs: number;
  confirmedUs: number | null;
  cancelledUs: number | null;
  refundedUs: number | null;
  updatedUs: number;
}

const ts = (us: number | null): string | null => (us === null ? null : pgTimestamptz(us));

export function userRow(u: User): PgRow {
  return {
    user_id: String(u.id),
    email: u.email,
    phone: u.phone,
    first_name: u.firstName,
    last_name: u.lastName,
    country: u.country,
    preferred_locale: u.locale,
    marketing_consent: u.consent,
    consent_updated_at: ts(u.consentUs),
    status: u.status,
    date_of_birth: u.dob,
    created_at: ts(u.createdUs),
    updated_at: ts(u.updatedUs),
  };
}

export function credentialRow(u: User, hash: string): PgRow {
  return {
    credential_id: String(u.credentialId),
    user_id: String(u.id),
    provider: 'password',
    password_hash: hash,
    password_algo: 'argon2id',
    failed_attempts: '0',
    last_login_at: ts(u.createdUs),
    rotated_at: null,
    created_at: ts(u.createdUs),
  };
}

export function profileChangeRow(
  id: number,
  userId: number,
  field: string,
  oldValue: string | null,
  newValue: string | null,
  by: string,
  atUs: number,
): PgRow {
  return {
    change_id: String(id),
    user_id: String(userId),
    field,
    old_value: oldValue,
    new_value: newValue,
    changed_by: by,
    changed_at: ts(atUs),
  };
}

export function vendorRow(v: Vendor): PgRow {
  return {
    vendor_id: String(v.id),
    name: v.name,
    category: v.category,
    city: v.city,
    country: v.country,
    commission_rate: v.commission,
    status: v.status,
    onboarded_on: v.onboardedOn,
    created_at: ts(v.createdUs),
    updated_at: ts(v.updatedUs),
  };
}

export function listingRow(l: Listing): PgRow {
  return {
    listing_id: String(l.id),
    vendor_id: String(l.vendorId),
    listing_type: l.type,
    title: l.title,
    description: l.description,
    city: l.city,
    price_cents: String(l.priceCents),
    currency: 'USD',
    price_changed_at: l.priceChangedUs === null ? null : pgTimestamp(l.priceChangedUs),
    capacity: l.capacity === null ? null : String(l.capacity),
    amenities: pgTextArray(l.amenities),
    attributes: pgJsonb(l.attributes),
    status: l.status,
    available_from: l.availableFrom,
    created_at: ts(l.createdUs),
    updated_at: ts(l.updatedUs),
  };
}

export function purchaseRow(p: Purchase): PgRow {
  return {
    purchase_id: String(p.id),
    user_id: String(p.userId),
    listing_id: String(p.listingId),
    status: p.status,
    amount_cents: String(p.amountCents),
    currency: 'USD',
    event_date: p.eventDate,
    event_start_local: p.eventStartLocal,
    guests: p.guests === null ? null : String(p.guests),
    placed_at: pgTimestamptz(truncUs(p.placedUs, 3), 3),
    confirmed_at: ts(p.confirmedUs),
    cancelled_at: ts(p.cancelledUs),
    refunded_at: ts(p.refundedUs),
    updated_at: ts(p.updatedUs),
  };
}

export function purchaseItemRow(p: Purchase): PgRow {
  return {
    purchase_item_id: String(p.itemId),
    purchase_id: String(p.id),
    listing_id: String(p.listingId),
    quantity: String(p.quantity),
    unit_price_cents: String(p.unitPriceCents),
    discount_rate: p.discountRate,
    line_total_cents: String(p.amountCents),
    created_at: ts(p.placedUs),
  };
}

/** A set with O(1) add/remove and uniform random picks (alive users, published listings). */
export class PickSet<T extends { readonly id: number }> {
  readonly items: T[] = [];
  private readonly index = new Map<number, number>();

  add(item: T): void {
    if (this.index.has(item.id)) return;
    this.index.set(item.id, this.items.length);
    this.items.push(item);
  }

  remove(item: T): void {
    const i = this.index.get(item.id);
    if (i === undefined) return;
    const last = this.items.pop() as T;
    this.index.delete(item.id);
    if (last.id !== item.id) {
      this.items[i] = last;
      this.index.set(last.id, i);
    }
  }

  has(item: T): boolean {
    return this.index.has(item.id);
  }

  get size(): number {
    return this.items.length;
  }
}
