/**
 * Sequential testing with asymptotic confidence sequences (Waudby-Smith et al., "Time-uniform central
 * limit theory and asymptotic confidence sequences", arXiv:2103.06476v7): gbstats 0.8.0
 * `frequentist/tests.py::SequentialTwoSidedTTest`. Valid at any peeking time; wider than the fixed-horizon
 * interval.
 */
import { z } from 'zod';
import {
  frequentistConfigSchema,
  runFrequentist,
  type FrequentistResult,
  type IntervalFn,
} from './frequentist.js';
import { parseStatisticPair } from './schemas.js';

export const sequentialConfigSchema = frequentistConfigSchema
  .extend({
    /**
     * Tuning parameter: the total sample size at which the confidence sequence is tightest (gbstats'
     * `sequential_tuning_parameter`, default 5000).
     */
    sequentialTuningParameter: z.number().positive().default(5000),
  })
  .strict();
export type SequentialConfig = z.infer<typeof sequentialConfigSchema>;
export type SequentialConfigInput = z.input<typeof sequentialConfigSchema>;

/** ρ from eq. 161: ρ = √((−2 ln α + ln(−2 ln α + 1)) / tuning). */
export function sequentialRho(alpha: number, tuning: number): number {
  return Math.sqrt((-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / tuning);
}

function sequentialInterval(tuning: number): IntervalFn {
  return ({ estimate, variance, totalN, config }) => {
    const rho = sequentialRho(config.alpha, tuning);
    const nRho2p1 = totalN * Math.pow(rho, 2) + 1;
    // eq. 9: half-width = s·√(2(Nρ²+1) ln(√(Nρ²+1)/α) / (Nρ)²), with s² = variance·N
    const s2 = variance * totalN;
    const width =
      Math.sqrt(s2) *
      Math.sqrt((2 * nRho2p1 * Math.log(Math.sqrt(nRho2p1) / config.alpha)) / Math.pow(totalN * rho, 2));
    // eq. 155: e-value exp(ρ² S²/(2(Nρ²+1)))/√(Nρ²+1) with S² = (estimate − testValue)²·N/variance; p = min(1/e, 1)
    const st2 = (Math.pow(estimate - config.testValue, 2) * totalN) / variance;
    const evalue = Math.exp((Math.pow(rho, 2) * st2) / (2 * nRho2p1)) / Math.sqrt(nRho2p1);
    return { ci: [estimate - width, estimate + width], pValue: Math.min(1 / evalue, 1) };
  };
}

/** Two-sided sequential test of B against A with an always-valid confidence sequence. */
export function sequentialTest(
  statA: unknown,
  statB: unknown,
  config: SequentialConfigInput = {},
): FrequentistResult {
  const parsed = sequentialConfigSchema.parse(config);
  return runFrequentist(
    parseStatisticPair(statA, statB),
    parsed,
    sequentialInterval(parsed.sequentialTuningParameter),
  );
}
