/**
 * Our statistics against GrowthBook's current gbstats (main branch at the commit recorded in the
 * fixture), on what gbstats 0.8.0 (gbstats.test.ts) cannot check: CUPED with relative lift (newer variance
 * formula, covariance of binary components by n), relative lift over a negative baseline, and one-sided
 * tests (treatment greater / lesser; fixed-horizon and sequential). PyPI publishes releases only and CI
 * cannot reach GitHub, so gbstats_reference.py ran once against that commit and its numbers are the
 * fixture; every field must agree to RTOL = 1e-6 by the rule of compare.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  computeTheta,
  sequentialTest,
  welchTTest,
  type FrequentistResult,
  type TestStatistic,
} from '../../src/experiments/stats/index.js';
import { Agreement } from './compare.js';
import { decodeOracle, type OracleValue } from './oracle.js';

interface ReferenceCase {
  test: 'fixed' | 'sequential';
  alternative: 'two-sided' | 'greater' | 'less';
  kind: string;
  a: TestStatistic;
  b: TestStatistic;
  config: Record<string, unknown>;
  gbstats: Record<string, OracleValue>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = decodeOracle(
  JSON.parse(readFileSync(path.join(here, 'fixtures/gbstats-reference.json'), 'utf8')) as OracleValue,
) as unknown as { commit: string; cases: ReferenceCase[] };

const num = (v: OracleValue | undefined): number => (typeof v === 'number' ? v : Number.NaN);

function run(c: ReferenceCase): FrequentistResult {
  const config = { ...c.config, alternative: c.alternative };
  return c.test === 'sequential' ? sequentialTest(c.a, c.b, config) : welchTTest(c.a, c.b, config);
}

function agreement(cases: readonly ReferenceCase[]): Agreement {
  const ag = new Agreement();
  cases.forEach((c, i) => {
    const ours = run(c);
    const ref = c.gbstats;
    const se = num(ref.upliftStddev);
    const ci = Array.isArray(ref.ci) ? ref.ci.map(num) : [Number.NaN, Number.NaN];
    ag.check('expected', ours.expected, ref.expected, se, i);
    ag.check('ci.lower', ours.ci[0], ci[0], se, i);
    ag.check('ci.upper', ours.ci[1], ci[1], se, i);
    ag.check('uplift.mean', ours.uplift.mean, ref.upliftMean, se, i);
    ag.check('uplift.stddev', ours.uplift.stddev, ref.upliftStddev, 0, i);
    // gbstats' p-value is null when its search did not converge; ours is NaN with the same message.
    ag.check('pValue', ours.pValue, ref.pValue === null ? Number.NaN : ref.pValue, 1e-6, i);
    if (typeof ref.dof === 'number') ag.check('dof', ours.dof, ref.dof, 0, i);
    if (c.a.type === 'cuped' && c.b.type === 'cuped')
      ag.check('theta', computeTheta(c.a, c.b), typeof ref.theta === 'number' ? ref.theta : 0, 0, i);
    for (const [field, o, g] of [
      ['errorMessage', ours.errorMessage, ref.errorMessage ?? null],
      ['pValueErrorMessage', ours.pValueError, ref.pValueErrorMessage ?? null],
    ] as const)
      if (o !== g)
        ag.mismatches.push({ field: `${field} ${o} vs ${String(g)}`, ours: 0, gbstats: 0, caseIndex: i });
  });
  return ag;
}

function expectAgreement(label: string, cases: readonly ReferenceCase[]): void {
  const ag = agreement(cases);
  console.info(ag.summary(label));
  const shown = ag.mismatches.slice(0, 5).map((m) => ({ ...m, input: cases[m.caseIndex] }));
  expect(shown, `${ag.mismatches.length} disagreements with gbstats ${fixture.commit}`).toEqual([]);
  expect(ag.compared).toBeGreaterThanOrEqual(cases.length * 6);
}

const select = (f: (c: ReferenceCase) => boolean): ReferenceCase[] => fixture.cases.filter(f);

describe(`agreement with gbstats at growthbook@${fixture.commit.slice(0, 12)}`, () => {
  it('pins one commit and covers each test, alternative and statistic kind', () => {
    expect(fixture.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const test of ['fixed', 'sequential'])
      for (const alternative of ['two-sided', 'greater', 'less'])
        for (const kind of ['cuped-mean', 'cuped-proportion', 'mean', 'proportion', 'ratio'])
          expect(
            select((c) => c.test === test && c.alternative === alternative && c.kind === kind).length,
            `${test} ${alternative} ${kind}`,
          ).toBeGreaterThanOrEqual(20);
  });

  it('CUPED with relative lift (two-sided, fixed and sequential)', () => {
    const cases = select(
      (c) =>
        c.kind.startsWith('cuped') && c.alternative === 'two-sided' && c.config.differenceType === 'relative',
    );
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expectAgreement('cuped relative', cases);
  });

  it('two-sided tests of the other statistics and of absolute CUPED lift', () => {
    expectAgreement(
      'two-sided',
      select(
        (c) =>
          c.alternative === 'two-sided' &&
          !(c.kind.startsWith('cuped') && c.config.differenceType === 'relative'),
      ),
    );
  });

  it('one-sided fixed-horizon t-tests (treatment greater, treatment lesser)', () => {
    expectAgreement(
      'one-sided fixed',
      select((c) => c.test === 'fixed' && c.alternative !== 'two-sided'),
    );
  });

  it('one-sided sequential tests (bisected p-value)', () => {
    expectAgreement(
      'one-sided sequential',
      select((c) => c.test === 'sequential' && c.alternative !== 'two-sided'),
    );
  });

  it('one-sided intervals are open on the side the alternative does not test', () => {
    const greater = select((c) => c.alternative === 'greater' && c.gbstats.errorMessage === null).map(run);
    const less = select((c) => c.alternative === 'less' && c.gbstats.errorMessage === null).map(run);
    expect(greater.length).toBeGreaterThan(0);
    expect(greater.every((r) => r.ci[1] === Infinity && Number.isFinite(r.ci[0]))).toBe(true);
    expect(less.every((r) => r.ci[0] === -Infinity && Number.isFinite(r.ci[1]))).toBe(true);
  });
});
