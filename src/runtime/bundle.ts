/**
 * The workflow bundle (webpack + swc through the SDK), built once per source state: cached in memory per
 * process and on disk under <repo>/.cache/workflow-bundle/<hash>.js, keyed by the content of every source
 * file under src/ and the SDK version. Bundling takes seconds; loading a cached bundle takes milliseconds.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundle, WorkflowBundlePath } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';

const here = fileURLToPath(import.meta.url);
/** src/ (or dist/src/ when compiled). */
const srcDir = dirname(dirname(here));
export const WORKFLOWS_PATH = join(srcDir, 'workflows', `index${extname(here)}`);

function repoRoot(): string {
  let dir = srcDir;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const sdk = createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string };
  hash.update(`sdk ${sdk.version}\n`);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js|mjs|cjs|json)$/.test(entry.name))
        hash.update(`${path}\n`).update(readFileSync(path));
    }
  };
  walk(srcDir);
  return hash.digest('hex').slice(0, 16);
}

type Bundle = WorkflowBundle | WorkflowBundlePath;
let cached: Promise<Bundle> | undefined;

/** The bundle for Worker.create({ workflowBundle }) and replay. `cacheDir: null` disables the disk cache. */
export function workflowBundle(opts: { cacheDir?: string | null; logger?: Logger } = {}): Promise<Bundle> {
  cached ??= build(opts).catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function build(opts: { cacheDir?: string | null; logger?: Logger }): Promise<Bundle> {
  const dir =
    opts.cacheDir === null ? undefined : (opts.cacheDir ?? join(repoRoot(), '.cache', 'workflow-bundle'));
  const file = dir ? join(dir, `${sourceHash()}.js`) : undefined;
  if (file && existsSync(file)) return { codePath: file };
  const logger = opts.logger ?? new DefaultLogger('WARN');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger });
  if (!file) return { code };
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, file); // atomic: concurrent test processes may build the same bundle
  return { codePath: file };
}
