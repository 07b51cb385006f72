import { EXPERIMENT, LOCALES, USER_COUNTRIES, USER_COUNTRY_WEIGHTS } from './config.js';
import type { SimCore } from './core.js';
import { credentialRow, PickSet, profileChangeRow, userRow, type Browser, type User } from './model.js';
import { USER_DB_TABLES as UDB, type RowOp } from './pg.js';
import { US_PER_HOUR, US_PER_MIN, US_PER_MS } from './time.js';

/** The User DB's side: sign-ups, e-mail verification, profile edits (with their audit rows) and deletions. */

export class Users {
  readonly users = new Map<number, User>();
  readonly alive = new PickSet<User>();
  private readonly emails = new Set<string>();

  constructor(private readonly core: SimCore) {}

  /** A sign-up at `at` from `browser`: the id is taken now, the row committed at `at`. */
  signUp(at: number, browser: Browser): User {
    const r = this.core.rng;
    const f = this.core.faker;
    const firstName = f.person.firstName();
    const lastName = f.person.lastName();
    let email = f.internet.email({ firstName, lastName }).toLowerCase();
    if (this.emails.has(email)) email = email.replace('@', `.${this.core.ids.user + 1}@`);
    this.emails.add(email);
    const country = browser.country;
    const u: User = {
      id: ++this.core.ids.user,
      credentialId: ++this.core.ids.credential,
      email,
      phone: r.chance(0.7) ? f.phone.number({ style: 'international' }) : null,
      firstName,
      lastName,
      country,
      locale: LOCALES[country] ?? 'en-US',
      consent: r.chance(0.45),
      consentUs: null,
      status: 'pending_verification',
      dob: r.chance(0.7) ? `${r.int(1960, 2005)}-${pad2(r.int(1, 12))}-${pad2(r.int(1, 28))}` : null,
      createdUs: at,
      updatedUs: at,
      variant: r.chance(0.5) ? 'treatment' : 'control',
      browsers: [browser],
      changeIds: [],
      converts: undefined,
      deletedUs: undefined,
    };
    if (u.consent) u.consentUs = at;
    browser.userId = u.id;
    this.users.set(u.id, u);
    const hash = `$argon2id$v=19$m=65536,t=3,p=4$${r.hex(22)}$${r.hex(43)}`;
    this.core.schedule(at, (t) => {
      this.core.commit(this.core.userDb, t, [
        { kind: 'I', table: UDB.users, row: userRow(u) },
        { kind: 'I', table: UDB.credentials, row: credentialRow(u, hash) },
      ]);
      this.alive.add(u);
      this.core.facts.signups.push(t);
      const verifyIn = r.chance(0.92) ? r.int(2, 180) * US_PER_MIN : r.int(24, 72) * US_PER_HOUR;
      this.core.schedule(t + verifyIn, (v) => {
        if (u.status === 'pending_verification') this.updateUser(u, v, () => (u.status = 'active'));
      });
    });
    return u;
  }

  private updateUser(
    u: User,
    at: number,
    mutate: () => void,
    change?: readonly [string, string | null, string | null, string],
  ): void {
    if (u.deletedUs !== undefined) return;
    const before = userRow(u);
    mutate();
    u.updatedUs = at;
    const ops: RowOp[] = [{ kind: 'U', table: UDB.users, before, after: userRow(u) }];
    if (change) {
      const id = ++this.core.ids.change;
      u.changeIds.push(id);
      const [field, oldV, newV, by] = change;
      ops.push({
        kind: 'I',
        table: UDB.profile_changes,
        row: profileChangeRow(id, u.id, field, oldV, newV, by, at),
      });
      this.core.facts.profileEdits.push(at);
    }
    this.core.commit(this.core.userDb, at, ops);
  }

  profileEdit(at: number): void {
    if (this.alive.size === 0) return;
    const r = this.core.rng;
    const u = r.pick(this.alive.items);
    const field = r.weighted(
      ['marketing_consent', 'country', 'preferred_locale', 'phone', 'last_name', 'email', 'status'],
      [35, 12, 8, 18, 8, 9, 10],
    );
    const str = (v: string | boolean | null) => (v === null ? null : String(v));
    const set = <T extends string | boolean | null>(oldV: T, newV: T, apply: (v: T) => void, by = 'user') =>
      this.updateUser(u, at, () => apply(newV), [field, str(oldV), str(newV), by]);
    switch (field) {
      case 'marketing_consent':
        return set(u.consent, !u.consent, (v) => {
          u.consent = v;
          u.consentUs = at;
        });
      case 'country':
        return set(u.country, r.weighted(USER_COUNTRIES, USER_COUNTRY_WEIGHTS), (v) => (u.country = v));
      case 'preferred_locale':
        return set(u.locale, r.pick(Object.values(LOCALES)), (v) => (u.locale = v));
      case 'phone':
        return set(u.phone, this.core.faker.phone.number({ style: 'international' }), (v) => (u.phone = v));
      case 'last_name':
        return set(u.lastName, this.core.faker.person.lastName(), (v) => (u.lastName = v));
      case 'email': {
        const email =
          `${u.firstName}.${u.lastName}.${u.id}@${this.core.faker.internet.domainName()}`.toLowerCase();
        return set(u.email, email.replace(/[^a-z0-9.@-]/g, ''), (v) => (u.email = v));
      }
      default: {
        const next = u.status === 'active' ? 'suspended' : 'active';
        const by = u.status === 'pending_verification' ? 'system' : 'support';
        return set<string>(u.status, next, (v) => (u.status = v as User['status']), by);
      }
    }
  }

  /** Account deletion (right to erasure): audit rows, credentials and the user in one transaction. */
  deleteUser(at: number): void {
    if (this.alive.size === 0) return;
    const u = this.core.rng.pick(this.alive.items);
    if (u.browsers.some((b) => b.lastEventMs * US_PER_MS > at - 45 * US_PER_MIN)) {
      this.core.schedule(at + 2 * US_PER_HOUR, (t) => this.deleteUser(t)); // mid-session: later, maybe someone else
      return;
    }
    const ops: RowOp[] = u.changeIds.map((id) => ({
      kind: 'D',
      table: UDB.profile_changes,
      before: { change_id: String(id) },
      keyOnly: true,
    }));
    ops.push({
      kind: 'D',
      table: UDB.credentials,
      before: { credential_id: String(u.credentialId) },
      keyOnly: true,
    });
    ops.push({ kind: 'D', table: UDB.users, before: userRow(u) });
    this.core.commit(this.core.userDb, at, ops);
    u.deletedUs = at;
    this.alive.remove(u);
    this.core.facts.deletions.push(at);
  }

  /** Chance this user converts at the first checkout exposure (the experiment's true effect). */
  conversionChance(u: User): number {
    return EXPERIMENT.controlConversion * (u.variant === 'treatment' ? EXPERIMENT.multiplier : 1);
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
