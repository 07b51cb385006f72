import { describe, expect, it } from 'vitest';
import { renderCheck } from '../../src/engines/dialect/checks.js';
import {
  SAFE_DEFAULT_FEATURES,
  SqlDialect,
  type DialectFeatures,
  type Spellings,
} from '../../src/engines/dialect/dialect.js';
import { publicationId, renderPublish, storeRef } from '../../src/engines/dialect/publish.js';
import { renderReplace } from '../../src/engines/dialect/replace.js';
import { renderScd2 } from '../../src/engines/dialect/scd2.js';
import { scd2Columns } from '../../src/engines/dialect/scd2-names.js';
import { renderSnapshotAsOf } from '../../src/engines/dialect/snapshot.js';
import { renderTemplate } from '../../src/engines/dialect/template.js';
import { duckdbTypes } from '../../src/engines/duckdb/duckdb-types.js';
import { EngineError, UnsupportedFeatureError } from '../../src/engines/errors.js';
import { DIALECTS, type DialectName } from '../../src/engines/registry.js';

/**
 * Rendered SQL, side by side per dialect, without a database. `Record<DialectName, string>` makes
 * forgetting a dialect a compile error when one is added to the registry.
 */
interface RenderCase {
  readonly render: (d: SqlDialect) => string;
  readonly expected: Record<DialectName, string>;
}

const same = (sql: string): Record<DialectName, string> => ({ duckdb: sql, postgres: sql });

