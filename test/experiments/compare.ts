/**
 * Agreement bookkeeping for the oracle tests. A number agrees when
 *   |ours − gbstats| ≤ RTOL · max(|gbstats|, scale)
 * with RTOL = 1e-6 and a per-field `scale`: the lift's standard error for estimates, interval bounds and
 * risks (so bounds near 0 are judged on the scale of their width), 1e-6 for p-values and probabilities
 * (an absolute floor of 1e-12, below the 1e-16 cancellation error of gbstats' `1 − cdf`), 1e-294 for SRM
 * p-values (scipy's chi2.sf flushes values below ~1e-308 to 0; ours keeps them). NaN must meet NaN and
 * infinities must be equal.
 */
export const RTOL = 1e-6;

export interface Mismatch {
  readonly field: string;
  readonly ours: number;
  readonly gbstats: number;
  readonly caseIndex: number;
}

export class Agreement {
  readonly mismatches: Mismatch[] = [];
  /** Worst |ours − gbstats| / max(|gbstats|, scale) seen per field. */
  readonly worst = new Map<string, number>();
  compared = 0;

  check(field: string, ours: number, gbstats: unknown, scale: number, caseIndex: number): void {
    if (typeof gbstats !== 'number') {
      this.mismatches.push({ field, ours, gbstats: Number.NaN, caseIndex });
      return;
    }
    this.compared++;
    let rel: number;
    if (Number.isNaN(gbstats) || !Number.isFinite(gbstats))
      rel = Object.is(ours, gbstats) || ours === gbstats ? 0 : Infinity;
    else {
      const denom = Math.max(Math.abs(gbstats), scale);
      rel = denom === 0 ? (ours === gbstats ? 0 : Infinity) : Math.abs(ours - gbstats) / denom;
    }
    if (!(rel <= RTOL)) this.mismatches.push({ field, ours, gbstats, caseIndex });
    if (Number.isFinite(rel)) this.worst.set(field, Math.max(this.worst.get(field) ?? 0, rel));
  }

  summary(label: string): string {
    const fields = [...this.worst.entries()].map(([f, w]) => `${f}=${w.toExponential(1)}`).join(' ');
    return `${label}: ${this.compared} numbers compared, worst relative error ${fields}`;
  }
}
