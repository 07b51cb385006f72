import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../engines/types.js';
import {
  ensureTables,
  nativeLandSql,
  observeNativeLanding,
  runNativeLanding,
  type NativeResult,
} from './duckdb-native.js';
import type { SnowplowBatchResult, SnowplowLoader } from './loader.js';
import { SNOWPLOW_EVENTS_TABLE, SNOWPLOW_SOURCE } from './schema.js';

/**
 * A Kafka batch of enriched lines landed by DuckDB instead of JS (the landing files' native path, about 4x
 * cheaper per event): the messages' bytes go to a temporary file as they came, one per line (never decoded
 * into JS strings: bytes that are not UTF-8 make DuckDB refuse the file, and the JS path, which decodes them
 * with replacement characters as before, takes the batch), and quarantined lines get their
 * `topic/partition/offset` origin from the line number. Same rows, reasons, dedupe, watermark and hours as
 * SnowplowLoader.load on the same batch. Returns undefined, having landed nothing, when the batch cannot be
 * written one message per line (an empty message or a tombstone, a line break inside a message, offsets
 * with gaps) or DuckDB refuses it: the caller then runs SnowplowLoader.load.
 */

export interface NativeLinesOptions {
  readonly engine: Engine;
  readonly loader: SnowplowLoader;
  /** Watermark sub-stream: `topic/partition`. */
  readonly stream: string;
  /** Quarantine origins are `<stream>/<offset>`; the messages' offsets, in order. */
  readonly offsets: readonly string[];
  readonly table?: string;
  readonly tmpDir?: string;
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
let fileSeq = 0;

const LF = 0x0a;
const CR = 0x0d;

export async function landSnowplowLinesNative(
  /** The messages' values (null: a tombstone). */
  lines: readonly (Buffer | null)[],
  opts: NativeLinesOptions,
): Promise<SnowplowBatchResult | undefined> {
  const { engine, loader } = opts;
  if (engine.name !== 'duckdb' || lines.length === 0 || lines.length !== opts.offsets.length)
    return undefined;
  const parts: Buffer[] = [];
  const newline = Buffer.from([LF]);
  for (const l of lines) {
    if (l === null || l.length === 0 || l.includes(LF) || l.includes(CR)) return undefined;
    if (parts.length > 0) parts.push(newline);
    parts.push(l);
  }
  const first = BigInt(opts.offsets[0] ?? '0');
  for (let i = 1; i < opts.offsets.length; i++)
    if (BigInt(opts.offsets[i] ?? '') !== first + BigInt(i)) return undefined;

  const table = opts.table ?? SNOWPLOW_EVENTS_TABLE;
  await ensureTables(engine, table);
  const file = join(opts.tmpDir ?? tmpdir(), `tessera-snowplow-${process.pid}-${++fileSeq}.tsv`);
  await writeFile(file, Buffer.concat(parts));
  let res: NativeResult;
  try {
    const origin = (lineNo: string) => `${lit(`${opts.stream}/`)} || (${first} + ${lineNo} - 1)::VARCHAR`;
    res = await runNativeLanding(engine, table, nativeLandSql(file, table, origin));
  } catch {
    return undefined; // nothing landed (one transaction); the JS path decides line by line
  } finally {
    await unlink(file).catch(() => undefined);
  }
  if (!res.ok) return undefined;

  const hours = observeNativeLanding(res, loader, opts.stream);
  const value = loader.watermark.value;
  return {
    received: lines.length,
    parsed: Number(res.parsed),
    quarantined: Number(res.quarantined),
    quarantinedByCode: res.by_code ?? {},
    duplicatesInBatch: Number(res.parsed) - Number(res.distinct_ids),
    inserted: Number(res.inserted),
    ...hours,
    watermark: value === undefined ? undefined : { source: SNOWPLOW_SOURCE, watermark: value },
  };
}
