import type { Faker } from '@faker-js/faker';
import { HOUR_WEIGHTS } from './config.js';
import type { Purchase } from './model.js';
import type { ChangeLog, RowOp } from './pg.js';
import type { EventQueue } from './queue.js';
import type { Rng } from './rng.js';
import { US_PER_DAY, US_PER_HOUR } from './time.js';

/** What every part of the OLTP simulation shares: the clock, the randomness, the change logs, ids and facts. */

/** What happened, with its instant (µs), for the ground truth. */
export interface Facts {
  readonly signups: number[];
  readonly deletions: number[];
  readonly profileEdits: number[];
  readonly vendorsCreated: number[];
  readonly listingsCreated: number[];
  readonly priceChanges: number[];
  readonly purchases: Purchase[];
}

export class SimCore {
  readonly facts: Facts = {
    signups: [],
    deletions: [],
    profileEdits: [],
    vendorsCreated: [],
    listingsCreated: [],
    priceChanges: [],
    purchases: [],
  };
  /** Last identity value per sequence. */
  readonly ids = { user: 0, credential: 0, change: 0, vendor: 0, listing: 0, purchase: 0, item: 0 };

  constructor(
    readonly queue: EventQueue,
    readonly rng: Rng,
    readonly faker: Faker,
    readonly userDb: ChangeLog,
    readonly inventoryDb: ChangeLog,
  ) {}

  /** Schedules `run` at `at`, kept out of the last 10 ms of a UTC day so its commit lands the same day. */
  schedule(at: number, run: (at: number) => void): void {
    const inDay = at - Math.floor(at / US_PER_DAY) * US_PER_DAY;
    this.queue.schedule(inDay > US_PER_DAY - 10_000 ? at - 10_000 : at, run);
  }

  /** A random instant of the day starting at `dayStart`, following the hourly traffic curve. */
  timeInDay(dayStart: number): number {
    return dayStart + this.rng.weightedIndex(HOUR_WEIGHTS) * US_PER_HOUR + this.rng.int(0, US_PER_HOUR - 1);
  }

  /** Commits `ops` a few milliseconds after the action that made them (now() is the transaction's start). */
  commit(db: ChangeLog, at: number, ops: readonly RowOp[]): void {
    db.commit(at + this.rng.int(300, 4000), ops);
  }
}
