import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { SourceConfigError } from './cdc/errors.js';
import type { RawColumn, RawValue } from './types.js';

/**
 * PII at the door: columns declared in a source's config are dropped, or replaced by a keyed hash, before
 * anything is written (raw tables, quarantine, logs). Rules name a column (`email`, every table) or a
 * table's column (`users.email`, wins over the bare name).
 *
 * `hash` writes HMAC-SHA256(key, value) as 64 hex digits into `<column>_hash` (the new name says what
 * it holds; joins on equal values still work). The key comes from config or TESSERA_PII_KEY; it is held
 * as a KeyObject only, never in messages, logs or JSON.
 */

export type PiiAction = 'drop' | 'hash';
export type PiiRules = Readonly<Record<string, PiiAction>>;

export const PII_KEY_ENV = 'TESSERA_PII_KEY';
const MIN_KEY_LENGTH = 16;

export class PiiPolicy {
  private readonly key: KeyObject | undefined;

  private constructor(
    private readonly rules: ReadonlyMap<string, PiiAction>,
    key: string | undefined,
  ) {
    this.key = key === undefined ? undefined : createSecretKey(Buffer.from(key, 'utf8'));
  }

  /** `key` defaults to $TESSERA_PII_KEY; required (≥ 16 characters) when any rule hashes. */
  static create(source: string, rules: PiiRules = {}, key?: string): PiiPolicy {
    const map = new Map(Object.entries(rules));
    for (const [column, action] of map) {
      if (action !== 'drop' && action !== 'hash') {
        throw new SourceConfigError(
          source,
          `PII rule for ${column} must be 'drop' or 'hash', got ${String(action)}`,
        );
      }
    }
    const hashes = [...map.values()].includes('hash');
    const resolved = key ?? process.env[PII_KEY_ENV];
    if (hashes && (resolved === undefined || resolved.length < MIN_KEY_LENGTH)) {
      throw new SourceConfigError(
        source,
        `PII hash rules need a key of at least ${MIN_KEY_LENGTH} characters (config piiKey or $${PII_KEY_ENV})`,
      );
    }
    return new PiiPolicy(map, hashes ? resolved : undefined);
  }

  static none(): PiiPolicy {
    return new PiiPolicy(new Map(), undefined);
  }

  get active(): boolean {
    return this.rules.size > 0;
  }

  /** The rule for a column; table `*` (unknown table) takes any table's rule for that column name. */
  action(table: string, column: string): PiiAction | undefined {
    if (table === '*') {
      const rules = [...this.rules]
        .filter(([k]) => k === column || k.endsWith(`.${column}`))
        .map(([, a]) => a);
      return rules.includes('drop') ? 'drop' : rules[0];
    }
    return this.rules.get(`${table}.${column}`) ?? this.rules.get(column);
  }

  /** Column name after the rule: `email` → `email_hash`; unchanged when not hashed. */
  outputName(table: string, column: string): string {
    return this.action(table, column) === 'hash' ? `${column}_hash` : column;
  }

  hash(value: RawValue): RawValue {
    if (value === null) return null;
    if (!this.key) throw new Error('PiiPolicy.hash called without a key');
    return createHmac('sha256', this.key)
      .update(typeof value === 'string' ? value : JSON.stringify(value))
      .digest('hex');
  }

  columns(table: string, columns: readonly RawColumn[]): RawColumn[] {
    if (!this.active) return [...columns];
    const out: RawColumn[] = [];
    for (const c of columns) {
      const action = this.action(table, c.name);
      if (action === 'drop') continue;
      out.push(action === 'hash' ? { name: `${c.name}_hash`, type: 'varchar' } : c);
    }
    return out;
  }

  values(table: string, values: Readonly<Record<string, RawValue>>): Record<string, RawValue> {
    if (!this.active) return { ...values };
    const out: Record<string, RawValue> = {};
    for (const [name, value] of Object.entries(values)) {
      const action = this.action(table, name);
      if (action === 'drop') continue;
      if (action === 'hash') out[`${name}_hash`] = this.hash(value);
      else out[name] = value;
    }
    return out;
  }

  /** Same rules over an input object keyed by column (a Debezium image): values of any JSON type. */
  redactObject(table: string, obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(obj)) {
      const action = this.action(table, name);
      if (action === 'drop') continue;
      if (action === 'hash') out[`${name}_hash`] = this.hash(toRaw(value));
      else out[name] = value;
    }
    return out;
  }

  toJSON(): string {
    return `[PiiPolicy ${[...this.rules.keys()].join(',')}]`;
  }
}

function toRaw(value: unknown): RawValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}
