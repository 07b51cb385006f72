/**
 * Sample-ratio-mismatch check: Pearson chi-square goodness of fit of the observed units per variant to
 * the configured traffic weights, as gbstats 0.8.0 `utils.py::check_srm`.
 */
import { z } from 'zod';
import { chiSquareSf } from './distributions.js';

/** GrowthBook flags a sample ratio mismatch below this p-value. */
export const DEFAULT_SRM_THRESHOLD = 0.001;

export const srmInputSchema = z
  .object({
    /** Units (users) observed per variant. */
    users: z.array(z.number().int().nonnegative()).min(2),
    /** Expected traffic weights per variant (any scale; normalised). */
    weights: z.array(z.number().nonnegative()).min(2),
    threshold: z.number().gt(0).lt(1).default(DEFAULT_SRM_THRESHOLD),
  })
  .strict()
  .refine((v) => v.users.length === v.weights.length, {
    message: 'users and weights must have the same length',
  })
  .refine((v) => v.weights.some((w) => w > 0), { message: 'at least one weight must be positive' });
export type SrmInput = z.input<typeof srmInputSchema>;

export interface SrmResult {
  /** Pearson chi-square statistic Σ (o − e)²/e over variants with positive weight. */
  readonly chiSquare: number;
  /** Degrees of freedom: number of variants − 1 (gbstats counts zero-weight variants too). */
  readonly dof: number;
  /**
   * P(χ²(dof) > chiSquare), the upper regularized incomplete gamma Q(dof/2, chiSquare/2) evaluated
   * directly. It is 0 only when the true value is below the smallest double (~4.9e-324); scipy's
   * chi2.sf, which gbstats uses, already returns 0 below ~1e-308.
   */
  readonly pValue: number;
  /** pValue < threshold. */
  readonly mismatch: boolean;
}

export function sampleRatioMismatch(input: SrmInput): SrmResult {
  const { users, weights, threshold } = srmInputSchema.parse(input);
  const dof = users.length - 1;
  const total = users.reduce((s, u) => s + u, 0);
  // gbstats: no units observed → p = 1.
  if (total === 0) return { chiSquare: 0, dof, pValue: 1, mismatch: false };
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  let chiSquare = 0;
  users.forEach((observed, i) => {
    const w = weights[i] ?? 0;
    // gbstats skips variants with a non-positive weight (their units are ignored, the dof is not reduced).
    if (w <= 0) return;
    const expected = (w / totalWeight) * total;
    chiSquare += Math.pow(observed - expected, 2) / expected;
  });
  const pValue = chiSquareSf(chiSquare, dof);
  return { chiSquare, dof, pValue, mismatch: pValue < threshold };
}
