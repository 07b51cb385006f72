import type { Engine } from '../engines/index.js';
import type { GroundTruth } from '../simulator/index.js';

export interface Reconciliation {
  readonly checked: number;
  readonly mismatches: readonly string[];
}

const num = (v: unknown): number => Number(v ?? 0);

/**
 * Compares the marts with the simulator's ground truth: revenue and bookings per day (exact), sessions per day
 * (exact) and ad spend per platform and account-local day in USD (to a millionth, the truth's rounding).
 */
export async function reconcile(
  engine: Engine,
  truth: GroundTruth,
  days: readonly string[],
): Promise<Reconciliation> {
  const mismatches: string[] = [];
  let checked = 0;
  const expectEqual = (what: string, got: number, want: number, tolerance = 0) => {
    checked++;
    if (Math.abs(got - want) > tolerance) mismatches.push(`${what}: warehouse ${got}, truth ${want}`);
  };
  const revenue = new Map(
    (
      await engine.query(
        `select cast(day as varchar) as day, bookings_confirmed, bookings_refunded, net_revenue_cents from reporting.mart_daily_revenue`,
      )
    ).map((r) => [String(r.day), r]),
  );
  const sessions = new Map(
    (
      await engine.query(
        `select _partition_key as day, count(*) as n from clickstream.fct_sessions group by 1`,
      )
    ).map((r) => [String(r.day), num(r.n)]),
  );
  const spend = new Map(
    (
      await engine.query(
        `select cast(date as varchar) as day, platform, sum(spend_usd) as usd from marketing.fct_ad_spend group by 1, 2`,
      )
    ).map((r) => [`${String(r.day)}|${String(r.platform)}`, num(r.usd)]),
  );
  for (const d of truth.daily.filter((x) => days.includes(x.date))) {
    const r = revenue.get(d.date);
    expectEqual(`${d.date} bookings confirmed`, num(r?.bookings_confirmed), d.bookings_confirmed);
    expectEqual(`${d.date} bookings refunded`, num(r?.bookings_refunded), d.bookings_refunded);
    expectEqual(`${d.date} net revenue cents`, num(r?.net_revenue_cents), d.net_revenue_cents);
    expectEqual(`${d.date} sessions`, sessions.get(d.date) ?? 0, d.sessions);
  }
  for (const a of truth.ads_daily.filter((x) => days.includes(x.date))) {
    expectEqual(
      `${a.date} ${a.platform} spend USD`,
      spend.get(`${a.date}|${a.platform}`) ?? 0,
      a.spend_usd,
      1e-4,
    );
  }
  return { checked, mismatches };
}

/**
 * A content fingerprint of every table and view analysts can read (row count and an order-independent hash per
 * table), leaving out engine bookkeeping, run-named physical versions and published stores (their slices are named
 * after runs; the views over them are printed). Equal warehouses give equal prints.
 */
export async function warehouseFingerprint(engine: Engine): Promise<Record<string, string>> {
  const tables = await engine.query(
    `select table_schema || '.' || table_name as name from information_schema.tables
     where table_schema not in ('tessera_meta', 'information_schema', 'pg_catalog') and table_name not like '\\_\\_v\\_%' escape '\\'
       and table_name not like '\\_\\_p\\_%' escape '\\'
     order by 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [schema, table] = String(name).split('.') as [string, string];
    // The quarantine records when each line was set aside (wall clock): its row count is what must repeat.
    const rows = name === 'raw.quarantine' ? '1' : 't::VARCHAR';
    const [r] = await engine.query(
      `select count(*)::BIGINT as n, coalesce(sum(hash(${rows})), 0)::VARCHAR as h from "${schema}"."${table}" as t`,
    );
    out[String(name)] = `${num(r?.n)}:${String(r?.h ?? '')}`;
  }
  return out;
}