const CASES: Record<string, RenderCase> = {
  'values partition': {
    render: (d) =>
      d.partitionPredicate({ type: 'values', values: { day: '2026-11-24', platform: "o'brien", n: 3 } }),
    expected: same(`"day" = '2026-11-24' AND "platform" = 'o''brien' AND "n" = 3`),
  },
  'window partition, offsets converted to UTC': {
    render: (d) =>
      d.partitionPredicate(
        {
          type: 'window',
          column: 'at',
          start: '2026-11-24T00:00:00+01:00',
          end: '2026-11-25T00:00:00.000250+01:00',
        },
        'e',
      ),
    expected: same(
      `e."at" >= TIMESTAMP '2026-11-23 23:00:00.000000' AND e."at" < TIMESTAMP '2026-11-24 23:00:00.000250'`,
    ),
  },
  'latest row per key (QUALIFY or ranked subquery)': {
    render: (d) =>
      d.selectLatest({
        columns: ['a', 'b'],
        outputNames: ['a', 'b'],
        from: 't',
        partitionBy: ['k'],
        orderBy: 'o DESC',
      }),
    expected: {
      duckdb: `SELECT a, b FROM t QUALIFY row_number() OVER (PARTITION BY k ORDER BY o DESC) = 1`,
      postgres:
        `SELECT "a", "b" FROM (SELECT a, b, row_number() OVER (PARTITION BY k ORDER BY o DESC) AS "__tessera_rn" FROM t) ` +
        `AS __tessera_ranked WHERE "__tessera_rn" = 1`,
    },
  },
  'row hash': {
    render: (d) => d.rowHash(['"a"', '"b"']),
    expected: {
      duckdb: `md5_number_lower(coalesce(CAST("a" AS VARCHAR), chr(30)) || chr(31) || coalesce(CAST("b" AS VARCHAR), chr(30)))`,
      postgres: `('x' || substr(md5(coalesce(CAST("a" AS TEXT), chr(30)) || chr(31) || coalesce(CAST("b" AS TEXT), chr(30))), 1, 16))::bit(64)::bigint`,
    },
  },
  'snapshot as of': {
    render: (d) =>
      renderSnapshotAsOf(d, {
        scd2Table: 'core.dim_users',
        asOf: '2026-11-24T00:00:00Z',
        columns: ['id', 'name'],
      }),
    expected: same(
      `SELECT "id", "name" FROM "core"."dim_users" WHERE "valid_from" <= TIMESTAMP '2026-11-24 00:00:00.000000' ` +
        `AND ("valid_to" IS NULL OR TIMESTAMP '2026-11-24 00:00:00.000000' < "valid_to") AND NOT "is_deleted"`,
    ),
  },
  'snapshot as of, dbt names': {
    render: (d) =>
      renderSnapshotAsOf(d, { scd2Table: 'dim', asOf: '2026-11-24T00:00:00Z', columnNames: 'dbt' }),
    expected: {
      duckdb:
        `SELECT * FROM "main"."dim" WHERE "dbt_valid_from" <= TIMESTAMP '2026-11-24 00:00:00.000000' ` +
        `AND ("dbt_valid_to" IS NULL OR TIMESTAMP '2026-11-24 00:00:00.000000' < "dbt_valid_to") AND NOT "dbt_is_deleted"`,
      postgres:
        `SELECT * FROM "public"."dim" WHERE "dbt_valid_from" <= TIMESTAMP '2026-11-24 00:00:00.000000' ` +
        `AND ("dbt_valid_to" IS NULL OR TIMESTAMP '2026-11-24 00:00:00.000000' < "dbt_valid_to") AND NOT "dbt_is_deleted"`,
    },
  },
  'partition delete': {
    render: (d) =>
      renderReplace(
        d,
        'mart.sales',
        d.partitionPredicate({ type: 'values', values: { day: 'd1' } }),
      ).deleteOld(),
    expected: same(`DELETE FROM "mart"."sales" WHERE "day" = 'd1'`),
  },
  'partition fingerprint': {
    render: (d) => renderReplace(d, 'mart.sales', null).fingerprint(),
    expected: {
      duckdb:
        `SELECT count(*) AS "rows", md5(CAST(count(*) AS VARCHAR) || ':' || CAST(coalesce(sum(hash(__tessera_row)), 0) AS VARCHAR)) ` +
        `AS "version" FROM "mart"."sales" AS __tessera_row`,
      postgres:
        `SELECT count(*) AS "rows", md5(CAST(count(*) AS TEXT) || ':' || CAST(coalesce(sum(('x' || substr(md5(__tessera_row::text), 1, 15))` +
        `::bit(60)::bigint::numeric), 0) AS TEXT)) AS "version" FROM "mart"."sales" AS __tessera_row`,
    },
  },
  'not_null check on a partition': {
    render: (d) =>
      renderCheck(d, { type: 'not_null', columns: ['id'] }, 'core.orders', {
        partition: { type: 'values', values: { day: 'd1' } },
        now: '2026-11-24T00:00:00Z',
      }).sql,
    expected: same(
      `SELECT count(*) AS failing, 0 AS observed FROM "core"."orders" WHERE ("day" = 'd1') AND ("id" IS NULL)`,
    ),
  },
  'publish: point a view': {
    render: (d) =>
      renderPublish(d).pointView(
        'marts.revenue',
        storeRef(d, 'marts.revenue'),
        ['day', 'total'],
        'finance',
        7,
      ),
    expected: same(
      `CREATE OR REPLACE VIEW "marts"."revenue" AS SELECT s."day", s."total" FROM "marts"."__p_revenue" AS s ` +
        `INNER JOIN "tessera_meta"."publish_manifest" AS m ON m."partition_key" = s."__tessera_pk" AND m."slice" = s."__tessera_slice" ` +
        `WHERE m."group_name" = 'finance' AND m."seq" = 7 AND m."asset_key" = 'marts.revenue'`,
    ),
  },
  'scd2: close current versions (row id or key join)': {
    render: (d) =>
      renderScd2(d, {
        target: 'core.dim',
        businessKey: ['id'],
        tracked: ['name'],
        names: scd2Columns('tessera'),
      }).closeCurrent(),
    expected: {
      duckdb:
        `UPDATE "core"."dim" AS t SET "valid_to" = a."__next", "is_current" = FALSE FROM (SELECT "__rid", "__next" ` +
        `FROM "__tessera_scd2_new" WHERE "__src" = 0 AND "__next" IS NOT NULL) AS a WHERE t.rowid = a."__rid"`,
      postgres:
        `UPDATE "core"."dim" AS t SET "valid_to" = a."__next", "is_current" = FALSE FROM (SELECT "id", "__next" FROM ` +
        `"__tessera_scd2_new" WHERE "__src" = 0 AND "__next" IS NOT NULL) AS a WHERE t."id" = a."id" AND t."is_current"`,
    },
  },
};

