import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGroundTruth, simulate, simulateOptionsSchema } from '../../src/simulator/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function run(seed: number): Promise<{ dir: string; hashes: Map<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-sim-'));
  dirs.push(dir);
  await simulate({ seed, start: '2026-11-23', days: 2, landingDir: dir, scale: 'small' });
  const hashes = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        hashes.set(
          relative(dir, p),
          createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        );
    }
  };
  await walk(dir);
  return { dir, hashes };
}

describe('simulate determinism', () => {
  it('writes byte-identical files for the same seed and different ones for another seed', async () => {
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a.hashes.size).toBeGreaterThan(50);
    expect([...b.hashes]).toEqual([...a.hashes]);
    expect([...c.hashes.keys()]).toEqual([...a.hashes.keys()]);
    const differing = [...a.hashes].filter(([k, h]) => c.hashes.get(k) !== h).map(([k]) => k);
    expect(differing).toContain('truth.json');
    expect(differing).toContain('debezium/user_db/user_db-20261123.jsonl');
    expect(differing.filter((f) => f.startsWith('snowplow/')).length).toBeGreaterThan(20);
    const truth = await readGroundTruth(a.dir);
    expect(truth.days).toBe(2);
    expect(truth.daily.map((d) => d.date)).toEqual(['2026-11-23', '2026-11-24']);
  });

  it('validates its options', () => {
    expect(() =>
      simulateOptionsSchema.parse({ seed: 1, start: '23/11/2026', days: 1, landingDir: '/x' }),
    ).toThrow();
    expect(() =>
      simulateOptionsSchema.parse({ seed: 1, start: '2026-11-23', days: 0, landingDir: '/x' }),
    ).toThrow();
    expect(
      simulateOptionsSchema.parse({ seed: 1, start: '2026-11-23', days: 1, landingDir: '/x' }).scale,
    ).toBe('demo');
  });
});
