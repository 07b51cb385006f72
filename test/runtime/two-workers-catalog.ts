/**
 * A definitions module for test/runtime/two-workers.test.ts (`--definitions`): three daily assets in a chain,
 * each partition a pure function of its key, in SQL that Trino runs. No sources: every step is SQL on the
 * shared engine, so any worker can run any step. Schemas start with TESSERA_TEST_PREFIX, so two runs on one
 * Iceberg catalog never share a table.
 */
import { asset, daily, defineDefinitions, rowCount } from '../../src/dsl/index.js';

const P = process.env.TESSERA_TEST_PREFIX ?? '';
const byDay = daily({ start: '2026-11-01' });

export const definitions = defineDefinitions({
  assets: [
    asset({
      key: `${P}src.orders`,
      kind: 'fact',
      partitions: byDay,
      // Eight orders a day; amounts vary with the day (its number) and the order.
      sql: `select n as order_id, (n * 37 + day_of_month(date {{ partition_key }}) * 11) % 100 as amount_cents
            from (values 1, 2, 3, 4, 5, 6, 7, 8) as t(n)`,
      checks: [rowCount({ min: 8 })],
    }),
    asset({
      key: `${P}core.orders`,
      kind: 'fact',
      partitions: byDay,
      deps: [`${P}src.orders`],
      sql: `select order_id, amount_cents, amount_cents >= 50 as large
            from ${P}src.orders where _partition_key = {{ partition_key }}`,
    }),
    asset({
      key: `${P}marts.daily_orders`,
      kind: 'mart',
      partitions: byDay,
      deps: [`${P}core.orders`],
      sql: `select count(*) as orders, sum(amount_cents) as revenue_cents, count_if(large) as large_orders
            from ${P}core.orders where _partition_key = {{ partition_key }}`,
    }),
  ],
});
