import { existsSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { WatermarkReport } from '../types.js';

/**
 * A landing file is a completed period: `<name>-20261124.jsonl` holds all of that day, `2026-11-24T13.tsv` all
 * of that hour. So once a file has landed, its source is complete through the end of its period (the way a
 * _SUCCESS marker works), which lets the barrier release the last day without waiting for later data.
 */
export function periodEnd(file: string): string | undefined {
  const hour = /(\d{4}-\d{2}-\d{2})T(\d{2})/.exec(file);
  if (hour)
    return (
      DateTime.fromISO(`${hour[1]}T${hour[2]}:00`, { zone: 'utc' }).plus({ hours: 1 }).toISO() ?? undefined
    );
  const day = /(\d{4})-?(\d{2})-?(\d{2})/.exec(file);
  if (day)
    return (
      DateTime.fromISO(`${day[1]}-${day[2]}-${day[3]}`, { zone: 'utc' }).plus({ days: 1 }).toISO() ??
      undefined
    );
  return undefined;
}

/** The latest period end among the files landed so far (in `done/`). */
export async function landedThrough(dir: string, source: string): Promise<WatermarkReport | undefined> {
  const done = join(dir, 'done');
  if (!existsSync(done)) return undefined;
  const ends = (await readdir(done))
    .map(periodEnd)
    .filter((e): e is string => e !== undefined)
    .sort();
  const last = ends.at(-1);
  return last ? { source, watermark: last } : undefined;
}

/**
 * Lands the files of `dir` matching `pattern` in name order and moves each to `done/` once landed: a crash
 * before the move only re-reads it (rows dedupe on their natural key). `heartbeat` runs after each file, so a
 * cancelled pass stops between files, never between a file's landing and its move.
 */
export async function landFiles(
  dir: string,
  pattern: RegExp,
  land: (path: string) => Promise<void>,
  heartbeat: () => void = () => undefined,
): Promise<number> {
  if (!existsSync(dir)) return 0;
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && pattern.test(e.name))
    .map((e) => e.name)
    .sort();
  if (files.length === 0) return 0;
  await mkdir(join(dir, 'done'), { recursive: true });
  for (const f of files) {
    await land(join(dir, f));
    await rename(join(dir, f), join(dir, 'done', f));
    heartbeat();
  }
  return files.length;
}
