import { DateTime } from 'luxon';
import type { FxRateRow } from './fx.js';

/**
 * Spend in USD: each ad row's spend_micros (account currency) × the rate of its currency on its day, or the
 * latest earlier rate within `maxStaleDays` (weekends and holidays have no fixing). USD needs no rate. A row
 * without a usable rate gets NULL — never a guess — so a not-null check on spend_usd catches a missing feed.
 */

export interface UsdSqlOptions {
  readonly adReports?: string;
  readonly fxRates?: string;
  /** Oldest usable rate, in days before the row's date (default 7). */
  readonly maxStaleDays?: number;
}

/**
 * A SELECT of every `raw.ad_reports` column plus `usd_rate` and `spend_usd` (DOUBLE, major USD units).
 * Standard SQL (correlated subquery, `INTERVAL 'n' DAY`): runs on DuckDB and PostgreSQL.
 */
export function adSpendUsdSql(options: UsdSqlOptions = {}): string {
  const ads = options.adReports ?? 'raw.ad_reports';
  const fx = options.fxRates ?? 'raw.fx_rates';
  const stale = Math.trunc(options.maxStaleDays ?? 7);
  return `SELECT r.*, CAST(r.spend_micros AS DOUBLE PRECISION) / 1000000 * r.usd_rate AS spend_usd
FROM (
  SELECT a.*,
    CASE WHEN a.currency = 'USD' THEN CAST(1 AS DOUBLE PRECISION) ELSE (
      SELECT f.usd_rate FROM ${fx} AS f
      WHERE f.currency = a.currency AND f."date" <= a."date" AND f."date" >= a."date" - INTERVAL '${stale}' DAY
      ORDER BY f."date" DESC LIMIT 1
    ) END AS usd_rate
  FROM ${ads} AS a
) AS r`;
}

/** Index of rates for in-memory normalization (the simulator, tests). */
export class FxTable {
  private readonly byCurrency = new Map<string, { date: string; rate: number }[]>();

  constructor(
    rates: readonly FxRateRow[],
    private readonly maxStaleDays = 7,
  ) {
    for (const r of rates) {
      const list = this.byCurrency.get(r.currency) ?? [];
      list.push({ date: r.date, rate: r.usd_rate });
      this.byCurrency.set(r.currency, list);
    }
    for (const list of this.byCurrency.values()) list.sort((a, b) => a.date.localeCompare(b.date));
  }

  /** USD per unit of `currency` on `date`, or undefined without a rate inside the staleness bound. */
  usdRate(currency: string, date: string): number | undefined {
    if (currency === 'USD') return 1;
    const list = this.byCurrency.get(currency);
    if (!list) return undefined;
    const oldest = DateTime.fromISO(date, { zone: 'utc' })
      .minus({ days: this.maxStaleDays })
      .toISODate() as string;
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i] as { date: string; rate: number };
      if (r.date <= date) return r.date >= oldest ? r.rate : undefined;
    }
    return undefined;
  }

  /** spend_micros (account currency) → USD micros, rounded; undefined without a rate. */
  toUsdMicros(spendMicros: string, currency: string, date: string): string | undefined {
    const rate = this.usdRate(currency, date);
    if (rate === undefined) return undefined;
    if (rate === 1) return spendMicros;
    return String(Math.round(Number(spendMicros) * rate));
  }
}
