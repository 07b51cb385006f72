import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { REJECTED } from '../landing/landing-files.js';
import type { CdcSink } from '../sinks/types.js';
import { debeziumInput, DebeziumStream, type DebeziumResult, type DebeziumSourceOptions } from './stream.js';

/**
 * Debezium events from newline-delimited JSON files in a landing folder (the embedded default: no
 * broker). One event per line (`null` = tombstone); files are read in name order as one stream.
 * Re-reading a file lands nothing twice; the last transaction of the stream waits for the next event to
 * know its commit position (see decoder.ts), so the file holding it stays for the next run.
 */

const FILE = /\.(ndjson|jsonl|json)$/;

/** Pushes the file's events; returns how many lines held one. */
async function streamFile(path: string, stream: DebeziumStream): Promise<number> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  const name = basename(path);
  let events = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    events++;
    await stream.push(debeziumInput(line, `${name}:${n}`));
  }
  return events;
}

/** Lands one file's events; idempotent. */
export async function readDebeziumFile(
  path: string,
  sink: CdcSink,
  opts: DebeziumSourceOptions,
): Promise<DebeziumResult> {
  const stream = new DebeziumStream(sink, opts);
  await streamFile(path, stream);
  await stream.flush();
  return stream.result();
}

export interface FolderResult extends DebeziumResult {
  /** Files read in this call. */
  readonly files: readonly string[];
  /** Files moved to `done/` (fully landed). */
  readonly done: readonly string[];
  /**
   * Files moved to `rejected/`: every event in them was quarantined, so they vouch for nothing (the landing
   * folder's watermark holds at their period, landing-files.ts), as Snowplow files with only malformed lines.
   */
  readonly rejected: readonly string[];
}

/**
 * Lands every file of `dir` in name order, then moves the files whose events all landed to `dir/done`.
 * A crash before the move only means the next run re-reads them (and inserts nothing new).
 */
export async function readDebeziumFolder(
  dir: string,
  sink: CdcSink,
  opts: DebeziumSourceOptions,
): Promise<FolderResult> {
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && FILE.test(e.name))
    .map((e) => e.name)
    .sort();
  const stream = new DebeziumStream(sink, opts);
  const events = new Map<string, number>();
  for (const f of files) events.set(f, await streamFile(join(dir, f), stream));
  await stream.flush();
  const result = stream.result();
  const keepFrom = result.pending ? result.pending.slice(0, result.pending.lastIndexOf(':')) : undefined;
  const done: string[] = [];
  const rejected: string[] = [];
  if (files.length > 0) await mkdir(join(dir, 'done'), { recursive: true });
  for (const f of files) {
    if (keepFrom !== undefined && f >= keepFrom) break;
    const n = events.get(f) ?? 0;
    const to = n > 0 && stream.quarantinedFrom(f) >= n ? REJECTED : 'done';
    if (to === REJECTED) await mkdir(join(dir, REJECTED), { recursive: true });
    await rename(join(dir, f), join(dir, to, f));
    (to === REJECTED ? rejected : done).push(f);
  }
  return { ...result, files, done, rejected };
}
