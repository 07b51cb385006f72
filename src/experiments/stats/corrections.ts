/**
 * Multiple-comparison corrections across goal metrics (and variants). gbstats 0.8.0 has none: GrowthBook
 * applies them in TypeScript (`adjustPValuesHolmBonferroni`, `adjustPValuesBenjaminiHochberg`,
 * `adjustedCI` in its shared experiments module); these are the standard step-down Holm and step-up
 * Benjamini–Hochberg adjusted p-values, equal to statsmodels' multipletests 'holm' and 'fdr_bh'.
 * Adjusted p-values are returned in the input order.
 */
import { z } from 'zod';
import { normalPpf } from './distributions.js';

const pValuesSchema = z.array(z.number().min(0).max(1));
export const correctionMethodSchema = z.enum(['holm-bonferroni', 'benjamini-hochberg']);
export type CorrectionMethod = z.infer<typeof correctionMethodSchema>;

/** Indices sorted by p-value ascending (stable, so ties keep input order). */
function order(p: readonly number[]): number[] {
  return p.map((_, i) => i).sort((i, j) => (p[i] ?? 0) - (p[j] ?? 0) || i - j);
}

/** Holm step-down: p̃(k) = max_{j ≤ k} min(1, (m − j + 1)·p(j)) over ascending p(1) ≤ … ≤ p(m). */
export function holmBonferroni(pValues: readonly number[]): number[] {
  const p = pValuesSchema.parse(pValues);
  const m = p.length;
  const out = new Array<number>(m);
  let running = 0;
  order(p).forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (p[idx] ?? 1)));
    out[idx] = running;
  });
  return out;
}

/** Benjamini–Hochberg step-up: p̃(k) = min_{j ≥ k} min(1, m·p(j)/j). */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const p = pValuesSchema.parse(pValues);
  const m = p.length;
  const out = new Array<number>(m);
  const sorted = order(p);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const idx = sorted[rank] ?? 0;
    running = Math.min(running, Math.min(1, (m * (p[idx] ?? 1)) / (rank + 1)));
    out[idx] = running;
  }
  return out;
}

export function adjustPValues(pValues: readonly number[], method: CorrectionMethod): number[] {
  return method === 'holm-bonferroni' ? holmBonferroni(pValues) : benjaminiHochberg(pValues);
}

/**
 * Confidence interval widened to match an adjusted p-value (GrowthBook `adjustedCI`/`setAdjustedCIs`):
 * the standard error implied by the adjusted p-value, |mean| / Φ⁻¹(1 − p̃/2), times z(1 − α/2).
 * Infinite when p̃ ≈ 1; never narrower than the unadjusted interval. One-sided tests (our extension:
 * GrowthBook's adjustedCI is two-sided only) use Φ⁻¹(1 − p̃) and z(1 − α) for the finite bound; the
 * open side stays infinite.
 */
export function adjustedConfidenceInterval(
  adjustedPValue: number,
  upliftMean: number,
  ci: readonly [number, number],
  alpha = 0.05,
  alternative: 'two-sided' | 'greater' | 'less' = 'two-sided',
): [number, number] {
  if (adjustedPValue > 0.999999) return [-Infinity, Infinity];
  const tail = alternative === 'two-sided' ? 2 : 1;
  let width = 0;
  if (upliftMean) {
    const adjStddev = Math.abs(upliftMean / normalPpf(1 - adjustedPValue / tail, 0, 1));
    width = normalPpf(1 - alpha / tail, 0, 1) * adjStddev;
  }
  const adj: [number, number] = [
    alternative === 'less' ? -Infinity : upliftMean - width,
    alternative === 'greater' ? Infinity : upliftMean + width,
  ];
  return adj[0] <= ci[0] && adj[1] >= ci[1] && (adj[0] < ci[0] || adj[1] > ci[1]) ? adj : [ci[0], ci[1]];
}
