import type { ScaleParams } from './config.js';
import type { Facts, SimCore } from './core.js';
import { Inventory } from './inventory.js';
import type { Browser, Listing, PickSet, Purchase, User } from './model.js';
import { Users } from './users.js';
import { US_PER_HOUR } from './time.js';
import { RATES } from './config.js';

/** The OLTP side of BookMyEvent: users, vendors, listings and purchases, changed by queued actions. */
export class World {
  readonly users: Users;
  readonly inventory: Inventory;

  constructor(readonly core: SimCore) {
    this.users = new Users(core);
    this.inventory = new Inventory(core);
  }

  get facts(): Facts {
    return this.core.facts;
  }

  get alive(): PickSet<User> {
    return this.users.alive;
  }

  get published(): PickSet<Listing> {
    return this.inventory.published;
  }

  schedule(at: number, run: (at: number) => void): void {
    this.core.schedule(at, run);
  }

  timeInDay(dayStart: number): number {
    return this.core.timeInDay(dayStart);
  }

  signUp(at: number, browser: Browser): User {
    return this.users.signUp(at, browser);
  }

  book(at: number, user: User, listing: Listing): Purchase {
    return this.inventory.book(at, user, listing);
  }

  conversionChance(u: User): number {
    return this.users.conversionChance(u);
  }

  /** The day's OLTP activity other than what sessions drive (sign-ups, bookings). */
  planDay(dayStart: number, dayIndex: number, scale: ScaleParams): void {
    const r = this.core.rng;
    const inv = this.inventory;
    const vendors = dayIndex === 0 ? scale.initialVendors : r.poisson(scale.vendorsPerDay);
    for (let i = 0; i < vendors; i++) {
      const at = dayIndex === 0 ? dayStart + r.int(0, 3 * US_PER_HOUR) : this.timeInDay(dayStart);
      this.schedule(at, (t) => inv.createVendor(t));
    }
    const times = (n: number, run: (t: number) => void) => {
      for (let i = 0; i < n; i++) this.schedule(this.timeInDay(dayStart), run);
    };
    times(r.poisson(this.alive.size * RATES.profileEditsPerUserDay), (t) => this.users.profileEdit(t));
    times(r.poisson(this.alive.size * scale.deletionsPerUserDay), (t) => this.users.deleteUser(t));
    const listings = this.published.size;
    times(r.poisson(listings * RATES.priceChangesPerListingDay), (t) => inv.changeListing(t, 'price'));
    times(r.poisson(listings * RATES.capacityChangesPerListingDay), (t) => inv.changeListing(t, 'capacity'));
    times(r.poisson(listings * RATES.unlistPerListingDay), (t) => inv.changeListing(t, 'unlist'));
    times(r.poisson(inv.vendors.length * RATES.vendorChangesPerVendorDay), (t) => inv.changeVendor(t));
  }
}
