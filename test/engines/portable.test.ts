/**
 * Portable SQL macros: what each engine's spelling renders to (without a database), the template syntax that
 * calls them, that BookMyEvent's catalog renders for every registered engine without DuckDB-only spellings, and
 * on a real DuckDB that the macros mean what portable.ts says (NULLs included) in both the DuckDB spelling and
 * the ANSI default one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookMyEvent } from '../../src/assets/index.js';
import { SAFE_DEFAULT_FEATURES, SqlDialect, type Spellings } from '../../src/engines/dialect/dialect.js';
import {
  BIGQUERY_PORTABLE,
  SPARK_PORTABLE,
  TRINO_PORTABLE,
} from '../../src/engines/dialect/portable-engines.js';
import { MACROS } from '../../src/engines/dialect/portable-macros.js';
import { ANSI_PORTABLE, type PortableSql } from '../../src/engines/dialect/portable.js';
import { renderTemplate, type TemplateContext } from '../../src/engines/dialect/template.js';
import { duckdbDialect } from '../../src/engines/duckdb/duckdb-dialect.js';
import { duckdbTypes } from '../../src/engines/duckdb/duckdb-types.js';
import { createDuckDbEngine, type Engine } from '../../src/engines/index.js';
import { ENGINES } from '../../src/engines/registry.js';

/** A dialect that differs from the base only in its portable spellings (the engines' own are elsewhere). */
class PortableOnly extends SqlDialect {
  readonly defaultSchema = 'main';
  readonly types = duckdbTypes;
  readonly features = SAFE_DEFAULT_FEATURES;
  readonly spell: Spellings = duckdbDialect.spell;
  constructor(
    readonly name: string,
    override readonly portable: PortableSql,
  ) {
    super();
  }
}

const ENGINE_SPELLINGS = {
  duckdb: duckdbDialect,
  ansi: new PortableOnly('ansi', ANSI_PORTABLE),
  trino: new PortableOnly('trino', TRINO_PORTABLE),
  spark: new PortableOnly('spark', SPARK_PORTABLE),
  bigquery: new PortableOnly('bigquery', BIGQUERY_PORTABLE),
} as const;
type SpellingName = keyof typeof ENGINE_SPELLINGS;

const CTX: TemplateContext = {
  partitionKey: '2026-11-02',
  partitionStart: '2026-11-02T00:00:00Z',
  partitionEnd: '2026-11-03T00:00:00Z',
};

