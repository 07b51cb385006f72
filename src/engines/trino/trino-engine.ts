import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { defaultCheckName } from '../../dsl/checks.js';
import type { CheckSpec } from '../../dsl/types.js';
import { asNumber, type EngineHooks } from '../core/context.js';
import { KeyedLock } from '../core/keyed-lock.js';
import { renderCheck } from '../dialect/checks.js';
import { utcTimestampText } from '../dialect/dialect.js';
import { STAGE_TABLE } from '../dialect/replace.js';
import { renderSnapshotAsOf } from '../dialect/snapshot.js';
import { EngineError } from '../errors.js';
import type {
  CheckRunOptions,
  CheckRunResult,
  ColumnInfo,
  Engine,
  FlipRequest,
  FlipResult,
  PublishState,
  ReplacePartitionRequest,
  ReplaceTableRequest,
  Row,
  SchemaChange,
  Scd2ChangesMergeRequest,
  Scd2MergeResult,
  Scd2SnapshotMergeRequest,
  SnapshotAsOfRequest,
  SqlParam,
  VersionedTableRequest,
  VersionedTableResult,
} from '../types.js';
import { TrinoClient } from './trino-client.js';
import {
  createMetaReady,
  createReady,
  describeRef,
  describeStaged,
  dropStaged,
  operationDialect,
} from './trino-context.js';
import { TrinoDialect } from './trino-dialect.js';
import * as publish from './trino-publish.js';
import * as scd2 from './trino-scd2.js';
import { evolve, replaceRows } from './trino-write.js';

/**
 * Trino over Iceberg: the Trino dialect renders, a REST client runs, and every write is one statement
 * (one Iceberg commit) because Iceberg on Trino has no multi-statement transactions. See
 * docs/engines.md ("Trino") for what that guarantees and what it does not.
 */

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case Trino identifier');

export const trinoConfigSchema = z.object({
  type: z.literal('trino'),
  /** Coordinator, e.g. http://127.0.0.1:58080. */
  url: z.string().url(),
  /** Iceberg catalog holding the warehouse's schemas (unqualified `schema.table` names resolve here). */
  catalog: identifier.default('iceberg'),
  user: z.string().min(1).default('tessera'),
  /** Where writes stage their select (a catalog that supports CREATE TABLE AS and DROP TABLE). */
  staging: z
    .object({ catalog: identifier, schema: identifier })
    .default({ catalog: 'memory', schema: 'tessera_staging' }),
  /** Trino session properties for every query, e.g. { query_max_run_time: '30m' }. */
  session: z.record(z.string(), z.string()).optional(),
  /**
   * Tests: a throwaway Iceberg catalog for this engine instance (on the same JDBC catalog database, in its
   * own catalog name and warehouse folder), created at open and dropped at close. Needs the server's
   * `catalog.management=dynamic` (scripts/services/trino.sh).
   */
  isolated: z.object({ jdbcUrl: z.string().min(1), warehouse: z.string().min(1) }).optional(),
});
export type TrinoConfig = z.infer<typeof trinoConfigSchema>;

export class TrinoEngine implements Engine {
  readonly name = 'trino';
  private readonly ctx: publish.TrinoPublishContext;

  constructor(
    readonly dialect: TrinoDialect,
    private readonly client: TrinoClient,
    hooks: EngineHooks = {},
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    const base = {
      dialect,
      client,
      hooks,
      locks: new KeyedLock(),
      ready: createReady(dialect, client),
      metaReady: createMetaReady(dialect, client),
    };
    this.ctx = { ...base, publishReady: publish.ensurePublishMeta(base) };
  }

  async execute(sql: string): Promise<void> {
    await this.client.run(sql);
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.client.query<T>(sql, params);
  }

  replacePartition(req: ReplacePartitionRequest) {
    const d = this.dialect;
    return replaceRows(this.ctx, 'replacePartition', req.table, req.selectSql, {
      predicate: (alias) => d.partitionPredicate(req.partition, alias),
      label: d.describePartition(req.partition),
    });
  }

  replaceTable(req: ReplaceTableRequest) {
    return replaceRows(this.ctx, 'replaceTable', req.table, req.selectSql, null);
  }

  mergeScd2FromChanges(req: Scd2ChangesMergeRequest): Promise<Scd2MergeResult> {
    return scd2.mergeScd2FromChanges(this.ctx, req);
  }

  mergeScd2FromSnapshot(req: Scd2SnapshotMergeRequest): Promise<Scd2MergeResult> {
    return scd2.mergeScd2FromSnapshot(this.ctx, req);
  }

  snapshotAsOfSql(req: SnapshotAsOfRequest): string {
    return renderSnapshotAsOf(this.dialect, req);
  }

  /**
   * Iceberg time travel: the table as it was committed at `asOf` (its snapshot then), for any table,
   * not only SCD2 histories. Fails when the table had no snapshot yet or expired it.
   */
  tableAsOfSql(table: string, asOf: string): string {
    return `SELECT * FROM ${this.dialect.table(table)} FOR TIMESTAMP AS OF TIMESTAMP '${utcTimestampText(this.name, asOf)} UTC'`;
  }

