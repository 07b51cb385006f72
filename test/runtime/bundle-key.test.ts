/**
 * The workflow bundle's cache key follows the workflows' imports: it changes with a file the workflows reach and
 * not with one they do not, and it covers every module webpack puts into the real bundle (a module the key
 * missed would let a stale bundle run edited workflow code).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  importedFiles,
  workflowBundle,
  workflowSourceHash,
  WORKFLOWS_PATH,
} from '../../src/runtime/bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-bundle-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const put = (path: string, text: string): void => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
};

describe('workflow bundle cache key', () => {
  it('changes with the files the entry reaches and only with them', () => {
    put('package-lock.json', '{"v":1}');
    put('src/workflows/index.ts', "export * from './run.js';\nimport type { T } from '../lib/types.js';\n");
    put(
      'src/workflows/run.ts',
      "import {\n  helper,\n} from '../lib/helper.js';\nexport const run = helper;\n",
    );
    put('src/lib/helper.ts', "export const helper = (): number => 1;\nvoid import('./lazy.js');\n");
    put('src/lib/lazy.ts', 'export const lazy = 1;\n');
    put('src/lib/types.ts', 'export type T = number;\n');
    put('src/activities/unrelated.ts', 'export const unrelated = 1;\n');
    const entry = join(dir, 'src/workflows/index.ts');
    const key = (): string => workflowSourceHash(entry, dir, '1.0.0');

    expect(importedFiles(entry).map((f) => relative(dir, f))).toEqual([
      'src/lib/helper.ts',
      'src/lib/lazy.ts',
      'src/lib/types.ts',
      'src/workflows/index.ts',
      'src/workflows/run.ts',
    ]);
    const before = key();
    put('src/activities/unrelated.ts', 'export const unrelated = 2;\n');
    expect(key()).toBe(before);
    put('src/lib/lazy.ts', 'export const lazy = 2;\n');
    const afterLazy = key();
    expect(afterLazy).not.toBe(before);
    put('package-lock.json', '{"v":2}');
    expect(key()).not.toBe(afterLazy);
    expect(workflowSourceHash(entry, dir, '1.0.1')).not.toBe(key());
  });

  it('covers every source module of the real bundle', async () => {
    const bundle = await workflowBundle();
    const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
    const bundled = new Set([...code.matchAll(/"\.\/(src\/[^"]+\.ts)"/g)].map((m) => m[1]));
    expect(bundled.size).toBeGreaterThan(10);
    const root = dirname(dirname(dirname(WORKFLOWS_PATH)));
    const keyed = new Set(importedFiles(WORKFLOWS_PATH).map((f) => relative(root, f)));
    expect([...bundled].filter((m) => m !== undefined && !keyed.has(m))).toEqual([]);
  });
});
