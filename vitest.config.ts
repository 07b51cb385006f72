import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that run for minutes (a server engine's conformance suite, the end-to-end runs over servers) start
 * first. Without a timing cache (every CI run is a fresh clone) vitest orders files by size, and these are small
 * files: run last, they stretched the suite by their whole length after every other file had finished.
 */
const LONG_FIRST = [
  /conformance-spark\.test\.ts$/,
  /conformance-trino\.test\.ts$/,
  /e2e\/bigquery-production\.test\.ts$/,
  /conformance-bigquery\.test\.ts$/,
  /e2e\/cross-engine\.test\.ts$/,
  /runtime\/two-workers\.test\.ts$/,
  /sources\/engine-landing\.test\.ts$/,
];

class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = LONG_FIRST.findIndex((re) => re.test(f.moduleId));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keeps vitest's own order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores here: more forks only fight over them and over the shared Temporal server.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    sequence: { sequencer: LongFirstSequencer },
    reporters: ['default'],
  },
});
