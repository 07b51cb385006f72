/**
 * Experiment statistics on per-variant sufficient statistics, matching GrowthBook's gbstats (PyPI 0.8.0,
 * and its main branch at the commit pinned in test/experiments/fixtures/gbstats-reference.json).
 */
export * from './schemas.js';
export { statMean, statUnadjustedMean, statVariance, statStddev, hasZeroVariance } from './moments.js';
export { computeTheta, prepareStatistics } from './cuped.js';
export {
  differenceTypeSchema,
  liftEstimate,
  liftVariance,
  welchDof,
  type DifferenceType,
  type EffectResult,
  type Uplift,
} from './effect.js';
export {
  alternativeSchema,
  frequentistConfigSchema,
  welchTTest,
  type Alternative,
  type FrequentistConfig,
  type FrequentistConfigInput,
  type FrequentistResult,
} from './frequentist.js';
export {
  sequentialConfigSchema,
  sequentialRho,
  sequentialTest,
  type SequentialConfig,
  type SequentialConfigInput,
} from './sequential.js';
export {
  bayesianConfigSchema,
  bayesianTest,
  gaussianPriorSchema,
  posteriorRisk,
  type BayesianConfigInput,
  type BayesianResult,
} from './bayesian.js';
export {
  DEFAULT_SRM_THRESHOLD,
  sampleRatioMismatch,
  srmInputSchema,
  type SrmInput,
  type SrmResult,
} from './srm.js';
export {
  adjustPValues,
  adjustedConfidenceInterval,
  benjaminiHochberg,
  correctionMethodSchema,
  holmBonferroni,
  type CorrectionMethod,
} from './corrections.js';
