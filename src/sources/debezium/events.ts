import { z } from 'zod';
import type { ChangeOp } from '../types.js';
import { connectSchema, type ConnectSchema } from './connect.js';

/**
 * The shapes of Debezium PostgreSQL messages (JSON converter), normalised into one `DebeziumEvent`:
 * - the change envelope `{before, after, source, op, transaction}` (op c/u/d/r/t, and m for messages),
 *   with or without `{schema, payload}` around it;
 * - the flattened record of ExtractNewRecordState: the row plus `__op`, `__deleted` and the `add.fields`
 *   metadata (`__lsn`, `__txId`, `__source_ts_us`/`__source_ts_ms`, `__sequence`, `__table`, `__snapshot`);
 * - tombstones (null value), transaction BEGIN/END records and heartbeats (no rows).
 */

const source = z
  .object({
    ts_ms: z.number().optional(),
    ts_us: z.number().optional(),
    snapshot: z.union([z.string(), z.boolean()]).nullish(),
    db: z.string().optional(),
    sequence: z.string().nullish(),
    schema: z.string().optional(),
    table: z.string().optional(),
    txId: z.number().nullish(),
    lsn: z.number().nullish(),
  })
  .loose();

const image = z.record(z.string(), z.unknown()).nullish();

const envelope = z.object({
  op: z.enum(['c', 'u', 'd', 'r', 't', 'm']),
  before: image,
  after: image,
  source,
  ts_ms: z.number().nullish(),
  message: z.object({ prefix: z.string(), content: z.string().nullish() }).nullish(),
});

export type DebeziumEvent =
  | { readonly kind: 'tombstone' }
  | { readonly kind: 'metadata' }
  | {
      readonly kind: 'change';
      readonly op: ChangeOp | 'm';
      readonly table: string | undefined;
      readonly snapshot: boolean;
      /** Whether this is the final snapshot record (`snapshot: last`). */
      readonly lastSnapshot: boolean;
      readonly txid: number | null;
      readonly lsn: bigint | undefined;
      /** `sequence[0]`: end LSN of the commit Debezium processed before this event (null after a snapshot). */
      readonly lastCommitLsn: bigint | undefined;
      /** Commit time, microseconds since the epoch. */
      readonly commitMicros: bigint | undefined;
      /** Row image (after; before for deletes) and the before image. */
      readonly row: Readonly<Record<string, unknown>> | undefined;
      readonly before: Readonly<Record<string, unknown>> | undefined;
      /** Column schemas of the row, when the message carried a schema. */
      readonly columns: readonly ConnectSchema[] | undefined;
    };

const SNAPSHOT_FLAGS = new Set([
  'true',
  'first',
  'last',
  'first_in_data_collection',
  'last_in_data_collection',
  'incremental',
]);

function lsnOf(v: unknown): bigint | undefined {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) return BigInt(v);
  return undefined;
}

function lastCommitOf(sequence: unknown): bigint | undefined {
  if (typeof sequence !== 'string') return undefined;
  const parsed: unknown = JSON.parse(sequence);
  return Array.isArray(parsed) ? lsnOf(parsed[0]) : undefined;
}

function micros(us: unknown, ms: unknown): bigint | undefined {
  if (typeof us === 'number') return BigInt(Math.trunc(us));
  if (typeof ms === 'number') return BigInt(Math.trunc(ms)) * 1000n;
  return undefined;
}

function fieldsOf(s: ConnectSchema | undefined, field: string): readonly ConnectSchema[] | undefined {
  return s?.fields?.find((f) => f.field === field)?.fields;
}

/** Throws (with the reason) when the message is none of the known shapes. */
export function normaliseEvent(value: unknown): DebeziumEvent {
  if (value === null || value === undefined) return { kind: 'tombstone' };
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('event is not a JSON object');
  const obj = value as Record<string, unknown>;
  let payload: unknown = obj;
  let schema: ConnectSchema | undefined;
  if ('payload' in obj && 'schema' in obj) {
    payload = obj['payload'];
    schema = obj['schema'] === null ? undefined : connectSchema.parse(obj['schema']);
  }
  if (payload === null || payload === undefined) return { kind: 'tombstone' };
  const p = payload as Record<string, unknown>;
  if ('status' in p && 'id' in p && !('op' in p)) return { kind: 'metadata' };
  if ('op' in p && 'source' in p) {
    const e = envelope.parse(p);
    const op = e.op;
    const snapshotFlag = String(e.source.snapshot ?? 'false');
    const row = (op === 'd' ? e.before : e.after) ?? undefined;
    return {
      kind: 'change',
      op,
      table: e.source.table,
      snapshot: op === 'r' || SNAPSHOT_FLAGS.has(snapshotFlag),
      lastSnapshot: snapshotFlag === 'last',
      txid: e.source.txId ?? null,
      lsn: lsnOf(e.source.lsn),
      lastCommitLsn: lastCommitOf(e.source.sequence),
      commitMicros: micros(e.source.ts_us, e.source.ts_ms),
      row,
      before: e.before ?? undefined,
      columns:
        fieldsOf(schema, op === 'd' ? 'before' : 'after') ??
        fieldsOf(schema, 'after') ??
        fieldsOf(schema, 'before'),
    };
  }
  const meta = Object.keys(p).filter((k) => k.startsWith('__'));
  if (meta.length > 0) return flattened(p, schema);
  if (Object.keys(p).every((k) => k === 'ts_ms')) return { kind: 'metadata' }; // heartbeat
  throw new Error('neither a Debezium envelope nor a flattened (ExtractNewRecordState) record');
}

const pick = (p: Record<string, unknown>, ...names: string[]): unknown => {
  for (const n of names) if (p[n] !== undefined && p[n] !== null) return p[n];
  return undefined;
};

function flattened(p: Record<string, unknown>, schema: ConnectSchema | undefined): DebeziumEvent {
  const deleted = String(pick(p, '__deleted') ?? 'false') === 'true';
  const rawOp = pick(p, '__op') ?? (deleted ? 'd' : undefined);
  if (typeof rawOp !== 'string' || !['c', 'u', 'd', 'r', 't'].includes(rawOp)) {
    throw new Error('flattened record without __op: add `op` to the SMT add.fields');
  }
  const op = rawOp as ChangeOp;
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (!k.startsWith('__')) row[k] = v;
  const snapshotFlag = String(pick(p, '__snapshot', '__source_snapshot') ?? 'false');
  const txid = pick(p, '__txId', '__source_txId');
  const table = pick(p, '__table', '__source_table');
  return {
    kind: 'change',
    op,
    table: typeof table === 'string' ? table : undefined,
    snapshot: op === 'r' || SNAPSHOT_FLAGS.has(snapshotFlag),
    lastSnapshot: snapshotFlag === 'last',
    txid: typeof txid === 'number' ? txid : null,
    lsn: lsnOf(pick(p, '__lsn', '__source_lsn')),
    lastCommitLsn: lastCommitOf(pick(p, '__sequence', '__source_sequence')),
    commitMicros: micros(pick(p, '__source_ts_us', '__ts_us'), pick(p, '__source_ts_ms', '__ts_ms')),
    row: op === 't' ? undefined : row,
    before: undefined,
    columns: schema?.fields?.filter((f) => f.field !== undefined && !f.field.startsWith('__')),
  };
}