  createVersionedTable(req: VersionedTableRequest): Promise<VersionedTableResult> {
    return publish.createVersionedTable(this.ctx, req);
  }

  flipPublishGroup(req: FlipRequest): Promise<FlipResult> {
    return publish.flipPublishGroup(this.ctx, req);
  }

  rollbackPublishGroup(group: string): Promise<FlipResult> {
    return publish.rollbackPublishGroup(this.ctx, group);
  }

  publishHistory(group: string): Promise<PublishState[]> {
    return publish.publishHistory(this.ctx, group);
  }

  describeTable(table: string): Promise<ColumnInfo[] | undefined> {
    return describeRef(this.ctx, this.dialect, this.dialect.tableRef(table));
  }

  async evolveSchema(table: string, selectSql: string): Promise<SchemaChange[]> {
    const ref = this.dialect.tableRef(table);
    await this.ctx.ready();
    return this.ctx.locks.run(this.dialect.table(ref), async () => {
      const existing = await describeRef(this.ctx, this.dialect, ref);
      if (!existing) return [];
      const d = operationDialect(this.ctx);
      try {
        await this.client.run(d.createTempTableAs(STAGE_TABLE, `SELECT * FROM (${selectSql}) AS s LIMIT 0`));
        return await evolve(this.ctx, d, table, existing, await describeStaged(this.ctx, d, STAGE_TABLE));
      } finally {
        await dropStaged(this.ctx, d, [STAGE_TABLE]);
      }
    });
  }

  async runCheck(check: CheckSpec, table: string, options: CheckRunOptions = {}): Promise<CheckRunResult> {
    const now = options.now ?? DateTime.utc().toISO();
    const rendered = renderCheck(this.dialect, check, table, { ...options, now });
    const [row] = await this.client.query(rendered.sql);
    const failing = asNumber(row?.['failing']);
    return {
      name: check.name ?? defaultCheckName(check),
      passed: failing === 0,
      failingRows: failing,
      detail: rendered.detail(failing, row?.['observed'] ?? null),
    };
  }

  async close(): Promise<void> {
    try {
      await this.onClose();
    } finally {
      await this.client.close();
    }
  }
}

export async function createTrinoEngine(config: TrinoConfig, hooks?: EngineHooks): Promise<TrinoEngine> {
  const parsed = trinoConfigSchema.parse(config);
  const dialect = new TrinoDialect({
    stagingCatalog: parsed.staging.catalog,
    stagingSchema: parsed.staging.schema,
  });
  const connect = (catalog: string): TrinoClient =>
    new TrinoClient({
      url: parsed.url.replace(/\/+$/, ''),
      catalog,
      user: parsed.user,
      ...(parsed.session ? { session: parsed.session } : {}),
      literal: (v) => dialect.literal(v),
    });
  let catalog = parsed.catalog;
  let onClose: (() => Promise<void>) | undefined;
  if (parsed.isolated) {
    catalog = `tessera_t_${randomBytes(6).toString('hex')}`;
    const admin = connect('system');
    await admin.run(createCatalogSql(dialect, catalog, parsed.isolated));
    onClose = async () => {
      await admin.run(`DROP CATALOG IF EXISTS ${dialect.quote(catalog)}`);
      await admin.close();
    };
  }
  const client = connect(catalog);
  await checkCatalogs(client, [catalog, parsed.staging.catalog], parsed.url);
  return new TrinoEngine(dialect, client, hooks ?? {}, onClose);
}

/** Fails at start-up, naming what is missing, when the server or a configured catalog is not there. */
async function checkCatalogs(client: TrinoClient, wanted: readonly string[], url: string): Promise<void> {
  const rows = await client.query<{ catalog_name: string }>(
    'SELECT catalog_name FROM system.metadata.catalogs',
  );
  const have = new Set(rows.map((r) => r.catalog_name));
  const missing = wanted.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new EngineError(
      'trino',
      `catalog(s) ${missing.join(', ')} not found on ${url} (it has: ${[...have].sort().join(', ')})`,
    );
  }
}

function createCatalogSql(
  d: TrinoDialect,
  catalog: string,
  isolated: NonNullable<TrinoConfig['isolated']>,
): string {
  const props: Record<string, string> = {
    'iceberg.catalog.type': 'jdbc',
    'iceberg.jdbc-catalog.catalog-name': catalog,
    'iceberg.jdbc-catalog.driver-class': 'org.postgresql.Driver',
    'iceberg.jdbc-catalog.connection-url': isolated.jdbcUrl,
    'iceberg.jdbc-catalog.default-warehouse-dir': `local://${isolated.warehouse.replace(/\/+$/, '')}/${catalog}`,
    'iceberg.jdbc-catalog.schema-version': 'V1',
    'fs.native-local.enabled': 'true',
    'local.location': '/',
  };
  const withs = Object.entries(props).map(([k, v]) => `${d.quote(k)} = ${d.literal(v)}`);
  return `CREATE CATALOG ${d.quote(catalog)} USING iceberg WITH (${withs.join(', ')})`;
}
