#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so the package works without a build step.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
// A larger young generation: ingestion keeps a batch of decoded rows alive across awaits, which the
// default 16 MB semi-space promotes to the old generation (bench/cdc.ts: about 15% less CPU per change).
const nodeOptions = process.env.NODE_OPTIONS ?? '';
const env = /--max-semi-space-size/.test(nodeOptions)
  ? process.env
  : { ...process.env, NODE_OPTIONS: `${nodeOptions} --max-semi-space-size=64`.trim() };
const r = spawnSync(tsx, [join(root, 'src', 'cli', 'main.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
