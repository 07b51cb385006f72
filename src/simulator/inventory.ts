import {
  CITIES,
  SERVICE_TITLES,
  SPACE_AMENITIES,
  SPACE_KINDS,
  RATES,
  VENDOR_CATEGORIES,
  VENDOR_CATEGORY_WEIGHTS,
} from './config.js';
import type { SimCore } from './core.js';
import {
  listingRow,
  PickSet,
  purchaseItemRow,
  purchaseRow,
  vendorRow,
  type Listing,
  type Purchase,
  type User,
  type Vendor,
} from './model.js';
import { INVENTORY_DB_TABLES as INV } from './pg.js';
import { addDays, US_PER_HOUR, US_PER_MIN, US_PER_MS, utcDate } from './time.js';

/** The Inventory DB's side: vendors onboarding, their listings (price, capacity, status) and purchases. */

const ADJECTIVES = ['Grand', 'Velvet', 'Golden', 'Urban', 'Hidden', 'Riverside', 'Skyline', 'Copper', 'Ivy'];

export class Inventory {
  readonly vendors: Vendor[] = [];
  readonly listings = new Map<number, Listing>();
  readonly published = new PickSet<Listing>();

  constructor(private readonly core: SimCore) {}

  createVendor(at: number): void {
    const r = this.core.rng;
    const [city, country] = r.pick(CITIES) as readonly [string, string];
    const category = r.weighted(VENDOR_CATEGORIES, VENDOR_CATEGORY_WEIGHTS);
    const v: Vendor = {
      id: ++this.core.ids.vendor,
      name: `${this.core.faker.company.name()}${category === 'venue' ? ' Venues' : ''}`,
      category,
      city,
      country,
      commission: r.pick(['0.1000', '0.1200', '0.1200', '0.1500']),
      status: 'onboarding',
      onboardedOn: null,
      createdUs: at,
      updatedUs: at,
    };
    this.vendors.push(v);
    this.core.commit(this.core.inventoryDb, at, [{ kind: 'I', table: INV.vendors, row: vendorRow(v) }]);
    this.core.facts.vendorsCreated.push(at);
    this.core.schedule(at + r.int(10, 240) * US_PER_MIN, (t) => {
      this.updateVendor(v, t, () => {
        v.status = 'active';
        v.onboardedOn = utcDate(t);
      });
      const n =
        category === 'venue'
          ? r.weighted([1, 2, 3, 4, 5], [2, 3, 3, 2, 1])
          : r.weighted([1, 2, 3], [3, 3, 2]);
      for (let i = 0; i < n; i++)
        this.core.schedule(t + r.int(5, 60) * US_PER_MIN, (c) => this.createListing(v, c));
    });
  }

  private updateVendor(v: Vendor, at: number, mutate: () => void): void {
    const before = vendorRow(v);
    mutate();
    v.updatedUs = at;
    this.core.commit(this.core.inventoryDb, at, [
      { kind: 'U', table: INV.vendors, before, after: vendorRow(v) },
    ]);
  }

  changeVendor(at: number): void {
    const active = this.vendors.filter((v) => v.status === 'active');
    if (active.length === 0) return;
    const v = this.core.rng.pick(active);
    if (this.core.rng.chance(0.6)) {
      this.updateVendor(
        v,
        at,
        () => (v.commission = this.core.rng.pick(['0.1000', '0.1100', '0.1250', '0.1500'])),
      );
      return;
    }
    this.updateVendor(v, at, () => (v.status = 'paused'));
    this.core.schedule(at + this.core.rng.int(12, 72) * US_PER_HOUR, (t) =>
      this.updateVendor(v, t, () => (v.status = 'active')),
    );
  }

  private createListing(v: Vendor, at: number): void {
    const r = this.core.rng;
    const space = v.category === 'venue';
    const capacity = space ? r.pick([30, 50, 80, 120, 150, 200, 300, 500]) : null;
    const price = space ? (capacity ?? 50) * r.int(15, 60) * 100 : r.int(150, 4000) * 100;
    const l: Listing = {
      id: ++this.core.ids.listing,
      vendorId: v.id,
      type: space ? 'event_space' : 'vendor_service',
      title: space
        ? `${r.pick(ADJECTIVES)} ${r.pick(SPACE_KINDS)} ${v.city}`
        : `${r.pick(SERVICE_TITLES[v.category] ?? ['Event service'])} by ${v.name}`,
      description: `${this.core.faker.company.catchPhrase()}. ${this.core.faker.lorem.sentences(2)}`,
      city: v.city,
      priceCents: Math.round(price / 500) * 500,
      priceChangedUs: null,
      capacity,
      amenities: space ? SPACE_AMENITIES.filter(() => r.chance(0.4)) : [],
      attributes: space
        ? { indoor: r.chance(0.7), parking: r.int(0, 80), style: r.pick(['industrial', 'classic', 'modern']) }
        : { min_hours: r.int(1, 4), travel_km: r.pick([10, 25, 50, 100]) },
      status: 'draft',
      availableFrom: addDays(utcDate(at), r.int(0, 14)),
      createdUs: at,
      updatedUs: at,
    };
    this.listings.set(l.id, l);
    this.core.commit(this.core.inventoryDb, at, [{ kind: 'I', table: INV.listings, row: listingRow(l) }]);
    this.core.facts.listingsCreated.push(at);
    this.core.schedule(at + r.int(5, 90) * US_PER_MIN, (t) => this.setListingStatus(l, t, 'published'));
  }

