import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CdcSink } from '../sinks/types.js';
import { debeziumInput, DebeziumStream, type DebeziumResult, type DebeziumSourceOptions } from './stream.js';

/**
 * Debezium events from newline-delimited JSON files in a landing folder (the embedded default: no
 * broker). One event per line (`null` = tombstone); files are read in name order as one stream.
 * Re-reading a file lands nothing twice; the last transaction of the stream waits for the next event to
 * know its commit position (see decoder.ts), so the file holding it stays for the next run.
 */

const FILE = /\.(ndjson|jsonl|json)$/;

async function streamFile(path: string, stream: DebeziumStream): Promise<void> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  const name = basename(path);
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    await stream.push(debeziumInput(line, `${name}:${n}`));
  }
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
  for (const f of files) await streamFile(join(dir, f), stream);
  await stream.flush();
  const result = stream.result();
  const keepFrom = result.pending ? result.pending.slice(0, result.pending.lastIndexOf(':')) : undefined;
  const done: string[] = [];
  if (files.length > 0) await mkdir(join(dir, 'done'), { recursive: true });
  for (const f of files) {
    if (keepFrom !== undefined && f >= keepFrom) break;
    await rename(join(dir, f), join(dir, 'done', f));
    done.push(f);
  }
  return { ...result, files, done };
}
