import { existsSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { WatermarkReport } from '../types.js';

/**
 * A landing file is a completed period: `<name>-20261124.jsonl` holds all of that day, `2026-11-24T13.tsv` all
 * of that hour. So once a file has landed, its source is complete through the end of its period (the way a
 * _SUCCESS marker works), which lets the barrier release the last day without waiting for later data.
 *
 * Unless nothing in it could be read: a file whose every line was quarantined says nothing about its period, so it
 * goes to `rejected/` instead of `done/` and holds the watermark at its period's start until a file for the same
 * period lands (a re-delivery after the fix).
 */
export function periodEnd(file: string): string | undefined {
  return period(file)?.end;
}

function period(file: string): { start: string; end: string } | undefined {
  const hour = /(\d{4}-\d{2}-\d{2})T(\d{2})/.exec(file);
  const day = hour ? undefined : /(\d{4})-?(\d{2})-?(\d{2})/.exec(file);
  const start = hour
    ? DateTime.fromISO(`${hour[1]}T${hour[2]}:00`, { zone: 'utc' })
    : day
      ? DateTime.fromISO(`${day[1]}-${day[2]}-${day[3]}`, { zone: 'utc' })
      : undefined;
  if (!start?.isValid) return undefined;
  const end = start.plus(hour ? { hours: 1 } : { days: 1 });
  return { start: start.toISO() ?? '', end: end.toISO() ?? '' };
}

const periodsIn = async (dir: string): Promise<{ start: string; end: string }[]> =>
  existsSync(dir)
    ? (await readdir(dir)).map(period).filter((p): p is { start: string; end: string } => p !== undefined)
    : [];

/**
 * The latest period end among the files landed so far (in `done/`), held back to the start of the earliest
 * rejected period that no landed file has covered since.
 */
export async function landedThrough(dir: string, source: string): Promise<WatermarkReport | undefined> {
  const done = await periodsIn(join(dir, 'done'));
  const last = done
    .map((p) => p.end)
    .sort()
    .at(-1);
  if (!last) return undefined;
  const covered = new Set(done.map((p) => p.start));
  const hold = (await periodsIn(join(dir, REJECTED)))
    .filter((p) => !covered.has(p.start))
    .map((p) => p.start)
    .sort()
    .at(0);
  return { source, watermark: hold !== undefined && hold < last ? hold : last };
}

/** Where a file goes when nothing in it could be read (every line quarantined). */
export const REJECTED = 'rejected';

/** What landing one file found: `rejected` when it held lines but none could be read. */
export interface LandedFile {
  readonly rejected: boolean;
}

/**
 * Lands the files of `dir` matching `pattern` in name order and moves each to `done/` once landed (`rejected/`
 * when `land` says nothing in it could be read): a crash before the move only re-reads it (rows dedupe on their
 * natural key). `heartbeat` runs after each file, so a cancelled pass stops between files, never between a
 * file's landing and its move.
 */
export async function landFiles(
  dir: string,
  pattern: RegExp,
  land: (path: string) => Promise<LandedFile | void>,
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
    const landed = await land(join(dir, f));
    const to = landed?.rejected ? REJECTED : 'done';
    if (to === REJECTED) await mkdir(join(dir, REJECTED), { recursive: true });
    await rename(join(dir, f), join(dir, to, f));
    heartbeat();
  }
  return files.length;
}
