import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../../src/engines/core/keyed-lock.js';
import { createDuckDbEngine, duckdbConfigSchema } from '../../src/engines/duckdb/duckdb-engine.js';
import { isoFromMicros } from '../../src/engines/duckdb/duckdb-values.js';

describe('isoFromMicros', () => {
  it('formats microseconds since the epoch as ISO-8601 UTC', () => {
    expect(isoFromMicros(0n)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoFromMicros(1_764_000_000_123_000n)).toBe('2025-11-24T16:00:00.123Z');
    expect(isoFromMicros(1_764_000_000_123_456n)).toBe('2025-11-24T16:00:00.123456Z');
    expect(isoFromMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });
});

describe('KeyedLock', () => {
  it('serializes work per key and lets other keys run', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const task = (key: string, name: string, ms: number) =>
      lock.run(key, async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
      });
    await Promise.all([task('t', 'a', 20), task('t', 'b', 1), task('u', 'c', 1)]);
    expect(log.indexOf('end a')).toBeLessThan(log.indexOf('start b'));
    expect(log.indexOf('start c')).toBeLessThan(log.indexOf('end a'));
  });

  it('releases the key when the work throws', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('t', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('t', async () => 1)).resolves.toBe(1);
  });
});

describe('DuckDB engine settings', () => {
  it('applies checkpointThreshold and refuses a value that is not a size', async () => {
    const engine = await createDuckDbEngine({
      type: 'duckdb',
      path: ':memory:',
      checkpointThreshold: '256MB',
    });
    try {
      const [row] = await engine.query<{ v: string }>(`SELECT current_setting('checkpoint_threshold') AS v`);
      expect(row?.v).toMatch(/^(256\.0 ?MB|244\.1 ?MiB)$/);
    } finally {
      await engine.close();
    }
    expect(
      duckdbConfigSchema.safeParse({ type: 'duckdb', path: 'x', checkpointThreshold: 'lots' }).success,
    ).toBe(false);
  });
});
