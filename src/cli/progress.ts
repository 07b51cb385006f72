import { SingleBar, Presets } from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../workflows/types.js';

/**
 * Polls a run's `progress` query and draws a live bar (done/failed/running, ETA) until the run ends; nothing is
 * drawn for --json or when stdout is not a terminal (CI logs). Returns the run's result.
 */
export async function watchRun<R>(
  handle: WorkflowHandle,
  opts: { json: boolean; label: string; everyMs?: number },
): Promise<R> {
  const live = !opts.json && process.stdout.isTTY;
  const bar = live
    ? new SingleBar(
        {
          format: `${opts.label} [{bar}] {value}/{total} done | {failed} failed | {running} running | ETA {eta_formatted}`,
          hideCursor: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  let started = false;
  const result = handle.result() as Promise<R>;
  let finished = false;
  void result.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    try {
      const p = await handle.query<Progress>('progress');
      const done = p.done + p.failed + p.skipped;
      if (bar && !started) {
        bar.start(p.total, done, { failed: p.failed, running: p.running });
        started = true;
      }
      bar?.setTotal(p.total);
      bar?.update(done, { failed: p.failed + p.skipped, running: p.running });
    } catch {
      // The run may not have answered its first query yet, or has just finished.
    }
    await Promise.race([
      result.catch(() => undefined),
      new Promise((r) => setTimeout(r, opts.everyMs ?? 1000)),
    ]);
  }
  bar?.stop();
  return result;
}