/** Template → expected SQL per engine. `Record<SpellingName, ..>`: adding an engine without its row fails to compile. */
const CASES: Record<string, { readonly sql: string; readonly expected: Record<SpellingName, string> }> = {
  'days between two dates': {
    sql: '{{ date_diff_days(cast(s.signed_up_at as date), cast({{ partition_start }} as date)) }}',
    expected: {
      duckdb: `date_diff('day', cast(s.signed_up_at as date), cast(TIMESTAMP '2026-11-02 00:00:00.000000' as date))`,
      ansi: `date_diff('day', cast(s.signed_up_at as date), cast(TIMESTAMP '2026-11-02 00:00:00.000000' as date))`,
      trino: `date_diff('day', cast(s.signed_up_at as date), cast(TIMESTAMP '2026-11-02 00:00:00.000000' as date))`,
      spark: `datediff(cast(TIMESTAMP '2026-11-02 00:00:00.000000' as date), cast(s.signed_up_at as date))`,
      bigquery: `DATE_DIFF(cast(TIMESTAMP '2026-11-02 00:00:00.000000' as date), cast(s.signed_up_at as date), DAY)`,
    },
  },
  'minutes earlier': {
    sql: '{{ add_minutes({{ partition_start }}, -30) }}',
    expected: {
      duckdb: `(TIMESTAMP '2026-11-02 00:00:00.000000' - INTERVAL '30' MINUTE)`,
      ansi: `(TIMESTAMP '2026-11-02 00:00:00.000000' - INTERVAL '30' MINUTE)`,
      trino: `(TIMESTAMP '2026-11-02 00:00:00.000000' - INTERVAL '30' MINUTE)`,
      spark: `(TIMESTAMP '2026-11-02 00:00:00.000000' - INTERVAL '30' MINUTE)`,
      bigquery: `TIMESTAMP_ADD(TIMESTAMP '2026-11-02 00:00:00.000000', INTERVAL -30 MINUTE)`,
    },
  },
  'minutes later, over a window function with commas inside': {
    sql: '{{ add_minutes(lag(ts, 1) over (partition by u, v order by ts), +30) }}',
    expected: {
      duckdb: `(lag(ts, 1) over (partition by u, v order by ts) + INTERVAL '30' MINUTE)`,
      ansi: `(lag(ts, 1) over (partition by u, v order by ts) + INTERVAL '30' MINUTE)`,
      trino: `(lag(ts, 1) over (partition by u, v order by ts) + INTERVAL '30' MINUTE)`,
      spark: `(lag(ts, 1) over (partition by u, v order by ts) + INTERVAL '30' MINUTE)`,
      bigquery: `TIMESTAMP_ADD(lag(ts, 1) over (partition by u, v order by ts), INTERVAL 30 MINUTE)`,
    },
  },
  'value at the greatest order': {
    sql: '{{ arg_max(s.mkt_source, s.started_at) }}',
    expected: {
      duckdb: `arg_max(s.mkt_source, s.started_at)`,
      ansi: `max_by(s.mkt_source, CASE WHEN (s.mkt_source) IS NOT NULL THEN s.started_at END)`,
      trino: `max_by(s.mkt_source, CASE WHEN (s.mkt_source) IS NOT NULL THEN s.started_at END)`,
      spark: `max_by(s.mkt_source, CASE WHEN (s.mkt_source) IS NOT NULL THEN s.started_at END)`,
      bigquery: `ARRAY_AGG(IF((s.started_at) IS NULL, NULL, s.mkt_source) IGNORE NULLS ORDER BY s.started_at DESC LIMIT 1)[SAFE_OFFSET(0)]`,
    },
  },
  'value at the least order': {
    sql: '{{ arg_min(mkt_source, ts) }}',
    expected: {
      duckdb: `arg_min(mkt_source, ts)`,
      ansi: `min_by(mkt_source, CASE WHEN (mkt_source) IS NOT NULL THEN ts END)`,
      trino: `min_by(mkt_source, CASE WHEN (mkt_source) IS NOT NULL THEN ts END)`,
      spark: `min_by(mkt_source, CASE WHEN (mkt_source) IS NOT NULL THEN ts END)`,
      bigquery: `ARRAY_AGG(IF((ts) IS NULL, NULL, mkt_source) IGNORE NULLS ORDER BY ts LIMIT 1)[SAFE_OFFSET(0)]`,
    },
  },
  'timestamp as compact text': {
    sql: `{{ format_timestamp(min(ts), '%Y%m%d%H%M%S') }}`,
    expected: {
      duckdb: `strftime(min(ts), '%Y%m%d%H%M%S')`,
      ansi:
        `(lpad(CAST(EXTRACT(YEAR FROM min(ts)) AS VARCHAR), 4, '0') || lpad(CAST(EXTRACT(MONTH FROM min(ts)) AS VARCHAR), 2, '0') || ` +
        `lpad(CAST(EXTRACT(DAY FROM min(ts)) AS VARCHAR), 2, '0') || lpad(CAST(EXTRACT(HOUR FROM min(ts)) AS VARCHAR), 2, '0') || ` +
        `lpad(CAST(EXTRACT(MINUTE FROM min(ts)) AS VARCHAR), 2, '0') || lpad(CAST(CAST(floor(EXTRACT(SECOND FROM min(ts))) AS BIGINT) AS VARCHAR), 2, '0'))`,
      trino: `date_format(date_trunc('second', min(ts)), '%Y%m%d%H%i%s')`,
      spark: `date_format(min(ts), 'yyyyMMddHHmmss')`,
      bigquery: `FORMAT_TIMESTAMP('%Y%m%d%H%M%S', min(ts))`,
    },
  },
  'day as text, literal text and escapes in the pattern': {
    sql: `{{ format_day(ts) }} {{ format_timestamp(ts, 'at %H:%M, 100%% T''s') }}`,
    expected: {
      duckdb: `strftime(ts, '%Y-%m-%d') strftime(ts, 'at %H:%M, 100%% T''s')`,
      ansi:
        `(lpad(CAST(EXTRACT(YEAR FROM ts) AS VARCHAR), 4, '0') || '-' || lpad(CAST(EXTRACT(MONTH FROM ts) AS VARCHAR), 2, '0') || '-' || ` +
        `lpad(CAST(EXTRACT(DAY FROM ts) AS VARCHAR), 2, '0')) ('at ' || lpad(CAST(EXTRACT(HOUR FROM ts) AS VARCHAR), 2, '0') || ':' || ` +
        `lpad(CAST(EXTRACT(MINUTE FROM ts) AS VARCHAR), 2, '0') || ', 100% T''s')`,
      trino: `date_format(date_trunc('second', ts), '%Y-%m-%d') date_format(date_trunc('second', ts), 'at %H:%i, 100%% T''s')`,
      spark: `date_format(ts, 'yyyy-MM-dd') date_format(ts, '''at ''HH:mm'', 100% T''''s''')`,
      bigquery: `FORMAT_TIMESTAMP('%Y-%m-%d', ts) FORMAT_TIMESTAMP('at %H:%M, 100%% T''s', ts)`,
    },
  },
  'conditional aggregates': {
    sql: `{{ count_if(status in ('a', 'b')) }}, {{ sum_if(amount_cents, status = 'confirmed') }}, {{ count_distinct_if(u, e = ',') }}`,
    expected: {
      duckdb: `count(*) FILTER (WHERE status in ('a', 'b')), sum(amount_cents) FILTER (WHERE status = 'confirmed'), count(DISTINCT u) FILTER (WHERE e = ',')`,
      ansi: `count(*) FILTER (WHERE status in ('a', 'b')), sum(amount_cents) FILTER (WHERE status = 'confirmed'), count(DISTINCT u) FILTER (WHERE e = ',')`,
      trino: `count(*) FILTER (WHERE status in ('a', 'b')), sum(amount_cents) FILTER (WHERE status = 'confirmed'), count(DISTINCT u) FILTER (WHERE e = ',')`,
      spark: `count(*) FILTER (WHERE status in ('a', 'b')), sum(amount_cents) FILTER (WHERE status = 'confirmed'), count(DISTINCT u) FILTER (WHERE e = ',')`,
      bigquery: `COUNTIF(status in ('a', 'b')), SUM(IF(status = 'confirmed', amount_cents, NULL)), COUNT(DISTINCT IF(e = ',', u, NULL))`,
    },
  },
  'exact decimals: a type with parameters, an exact literal, a quoted name': {
    // PortableOnly quotes names as the base dialect does; the engines' own quoting is checked below.
    sql: 'CAST({{ ident(v) }} AS {{ t.decimal(38, 6) }}) * {{ exact_number(0.99) }}, CAST(y AS {{t.decimal(18,2)}}) + {{ exact_number(-12345678901234567890123456789012.5) }}',
    expected: {
      duckdb:
        'CAST("v" AS DECIMAL(38,6)) * 0.99, CAST(y AS DECIMAL(18,2)) + -12345678901234567890123456789012.5',
      ansi: 'CAST("v" AS DECIMAL(38,6)) * 0.99, CAST(y AS DECIMAL(18,2)) + -12345678901234567890123456789012.5',
      trino:
        'CAST("v" AS DECIMAL(38,6)) * 0.99, CAST(y AS DECIMAL(18,2)) + -12345678901234567890123456789012.5',
      spark:
        'CAST("v" AS DECIMAL(38,6)) * 0.99, CAST(y AS DECIMAL(18,2)) + -12345678901234567890123456789012.5',
      // NUMERIC holds 29 integer and 9 fractional digits; beyond, BIGNUMERIC. A bare 0.99 would be a FLOAT64.
      bigquery:
        "CAST(\"v\" AS BIGNUMERIC(38, 6)) * NUMERIC '0.99', CAST(y AS NUMERIC(18, 2)) + BIGNUMERIC '-12345678901234567890123456789012.5'",
    },
  },
  'type names': {
    sql: '{{ t.text }} {{t.bigint}} {{ t.double }} {{ t.boolean }} {{ t.date }} {{ t.timestamp }}',
    expected: {
      duckdb: 'VARCHAR BIGINT DOUBLE BOOLEAN DATE TIMESTAMP',
      ansi: 'VARCHAR BIGINT DOUBLE BOOLEAN DATE TIMESTAMP',
      trino: 'VARCHAR BIGINT DOUBLE BOOLEAN DATE TIMESTAMP(6)',
      spark: 'STRING BIGINT DOUBLE BOOLEAN DATE TIMESTAMP',
      bigquery: 'STRING INT64 FLOAT64 BOOL DATE TIMESTAMP',
    },
  },
};

