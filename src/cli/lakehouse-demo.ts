/**
 * The demo on a shared-engine config (config/lakehouse.yaml): Trino and Spark over one Iceberg catalog and a
 * PostgreSQL ledger. Like the embedded demo it starts over every run, but in state of its own, so it never
 * touches the environment's warehouse: an Iceberg catalog `tessera_demo` (same JDBC catalog database, its own
 * catalog name and warehouse folder, which Trino and Spark both name `tessera_demo`) and a ledger schema
 * `<schema>_demo`.
 */
import pg from 'pg';
import type { TesseraConfig } from '../config/index.js';
import { createEngine } from '../engines/index.js';

export const DEMO_CATALOG = 'tessera_demo';

/** True when the config runs no step on the embedded engine: the demo then uses the config's engines. */
export function isSharedEngineConfig(config: TesseraConfig): boolean {
  return Object.values(config.engines).every((e) => e.type !== 'duckdb');
}

/** The config's engines on the demo's catalog, its ledger in the demo's schema. */
export function lakehouseDemoConfig(base: TesseraConfig): TesseraConfig {
  const engines = Object.fromEntries(
    Object.entries(base.engines).map(([name, e]) => {
      if (e.type === 'trino' || e.type === 'spark') return [name, { ...e, catalog: DEMO_CATALOG }];
      throw new Error(
        `the demo runs on DuckDB, Trino and Spark; engine "${name}" is ${e.type} (use \`tessera materialize\` there)`,
      );
    }),
  );
  if (base.ledger.type !== 'postgres')
    throw new Error('the lakehouse demo wants a PostgreSQL ledger: workers on other machines share it');
  return {
    ...base,
    engines,
    ledger: { ...base.ledger, schema: `${base.ledger.schema}_demo` },
    temporal: { ...base.temporal, taskQueue: `${base.temporal.taskQueue}-demo` },
    // Landing files complete their period: no lateness to wait for.
    lateness: { ...base.lateness, defaultMinutes: 0 },
  };
}

const need = (name: string): string => {
  const v = process.env[name];
  if (!v)
    throw new Error(
      `${name} is not set: start the lakehouse with scripts/services/trino.sh start (scripts/demo.sh does)`,
    );
  return v;
};

/** Trino's side of the demo catalog: created like scripts/services/trino.sh's `iceberg`, under another name. */
function createCatalogSql(): string {
  const warehouse = need('TESSERA_LAKEHOUSE_WAREHOUSE').replace(/\/+$/, '');
  const props: Record<string, string> = {
    'iceberg.catalog.type': 'jdbc',
    'iceberg.jdbc-catalog.catalog-name': DEMO_CATALOG,
    'iceberg.jdbc-catalog.driver-class': 'org.postgresql.Driver',
    'iceberg.jdbc-catalog.connection-url': need('TESSERA_LAKEHOUSE_JDBC_URL'),
    // file://, as for `iceberg`: Spark opens file:// locations only. Spark's server puts a catalog named
    // X in <warehouse>/X, so both engines agree on the folder as well as on the catalog rows.
    'iceberg.jdbc-catalog.default-warehouse-dir': `file://${warehouse}/${DEMO_CATALOG}`,
    'iceberg.jdbc-catalog.schema-version': 'V1',
    'fs.native-local.enabled': 'true',
    'local.location': '/',
  };
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const withs = Object.entries(props).map(([k, v]) => `"${k}" = ${q(v)}`);
  return `CREATE CATALOG ${DEMO_CATALOG} USING iceberg WITH (${withs.join(', ')})`;
}

/**
 * Empties the demo's state: creates the catalog on Trino when missing and drops every schema in it (tables,
 * views and their files), and drops the demo's ledger schema. Spark reads the same catalog rows, so it sees
 * the same empty catalog (its table cache is off, scripts/services/spark.sh).
 */
export async function resetLakehouseDemo(config: TesseraConfig): Promise<void> {
  const trino = Object.values(config.engines).find((e) => e.type === 'trino');
  if (!trino || trino.type !== 'trino')
    throw new Error('the lakehouse demo needs a Trino engine: it creates and empties the demo catalog');
  const admin = await createEngine({ type: 'trino', url: trino.url, catalog: 'system' });
  try {
    const catalogs = await admin.query<{ catalog_name: string }>(
      'SELECT catalog_name FROM system.metadata.catalogs',
    );
    if (!catalogs.some((c) => c.catalog_name === DEMO_CATALOG)) await admin.execute(createCatalogSql());
    const schemas = await admin.query<{ schema_name: string }>(
      `SELECT schema_name FROM ${DEMO_CATALOG}.information_schema.schemata WHERE schema_name <> 'information_schema'`,
    );
    for (const { schema_name: schema } of schemas)
      await admin.execute(`DROP SCHEMA ${DEMO_CATALOG}."${schema}" CASCADE`);
  } finally {
    await admin.close();
  }
  if (config.ledger.type === 'postgres') {
    const client = new pg.Client({ connectionString: config.ledger.url });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${config.ledger.schema}" CASCADE`);
    } finally {
      await client.end();
    }
  }
}