  private updateListing(l: Listing, at: number, mutate: () => void): void {
    const before = listingRow(l);
    mutate();
    l.updatedUs = at;
    this.core.commit(this.core.inventoryDb, at, [
      { kind: 'U', table: INV.listings, before, after: listingRow(l) },
    ]);
  }

  private setListingStatus(l: Listing, at: number, status: 'published' | 'unlisted'): void {
    this.updateListing(l, at, () => (l.status = status));
    if (status === 'published') this.published.add(l);
    else this.published.remove(l);
  }

  changeListing(at: number, what: 'price' | 'capacity' | 'unlist'): void {
    if (this.published.size === 0) return;
    const r = this.core.rng;
    const l = r.pick(this.published.items);
    if (what === 'price') {
      const price = Math.max(500, Math.round((l.priceCents * r.float(0.85, 1.2)) / 500) * 500);
      this.updateListing(l, at, () => {
        l.priceCents = price;
        l.priceChangedUs = at;
      });
      this.core.facts.priceChanges.push(at);
    } else if (what === 'capacity') {
      if (l.capacity === null) return;
      const cap = Math.max(10, l.capacity + r.pick([-20, -10, 10, 20, 50]));
      this.updateListing(l, at, () => (l.capacity = cap));
    } else {
      this.setListingStatus(l, at, 'unlisted');
      this.core.schedule(at + r.int(24, 96) * US_PER_HOUR, (t) => this.setListingStatus(l, t, 'published'));
    }
  }

  // ---- purchases ----

  /** A booking placed at `at` (the id is taken now); its later status changes are scheduled too. */
  book(at: number, user: User, listing: Listing): Purchase {
    const r = this.core.rng;
    const space = listing.type === 'event_space';
    const quantity = space ? 1 : r.weighted([1, 2, 3], [6, 3, 1]);
    const discount = r.chance(0.15) ? r.pick(['0.0500', '0.1000']) : '0.0000';
    const gross = listing.priceCents * quantity;
    const eventDate = addDays(utcDate(at), r.int(7, 180));
    const p: Purchase = {
      id: ++this.core.ids.purchase,
      itemId: ++this.core.ids.item,
      userId: user.id,
      listingId: listing.id,
      status: 'pending',
      quantity,
      unitPriceCents: listing.priceCents,
      discountRate: discount,
      amountCents: Math.round(gross * (1 - Number(discount))),
      eventDate,
      eventStartLocal: `${eventDate} ${pad2(r.int(10, 20))}:${r.pick(['00', '30'])}:00`,
      guests: space ? r.int(10, listing.capacity ?? 50) : r.chance(0.5) ? r.int(10, 200) : null,
      placedUs: Math.floor(at / US_PER_MS) * US_PER_MS,
      confirmedUs: null,
      cancelledUs: null,
      refundedUs: null,
      updatedUs: at,
    };
    const cancels = r.chance(RATES.cancelPending);
    const decideIn = cancels
      ? r.int(10, 1200) * US_PER_MIN
      : r.chance(0.6)
        ? r.int(5, 120) * US_PER_MIN
        : r.int(2, 36) * US_PER_HOUR;
    const refundIn = r.chance(RATES.refundConfirmed) ? r.int(24, 144) * US_PER_HOUR : undefined;
    this.core.schedule(at, (t) => {
      this.core.commit(this.core.inventoryDb, t, [
        { kind: 'I', table: INV.purchases, row: purchaseRow(p) },
        { kind: 'I', table: INV.purchase_items, row: purchaseItemRow(p) },
      ]);
      this.core.facts.purchases.push(p);
      this.core.schedule(t + decideIn, (d) => {
        this.updatePurchase(p, d, cancels ? 'cancelled' : 'confirmed');
        if (!cancels && refundIn !== undefined)
          this.core.schedule(d + refundIn, (f) => this.updatePurchase(p, f, 'refunded'));
      });
    });
    return p;
  }

  private updatePurchase(p: Purchase, at: number, status: 'confirmed' | 'cancelled' | 'refunded'): void {
    const before = purchaseRow(p);
    p.status = status;
    if (status === 'confirmed') p.confirmedUs = at;
    else if (status === 'cancelled') p.cancelledUs = at;
    else p.refundedUs = at;
    p.updatedUs = at;
    this.core.commit(this.core.inventoryDb, at, [
      { kind: 'U', table: INV.purchases, before, after: purchaseRow(p) },
    ]);
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