describe('portable macros, rendered per engine', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const rendered = Object.fromEntries(
        Object.entries(ENGINE_SPELLINGS).map(([engine, d]) => [engine, renderTemplate(d, c.sql, CTX)]),
      );
      expect(rendered).toEqual(c.expected);
    });
  }

  it('covers every macro', () => {
    const called = new Set(
      Object.values(CASES).flatMap((c) => [...c.sql.matchAll(/\{\{\s*([\w.]+)\(/g)].map((m) => m[1])),
    );
    expect([...called].sort()).toEqual(Object.keys(MACROS).sort());
  });
});

describe('template syntax', () => {
  const d = duckdbDialect;
  const render = (sql: string): string => renderTemplate(d, sql, CTX);

  it('keeps strings, quoted names and comments in an argument whole', () => {
    expect(render(`{{ count_if(a = ')' and "b,c" = 'x'', y' /* ) , */) }}`)).toBe(
      `count(*) FILTER (WHERE a = ')' and "b,c" = 'x'', y' /* ) , */)`,
    );
    // A line comment keeps its newline, so the closing parenthesis never lands inside it.
    expect(render(`{{ sum_if(x -- ), \n\n , a = 1 -- c\n) }}`)).toBe(
      `sum(x -- ), \n) FILTER (WHERE a = 1 -- c\n)`,
    );
  });

  it("renders the partition's UTC date as a DATE literal", () => {
    expect(render('{{ partition_date }}')).toBe(`DATE '2026-11-02'`);
    expect(renderTemplate(d, '{{partition_date}}', { partitionStart: '2026-11-02T00:30:00+01:00' })).toBe(
      `DATE '2026-11-01'`,
    );
    expect(() => renderTemplate(d, '{{ partition_date }}', { partitionKey: 'x' })).toThrow(/no value/);
  });

  it('leaves braces that open no placeholder as they are', () => {
    expect(render(`select '{{' || x, '{{}}' from t`)).toBe(`select '{{' || x, '{{}}' from t`);
  });

  it('quotes {{ ident(..) }} as each engine quotes names (GoogleSQL and Spark read "x" as a string)', () => {
    const quoted = Object.fromEntries(
      (['duckdb', 'trino', 'spark', 'bigquery'] as const).map((e) => [
        e,
        renderTemplate(ENGINES[e].dialect, '{{ ident(user_id) }}', CTX),
      ]),
    );
    expect(quoted).toEqual({
      duckdb: '"user_id"',
      trino: '"user_id"',
      spark: '`user_id`',
      bigquery: '`user_id`',
    });
    expect(() => render('{{ ident(a b) }}')).toThrow(/name must be letters, digits and _/);
  });

  it('refuses decimals no engine can hold the same way, and inexact literals', () => {
    expect(() => render('{{ t.decimal(39, 2) }}')).toThrow(/precision must be 1-38 and scale 0-precision/);
    expect(() => render('{{ t.decimal(10, 11) }}')).toThrow(/precision must be 1-38/);
    expect(() => render('{{ t.decimal(x, 2) }}')).toThrow(/precision must be an integer literal/);
    expect(() => render('{{ exact_number(1e-7) }}')).toThrow(/digits with an optional point/);
    expect(() => render('{{ t.numeric }}')).toThrow(/unknown type .*t\.decimal\(precision, scale\)/);
  });

  it('refuses what it cannot render, naming the problem', () => {
    expect(() => render('{{ arg_maxx(a, b) }}')).toThrow(
      /unknown macro \{\{ arg_maxx\(\.\.\) \}\}; macros: .*arg_max/,
    );
    expect(() => render('{{ arg_max(a) }}')).toThrow(/takes 2 argument\(s\), \(value, order_by\), got 1/);
    expect(() => render('{{ arg_max(a, ) }}')).toThrow(/takes 2 argument/);
    expect(() => render('{{ add_minutes(ts, n) }}')).toThrow(/minutes must be an integer literal, got 'n'/);
    expect(() => render(`{{ format_timestamp(ts, '%j') }}`)).toThrow(/%j is not portable/);
    expect(() => render(`{{ format_timestamp(ts, fmt) }}`)).toThrow(/pattern must be a string literal/);
    expect(() => render('{{ t.varchar }}')).toThrow(/unknown type \{\{ t\.varchar \}\}; types: t\.text/);
    expect(() => render('{{ count_if(a = 1 }}')).toThrow(/argument list is not closed/);
    expect(() => render('{{ count_if(a) ')).toThrow(/not closed by \}\}/);
    expect(() => render('{{ partition_start x }}')).toThrow(/not closed by \}\}/);
    expect(() => renderTemplate(d, '{{ add_minutes({{ partition_start }}, 5) }}', {})).toThrow(/no value/);
  });
});

