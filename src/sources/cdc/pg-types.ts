import type pg from 'pg';
import type { RawColumnType, RawValue } from '../types.js';
import { canonicalBigint, canonicalTime, canonicalTimestamp } from './canonical.js';

/**
 * PostgreSQL types → raw column types and canonical values. Built-in types are known by OID; enums,
 * domains and arrays of them are looked up once in pg_type. Values arrive as text (snapshot `col::text`
 * and wal2json with numeric-data-types-as-string) or as JSON booleans (wal2json), never parsed by pg.
 */

export type PgKind =
  | 'bigint'
  | 'double'
  | 'decimal'
  | 'boolean'
  | 'timestamp'
  | 'date'
  | 'time'
  | 'json'
  | 'text'
  | 'bytea'
  | 'array';

export interface PgType {
  readonly oid: number;
  readonly kind: PgKind;
  /** Element type of an array. */
  readonly elem?: PgType;
}

const RAW: Record<PgKind, RawColumnType> = {
  bigint: 'bigint',
  double: 'double',
  decimal: 'decimal',
  boolean: 'boolean',
  timestamp: 'timestamp',
  date: 'date',
  time: 'varchar',
  json: 'json',
  text: 'varchar',
  bytea: 'varchar',
  array: 'json',
};

export function rawTypeOf(t: PgType): RawColumnType {
  return RAW[t.kind];
}

const BUILTIN: Record<number, PgKind> = {
  16: 'boolean',
  17: 'bytea',
  18: 'text',
  19: 'text',
  25: 'text',
  1042: 'text',
  1043: 'text',
  2950: 'text',
  20: 'bigint',
  21: 'bigint',
  23: 'bigint',
  26: 'bigint',
  114: 'json',
  700: 'double',
  701: 'double',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamp',
  1266: 'time',
  1700: 'decimal',
  3802: 'json',
};

/** One object per built-in type: `get` runs for every column of every change (unknownOids). */
const BUILTIN_TYPES: ReadonlyMap<number, PgType> = new Map(
  Object.entries(BUILTIN).map(([oid, kind]) => [Number(oid), { oid: Number(oid), kind }]),
);

interface PgTypeRow {
  oid: number;
  typtype: string;
  typcategory: string;
  typbasetype: number;
  typelem: number;
}

/** Resolves type OIDs (from wal2json's typeoid or the catalog) to PgType; caches per connection. */
export class PgTypeRegistry {
  private readonly known = new Map<number, PgType>();

  get(oid: number): PgType | undefined {
    return BUILTIN_TYPES.get(oid) ?? this.known.get(oid);
  }

  /** Looks up the OIDs not known yet (one catalog query per round of domains/array elements). */
  async resolve(client: pg.ClientBase, oids: Iterable<number>): Promise<void> {
    let todo = [...new Set(oids)].filter((o) => !this.get(o));
    const rows = new Map<number, PgTypeRow>();
    while (todo.length > 0) {
      const res = await client.query<PgTypeRow>(
        `SELECT oid::int AS oid, typtype, typcategory, typbasetype::int AS typbasetype, typelem::int AS typelem
           FROM pg_type WHERE oid = ANY($1::oid[])`,
        [todo],
      );
      for (const r of res.rows) rows.set(r.oid, r);
      todo = res.rows
        .flatMap((r) => [r.typbasetype, r.typelem])
        .filter((o) => o !== 0 && !rows.has(o) && !this.get(o));
    }
    const build = (oid: number): PgType => {
      const hit = this.get(oid);
      if (hit) return hit;
      const r = rows.get(oid);
      let t: PgType;
      if (!r) t = { oid, kind: 'text' };
      else if (r.typtype === 'd') t = { ...build(r.typbasetype), oid };
      else if (r.typcategory === 'A' && r.typelem !== 0) t = { oid, kind: 'array', elem: build(r.typelem) };
      else if (r.typcategory === 'B') t = { oid, kind: 'boolean' };
      else t = { oid, kind: 'text' }; // enums, uuid, inet, varchar, char, money, interval...
      this.known.set(oid, t);
      return t;
    };
    for (const oid of rows.keys()) build(oid);
  }
}

/** One value as wal2json or `::text` delivers it → canonical raw value. */
export function fromPg(t: PgType, value: unknown): RawValue {
  if (value === null || value === undefined) return null;
  switch (t.kind) {
    case 'bigint':
      return canonicalBigint(typeof value === 'number' ? value : String(value));
    case 'double': {
      const n = Number(value);
      return Number.isFinite(n) ? n : String(value);
    }
    case 'decimal':
      return String(value);
    case 'boolean':
      return value === true || value === 't' || value === 'true';
    case 'timestamp':
      return canonicalTimestamp(String(value));
    case 'time':
      return canonicalTime(String(value));
    case 'array':
      return JSON.stringify(parsePgArray(String(value), t.elem ?? { oid: 25, kind: 'text' }));
    case 'bytea': {
      // PostgreSQL's text form `\x…` (snapshots, pgoutput, Debezium's decoder); wal2json drops the `\x`.
      const text = String(value);
      return text.startsWith('\\x') ? text : `\\x${text}`;
    }
    default:
      return String(value);
  }
}

type ArrayValue = string | number | boolean | null | ArrayValue[];

function elementValue(t: PgType, text: string): ArrayValue {
  switch (t.kind) {
    case 'bigint':
    case 'double': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'boolean':
      return text === 't' || text === 'true';
    case 'timestamp':
      return canonicalTimestamp(text);
    case 'time':
      return canonicalTime(text);
    default:
      return text;
  }
}

/** PostgreSQL array literal (`{a,"b c",NULL,{1,2}}`, optional `[1:2]=` bounds) → nested JS array. */
export function parsePgArray(text: string, elem: PgType): ArrayValue[] {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const parse = (): ArrayValue[] => {
    if (text[i] !== '{') throw new Error(`bad array literal ${JSON.stringify(text)}`);
    i++;
    const out: ArrayValue[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === '{') out.push(parse());
      else if (text[i] === '"') {
        let s = '';
        i++;
        while (text[i] !== '"') {
          if (text[i] === '\\') i++;
          s += text[i++] ?? '';
          if (i > text.length) throw new Error(`unterminated array element in ${JSON.stringify(text)}`);
        }
        i++;
        out.push(elementValue(elem, s));
      } else {
        let j = i;
        while (j < text.length && text[j] !== ',' && text[j] !== '}') j++;
        const raw = text.slice(i, j).trim();
        i = j;
        out.push(raw === 'NULL' ? null : elementValue(elem, raw));
      }
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return out;
      } else throw new Error(`bad array literal ${JSON.stringify(text)}`);
    }
  };
  return parse();
}
