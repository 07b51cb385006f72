/**
 * The UI's reads of the warehouse go through the CLI's own path (`queryWarehouse`: the file read-only, or the
 * worker holding it), one at a time: each direct read opens and closes the DuckDB file, and a page asks for
 * several things at once.
 */
import type { QueryResult, RunQueryInput } from '../../activities/types.js';
import type { CliContext } from '../../cli/context.js';
import { queryWarehouse, type Via } from '../../cli/warehouse.js';
import type { Cell } from '../api-types.js';

export class WarehouseReader {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: CliContext,
    private readonly via: Via,
  ) {}

  query(input: RunQueryInput): Promise<QueryResult> {
    const run = this.queue.then(async () => (await queryWarehouse(this.ctx, input, this.via)).result);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** A query value as one table cell (nested values as JSON text). */
export function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/** A SQL string literal. */
export const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** "does not exist" errors of a table nobody has written yet. */
export const missingTable = (e: unknown): boolean =>
  /does not exist|not found|no such table/i.test(e instanceof Error ? e.message : String(e));
