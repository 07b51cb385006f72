/**
 * The workflow bundle (webpack + swc through the SDK), built once per source state: cached in memory per
 * process and on disk under <repo>/.cache/workflow-bundle/<hash>.js, keyed by the content of the source files
 * the workflows import (followed from src/workflows/index through relative imports), the lockfile and the SDK
 * version, so an edit to an activity or an engine does not rebuild it. Bundling takes seconds; loading a cached
 * bundle takes milliseconds.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';
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

/** Relative module specifiers of a source file: static imports and re-exports, side-effect and dynamic imports. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** The file a relative specifier names: sources import `./x.js`, which is `./x.ts` before compilation. */
function resolveImport(from: string, specifier: string): string | undefined {
  const path = join(dirname(from), specifier);
  const candidates = [path, path.replace(/\.js$/, '.ts'), `${path}.ts`, join(path, 'index.ts')];
  return candidates.find((c) => existsSync(c) && !statSync(c).isDirectory());
}

/** The files `entry` reaches through relative imports, itself included, in a stable order. */
export function importedFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const next = m[1] ? resolveImport(file, m[1]) : undefined;
      if (next) visit(next);
    }
  };
  visit(entry);
  return [...seen].sort();
}

/** The bundle's cache key: the SDK version, the lockfile (packages the workflows import) and the workflow sources. */
export function workflowSourceHash(entry: string, root: string, sdkVersion: string): string {
  const hash = createHash('sha256').update(`sdk ${sdkVersion}\n`);
  const lock = join(root, 'package-lock.json');
  if (existsSync(lock)) hash.update(readFileSync(lock));
  for (const file of importedFiles(entry))
    hash.update(`${relative(root, file)}\n`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

function sourceHash(): string {
  const sdk = createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string };
  return workflowSourceHash(WORKFLOWS_PATH, repoRoot(), sdk.version);
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