/** DuckDB-only spellings (issue 14) that must not reach another engine (but those that spell it so). */
const DUCKDB_ONLY: readonly { readonly pattern: RegExp; readonly alsoIn?: readonly string[] }[] = [
  { pattern: /group\s+by\s+all/i },
  { pattern: /\barg_(min|max)\s*\(/i },
  { pattern: /\bstrftime\s*\(/i },
  { pattern: /\binterval\s+\d+\s+(minute|hour|day|second)s?\b/i, alsoIn: ['bigquery'] },
  { pattern: /\bjson_serialize_sql\b/i },
  { pattern: /::/ },
  { pattern: /\bepoch_ms\s*\(/i },
  // The FILTER clause is SQL:2003, but BigQuery has none.
  { pattern: /\bfilter\s*\(\s*where/i, alsoIn: ['duckdb', 'trino', 'spark', 'postgres'] },
];

describe("BookMyEvent's catalog renders for every registered engine", () => {
  const sqlOf = bookMyEvent.assets.flatMap((a) => [
    ...(a.sql ? [{ where: a.key, sql: a.sql }] : []),
    ...a.checks.flatMap((c) => (c.type === 'sql' ? [{ where: `${a.key} check ${c.name}`, sql: c.sql }] : [])),
  ]);
  const ctx = { ...CTX, this: 'reporting.x__build', partition: { date: '2026-11-02', platform: 'google' } };

  it('has SQL to render', () => {
    expect(sqlOf.length).toBeGreaterThan(10);
  });

  for (const [type, registration] of Object.entries(ENGINES)) {
    it(`${type}: every placeholder rendered${type === 'duckdb' ? '' : ', no DuckDB-only spelling'}`, () => {
      for (const { where, sql } of sqlOf) {
        const rendered = renderTemplate(registration.dialect, sql, ctx);
        expect(rendered, where).not.toContain('{{');
        if (type === 'duckdb') continue;
        for (const { pattern, alsoIn } of DUCKDB_ONLY) {
          if (!alsoIn?.includes(type)) expect(rendered, `${where}: ${String(pattern)}`).not.toMatch(pattern);
        }
      }
    });
  }
});

describe('on DuckDB, every macro means what portable.ts says (DuckDB spelling and ANSI default)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
  });
  afterAll(async () => {
    await engine.close();
  });

  // NULL values and NULL orders are left out by arg_max/arg_min; a group with no qualifying row gives NULL.
  const rows = `(VALUES
      ('g1', NULL, TIMESTAMP '2026-11-02 00:00:01', TRUE, 5),
      ('g1', 'b', TIMESTAMP '2026-11-02 00:00:02', FALSE, 7),
      ('g1', 'c', TIMESTAMP '2026-11-02 00:00:03', TRUE, 11),
      ('g1', NULL, TIMESTAMP '2026-11-02 00:00:04', TRUE, 13),
      ('g1', 'z', NULL, TRUE, NULL),
      ('g2', NULL, TIMESTAMP '2026-11-02 00:00:01', FALSE, 17),
      ('g2', 'y', NULL, FALSE, 19)
    ) AS t(g, v, ts, ok, n)`;
  const aggregates = `SELECT g, {{ arg_min(v, ts) }} AS first_v, {{ arg_max(v, ts) }} AS last_v,
      {{ count_if(ok) }} AS oks, {{ sum_if(n, ok) }} AS ok_sum, {{ count_distinct_if(v, ok) }} AS ok_vs
    FROM ${rows} GROUP BY g ORDER BY g`;
  const scalars = `SELECT {{ date_diff_days(DATE '2026-11-02', DATE '2026-10-30') }} AS back,
      {{ date_diff_days(DATE '2026-02-27', DATE '2026-03-01') }} AS forward,
      {{ add_minutes(TIMESTAMP '2026-11-02 00:10:00.000250', -30) }} AS earlier,
      {{ add_minutes(TIMESTAMP '2026-11-02 23:50:00', 30) }} AS later,
      {{ format_timestamp(TIMESTAMP '2026-03-04 05:06:07.890', '%Y%m%d%H%M%S') }} AS compact,
      {{ format_day(TIMESTAMP '0987-12-31 23:59:59.999999') }} AS day`;

  const run = async (d: SqlDialect, sql: string) =>
    JSON.parse(
      JSON.stringify(await engine.query(renderTemplate(d, sql, CTX)), (_k, v: unknown) =>
        typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v,
      ),
    ) as unknown;

  it('aggregates: NULL values and orders left out, empty conditions give 0 (count) and NULL (sum)', async () => {
    const expected = [
      { g: 'g1', first_v: 'b', last_v: 'c', oks: 4, ok_sum: 29, ok_vs: 2 },
      { g: 'g2', first_v: null, last_v: null, oks: 0, ok_sum: null, ok_vs: 0 },
    ];
    expect(await run(duckdbDialect, aggregates)).toEqual(expected);
    expect(await run(ENGINE_SPELLINGS.ansi, aggregates)).toEqual(expected);
  });

  it('dates, minutes and formats', async () => {
    const expected = [
      {
        back: -3,
        forward: 2,
        earlier: '2026-11-01T23:40:00.000250Z',
        later: '2026-11-03T00:20:00.000Z',
        compact: '20260304050607',
        day: '0987-12-31',
      },
    ];
    const duck = await run(duckdbDialect, scalars);
    expect(duck).toEqual(expected);
    expect(await run(ENGINE_SPELLINGS.ansi, scalars)).toEqual(duck);
  });
});
