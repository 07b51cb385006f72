/**
 * FX rates source: landing CSV/JSON → `raw.fx_rates (date, currency, usd_rate)`, and the USD normalization of
 * `raw.ad_reports` spend (SQL for the catalog, FxTable in memory). May import: ../types.js, luxon, zod, node.
 */
export {
  FX_RATES_TABLE,
  FX_RATE_COLUMNS,
  FX_DEDUPE_KEY,
  FX_SOURCE,
  parseFxCsv,
  parseFxJson,
  ingestFxFile,
  type FxRateRow,
  type FxParseResult,
} from './fx.js';
export { adSpendUsdSql, FxTable, type UsdSqlOptions } from './normalize.js';
