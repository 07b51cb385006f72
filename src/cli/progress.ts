import { SingleBar, Presets } from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../workflows/types.js';

/** Seconds between progress lines when stdout is not a terminal (CI logs). */
const LINE_EVERY_MS = 10_000;

/**
 * Polls a run's `progress` query until the run ends and shows it: a live bar (done/failed/running, ETA) on a
 * terminal, a line every 10 s when progress changed otherwise (CI logs), nothing for --json. Returns the
 * run's result.
 */
export async function watchRun<R>(
  handle: WorkflowHandle,
  opts: { json: boolean; label: string; everyMs?: number },
): Promise<R> {
  const mode = opts.json ? 'none' : process.stdout.isTTY ? 'bar' : 'lines';
  const bar =
    mode === 'bar'
      ? new SingleBar(
          {
            format: `${opts.label} [{bar}] {value}/{total} done | {failed} failed | {running} running | ETA {eta_formatted}`,
            hideCursor: true,
          },
          Presets.shades_classic,
        )
      : undefined;
  let started = false;
  let lastLine = '';
  let lastLineAt = Date.now();
  const result = handle.result() as Promise<R>;
  let finished = false;
  void result.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    try {
      const p = await handle.query<Progress>('progress');
      const done = p.done + p.failed + p.skipped;
      if (bar && p.total > 0) {
        // Not before the plan is known: a 0/0 bar reads as finished.
        if (!started) bar.start(p.total, done, { failed: p.failed, running: p.running });
        started = true;
        bar.setTotal(p.total);
        bar.update(done, { failed: p.failed + p.skipped, running: p.running });
      } else if (mode === 'lines') {
        const line = `${opts.label}: ${done}/${p.total} done, ${p.failed + p.skipped} failed, ${p.running} running`;
        if (line !== lastLine && Date.now() - lastLineAt >= LINE_EVERY_MS) {
          process.stderr.write(`${line}\n`);
          lastLine = line;
          lastLineAt = Date.now();
        }
      }
    } catch {
      // The run may not have answered its first query yet, or has just finished.
    }
    await Promise.race([
      result.catch(() => undefined),
      new Promise((r) => setTimeout(r, opts.everyMs ?? 1000)),
    ]);
  }
  if (started) bar?.stop();
  return result;
}
