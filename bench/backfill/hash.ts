/**
 * A content hash per table of a DuckDB warehouse file: the md5 of every row's text, sorted, then hashed
 * together, so row order and physical layout do not count and any value, column or row that differs does.
 * Tessera's own bookkeeping tables (the `tessera_meta` schema, publications' `__p_*` versions) are left out: the
 * baseline keeps none.
 */
import { DuckDBInstance } from '@duckdb/node-api';

export type TableHashes = ReadonlyMap<string, { readonly rows: number; readonly hash: string }>;

const BOOKKEEPING = /^(tessera_meta|information_schema|pg_catalog)\.|\.__p_|\.__tessera/;

export async function tableHashes(path: string, exclude: (table: string) => boolean): Promise<TableHashes> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const c = await instance.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'`);
    const tables = (
      await (
        await c.runAndReadAll(
          `SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1, 2`,
        )
      ).getRowObjects()
    ).map((r) => ({ schema: String(r['table_schema']), name: String(r['table_name']) }));
    const out = new Map<string, { rows: number; hash: string }>();
    for (const t of tables) {
      const key = `${t.schema}.${t.name}`;
      if (BOOKKEEPING.test(key) || exclude(key)) continue;
      const ref = `"${t.schema.replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`;
      const [row] = (
        await c.runAndReadAll(
          `SELECT count(*) AS n, coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS hash ` +
            `FROM (SELECT md5(CAST(r AS VARCHAR)) AS h FROM ${ref} AS r)`,
        )
      ).getRowObjects();
      out.set(key, { rows: Number(row?.['n'] ?? 0), hash: String(row?.['hash'] ?? '') });
    }
    return out;
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** Tables whose content differs, or that only one side has. */
export function differences(a: TableHashes, b: TableHashes): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(key);
    const y = b.get(key);
    if (!x || !y) out.push(`${key}: only in the ${x ? 'first' : 'second'}`);
    else if (x.hash !== y.hash) out.push(`${key}: ${x.rows} vs ${y.rows} rows, content differs`);
  }
  return out;
}
