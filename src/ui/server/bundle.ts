/**
 * The browser bundle, built in memory by esbuild when the server starts (no build step to forget, nothing
 * fetched at run time: preact, htm and Observable Plot come from node_modules). A build error stops start-up.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');

export interface Bundle {
  /** File name (`app.js`, `chunk-<hash>.js`) → JavaScript. */
  readonly files: ReadonlyMap<string, string>;
  readonly css: string;
  readonly ms: number;
}

export async function buildBundle(): Promise<Bundle> {
  const t0 = performance.now();
  const r = await build({
    entryPoints: [join(WEB, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    // The charts (Observable Plot and d3) load only with the experiments page: the graph comes first.
    splitting: true,
    outdir: '/',
    entryNames: 'app',
    chunkNames: 'chunk-[hash]',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map(r.outputFiles.map((f) => [basename(f.path), f.text]));
  if (!files.has('app.js')) throw new Error('the UI bundle has no app.js');
  return { files, css: readFileSync(join(WEB, 'style.css'), 'utf8'), ms: performance.now() - t0 };
}