describe('rendered SQL per dialect', () => {
  for (const [title, c] of Object.entries(CASES)) {
    for (const [name, dialect] of Object.entries(DIALECTS)) {
      it(`${title} — ${name}`, () => {
        expect(c.render(dialect)).toBe(c.expected[name as DialectName]);
      });
    }
  }
});

/** A dialect that declares nothing: every renderer needing a feature must refuse, naming engine and flag. */
class BareDialect extends SqlDialect {
  readonly name = 'bare';
  readonly defaultSchema = 'main';
  readonly types = duckdbTypes;
  readonly features: DialectFeatures = SAFE_DEFAULT_FEATURES;
  readonly spell: Spellings = {
    textType: 'VARCHAR',
    md5Hex: (e) => `md5(${e})`,
    hash64: (e) => `h(${e})`,
    hashSum: (xs) => `sum(h(${xs.join(', ')}))`,
    sumType: 'HUGEINT',
    engineVersion: 'version()',
    chr: (c) => `chr(${c})`,
  };
}

describe('missing features fail loudly', () => {
  const bare = new BareDialect();
  it('names the engine and the flag', () => {
    const scd2 = () =>
      renderScd2(bare, {
        target: 'core.dim',
        businessKey: ['id'],
        tracked: ['name'],
        names: scd2Columns('tessera'),
      });
    expect(scd2).toThrow(UnsupportedFeatureError);
    expect(scd2).toThrow(
      `an SCD2 merge needs dialect feature 'supportsTempTables', which engine 'bare' does not support`,
    );
    expect(() => renderPublish(bare).pointView('marts.a', storeRef(bare, 'marts.a'), ['x'], 'g', 1)).toThrow(
      /supportsTransactionalDdl.*'bare'/,
    );
    expect(() => renderReplace(bare, 't', null).stage('SELECT 1')).toThrow(/supportsTempTables/);
  });
  it('falls back where a fallback is exact (no QUALIFY → ranked subquery)', () => {
    expect(
      bare.selectLatest({ columns: ['a'], outputNames: ['a'], from: 't', partitionBy: ['k'], orderBy: 'o' }),
    ).toContain('__tessera_rn');
  });
});

describe('names and templates', () => {
  const d = DIALECTS.duckdb;
  it('parses, quotes and sanitizes table names', () => {
    expect(d.table('core.dim_users')).toBe('"core"."dim_users"');
    expect(d.table('"we.ird"."na""me"')).toBe('"we.ird"."na""me"');
    expect(d.relation('raw.users_changes')).toBe('"raw"."users_changes"');
    expect(d.relation('SELECT * FROM x')).toBe('(SELECT * FROM x)');
    expect(() => d.tableRef('a.b.c')).toThrow(EngineError);
    expect(storeRef(d, 'marts.daily_revenue')).toEqual({ schema: 'marts', name: '__p_daily_revenue' });
    expect(publicationId('marts.daily_revenue', 'run_7')).toBe('marts.daily_revenue@run_7');
  });
  it('renders partition placeholders as literals and refuses unknown ones', () => {
    const sql = `SELECT * FROM e WHERE at >= {{ partition_start }} AND at < {{partition_end}} AND p = {{ partition.platform }} -- {{ partition_key }}`;
    expect(
      renderTemplate(d, sql, {
        partitionKey: '2026-11-24|meta',
        partitionStart: '2026-11-24T00:00:00Z',
        partitionEnd: '2026-11-25T00:00:00Z',
        partition: { platform: 'meta' },
      }),
    ).toBe(
      `SELECT * FROM e WHERE at >= TIMESTAMP '2026-11-24 00:00:00.000000' AND at < TIMESTAMP '2026-11-25 00:00:00.000000' ` +
        `AND p = 'meta' -- '2026-11-24|meta'`,
    );
    expect(() => renderTemplate(d, '{{ partition_start }}', {})).toThrow(/no value/);
    expect(() => renderTemplate(d, '{{ run_id }}', {})).toThrow(/unknown placeholder/);
    expect(() => d.timestampLiteral('yesterday')).toThrow(/not an ISO-8601 instant/);
  });
});
