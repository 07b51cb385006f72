import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { NativeConnection } from '@temporalio/worker';
import { assetEngineResolver, type TesseraConfig } from '../../config/index.js';
import { landingLoaders } from '../../sources/landing/landing-loaders.js';
import type { SourceLoader } from '../../sources/types.js';
import { startLiveDemo, type LiveDemo } from '../../simulator/live/live-demo.js';
import {
  createPinoLogger,
  temporalLogger,
  createWorker,
  installRuntime,
  startBackfill,
  resolveUiUrl,
  startPublish,
  workflowUrl,
} from '../../runtime/index.js';
import type { BackfillSummary, PublishResult, ScheduleTickResult } from '../../workflows/types.js';
import type { CliContext } from '../context.js';
import { printTable } from '../output.js';
import { BOOKMYEVENT_PII } from '../../assets/pii.js';
import {
  DEMO_CATALOG,
  isSharedEngineConfig,
  lakehouseDemoConfig,
  resetLakehouseDemo,
} from '../lakehouse-demo.js';
import { compareMarts, dumpMarts, type MartDump } from '../mart-compare.js';
import { openPlatform } from '../platform.js';
import { watchRun } from '../progress.js';
import { reconcile, warehouseFingerprint } from '../reconcile.js';
import { DEFAULT_UI_PORT } from './ui.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The demo's own state: a fresh warehouse, ledger and landing folder under <stateDir>/demo. */
export function demoConfig(base: TesseraConfig, dir: string): TesseraConfig {
  return {
    ...base,
    engines: { duckdb: { type: 'duckdb', path: join(dir, 'warehouse.duckdb') } },
    defaultEngine: 'duckdb',
    ledger: { type: 'sqlite', path: join(dir, 'ledger.sqlite') },
    temporal: { ...base.temporal, taskQueue: `${base.temporal.taskQueue}-demo` },
    // Landing files complete their period: no lateness to wait for.
    lateness: { ...base.lateness, defaultMinutes: 0 },
  };
}

/**
 * The README's main job: simulate BookMyEvent for N days into the landing folder, backfill all but the last day
 * through real Temporal workflows, run the daily schedule's tick for the last day (materialize, then publish the
 * groups behind the barrier), and print the marts.
 */
export function registerDemo(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description("BookMyEvent's pipeline end to end on the embedded default")
    .option('--start <date>', 'first simulated day', '2026-11-01')
    .option('--days <n>', 'days to simulate', (v) => Number(v), 14)
    .option('--seed <n>', 'simulator seed', (v) => Number(v), 42)
    .option('--scale <scale>', 'small | demo', 'demo')
    .option(
      '--compare-with <file>',
      "after the run, compare its marts value for value with another demo run's (<stateDir>/demo-marts/*.json)",
    )
    .option(
      '--live',
      'write to and ingest from the real sources of the config (PostgreSQL, Kafka, ads APIs; config/live.yaml)',
    )
    .action(
      async (o: {
        start: string;
        days: number;
        seed: number;
        scale: 'small' | 'demo';
        live?: boolean;
        compareWith?: string;
      }) => {
        const c = ctx();
        const started = performance.now();
        const dir = join(c.config.stateDir, 'demo');
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(join(dir, 'landing'), { recursive: true });
        // A config of shared engines (config/lakehouse.yaml) keeps its engines, on state of the demo's own.
        const shared = isSharedEngineConfig(c.config);
        const config = shared ? lakehouseDemoConfig(c.config) : demoConfig(c.config, dir);
        if (shared) await resetLakehouseDemo(config);
        const definitions = await c.definitions();
        const first = DateTime.fromISO(o.start, { zone: 'utc' });
        const last = first.plus({ days: o.days - 1 });
        const day = (d: DateTime) => d.toISODate() ?? '';

        const { simulate } = await import('../../simulator/index.js');
        const t0 = performance.now();
        const truth = await simulate({
          seed: o.seed,
          start: o.start,
          days: o.days,
          landingDir: join(dir, 'landing'),
          scale: o.scale,
        });
        say(
          `simulated ${o.days} days of BookMyEvent (seed ${o.seed}) in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
        );

        // Warnings and up only: retried activities log at warn, the demo's own lines say what happens.
        const logger = createPinoLogger({
          name: 'tessera-demo',
          level: process.env.TESSERA_LOG_LEVEL ?? 'error',
        });
        installRuntime({ logger: temporalLogger(logger) });
        const piiKey = process.env.TESSERA_PII_KEY ?? 'demo-only-pii-key';
        let live: LiveDemo | undefined;
        const platform = await openPlatform({
          config,
          definitions,
          logger,
          loadersFor: (engines): Record<string, SourceLoader> => {
            // Raw landing goes to the default engine (the lakehouse: Iceberg through Trino).
            const engine = engines[config.defaultEngine] ?? (undefined as never);
            if (o.live) {
              live = startLiveDemo({
                config,
                engine,
                landingDir: join(dir, 'landing'),
                piiKey,
                runId: `${o.seed}-${Date.now()}`,
                windowEnd: first.plus({ days: o.days }).toISO() ?? '',
              });
              return live.loaders;
            }
            return landingLoaders({
              engine,
              landingDir: join(dir, 'landing'),
              piiKey,
              pii: BOOKMYEVENT_PII,
            });
          },
        });
        try {
          if (live) for (const line of await live.write()) say(line);
        } catch (e) {
          await live?.close();
          await platform.close();
          throw e;
        }
        // A killed demo leaves its workflows running on the demo's task queue; they must not build into this
        // run's fresh warehouse, so the demo starts over.
        const client = await c.client();
        const leftovers = client.workflow.list({
          query: `TaskQueue="${config.temporal.taskQueue}" AND ExecutionStatus="Running"`,
        });
        for await (const w of leftovers) {
          await client.workflow
            .getHandle(w.workflowId, w.runId)
            .terminate('a new demo run starts over')
            .catch(() => undefined);
        }
        const connection = await NativeConnection.connect({ address: config.temporal.address });
        const worker = await createWorker({
          connection,
          taskQueue: config.temporal.taskQueue,
          activities: platform.activities,
          maxConcurrentActivityTaskExecutions: 8,
        });
        const running = worker.run();
        const target = {
          taskQueue: config.temporal.taskQueue,
          uiBaseUrl: resolveUiUrl(config.temporal.uiUrl, process.env),
        };
        let failed = false;
        try {
          say(`Temporal UI: ${target.uiBaseUrl}/namespaces/${config.temporal.namespace}/workflows`);
          const backfillId = `demo-${day(first)}-${o.seed}-${Date.now()}`;
          const backfill = await startBackfill(client, target, {
            backfillId,
            request: { selection: '*', range: { from: day(first), to: day(last.minus({ days: 1 })) } },
            only: 'missing',
            concurrency: 8,
          });
          say(
            `backfill ${day(first)}..${day(last.minus({ days: 1 }))}: ${workflowUrl(backfill.workflowId, { baseUrl: target.uiBaseUrl })}`,
          );
          const b = await watchRun<BackfillSummary>(backfill, { json: false, label: 'backfill' });
          say(`backfill ${b.status}: ${b.done} partitions built, ${b.failed} failed, ${b.skipped} skipped`);
          failed ||= b.status !== 'completed';

          // The daily schedule's tick for the last day, as Temporal would start it the next morning.
          const daily = definitions.schedules.find((s) => s.name === 'daily');
          const asOf = last.plus({ days: 1, hours: 2, minutes: 30 }).toISO() ?? '';
          const tick = await client.workflow.start('scheduleTickWorkflow', {
            taskQueue: target.taskQueue,
            workflowId: `tessera/tick/demo-${backfillId}`,
            args: [
              {
                schedule: 'daily',
                selection: '*',
                publishGroups: daily?.publishGroups ?? [],
                asOf,
                uiBaseUrl: target.uiBaseUrl,
                concurrency: 8,
                publish: { pollInitial: '1s', timeout: '2m' },
              },
            ],
          });
          const t = await watchRun<ScheduleTickResult>(tick, { json: false, label: `tick ${day(last)}` });
          say(
            `tick ${day(last)}: ${t.materialize.status}, ${t.materialize.succeeded} built, ${t.materialize.failed} failed`,
          );
          failed ||= t.materialize.status !== 'success';
          for (const id of t.publishWorkflowIds) {
            const r = (await client.workflow.getHandle(id).result()) as PublishResult;
            say(
              `publish ${id.split('/').slice(-2).join(' @ ')}: ${r.status}${r.status === 'published' ? ` (version ${r.version})` : ` — waiting on ${r.waitingOn.slice(0, 3).join('; ')}`}`,
            );
            failed ||= r.status !== 'published';
          }
          // Backfilled days are published too, oldest first, so every group serves history: a publication
          // carries only the partitions its barrier passed, so each day goes through its own barrier.
          for (let d = first; d < last; d = d.plus({ days: 1 })) {
            for (const group of definitions.publishGroups.map((g) => g.name)) {
              const pub = await startPublish(client, target, {
                group,
                partitionKey: day(d),
                pollInitial: '1s',
                timeout: '1m',
              });
              const r = (await pub.result()) as PublishResult;
              failed ||= r.status !== 'published';
            }
          }

          // The marts' engine reads every table: on the lakehouse, all engines share one Iceberg catalog.
          const engineOf = assetEngineResolver(config, definitions);
          const engine = platform.engines[engineOf(definitions.asset('reporting.mart_daily_revenue'))];
          if (engine) {
            say('\nreporting.mart_daily_revenue (published, last 5 days):');
            printTable(
              await engine.query(
                `select day, bookings_confirmed, bookings_refunded, net_revenue_cents from reporting.mart_daily_revenue order by day desc limit 5`,
              ),
            );
            say('\nmarketing.mart_marketing_roas by platform (all days):');
            printTable(
              await engine.query(
                `select platform, round(sum(spend_usd), 2) as spend_usd, sum(bookings) as bookings, round(sum(revenue), 2) as revenue from marketing.mart_marketing_roas group by platform order by platform`,
              ),
            );
            const days = Array.from({ length: o.days }, (_, i) => day(first.plus({ days: i })));
            const r = await reconcile(engine, truth, days);
            say(
              `\nreconciled with the simulator's ground truth: ${r.checked - r.mismatches.length}/${r.checked} figures match`,
            );
            for (const m of r.mismatches.slice(0, 20)) say(`  MISMATCH ${m}`);
            failed ||= r.mismatches.length > 0;
            if (engine.name === 'duckdb') {
              const print = await warehouseFingerprint(engine);
              const digest = createHash('sha256').update(JSON.stringify(print)).digest('hex').slice(0, 16);
              say(
                `warehouse fingerprint: ${digest} (${Object.keys(print).length} tables and views; equal runs print equal)`,
              );
            }
            // The marts in engine-neutral form, for comparing runs on different engines (--compare-with).
            const marts = await dumpMarts(
              engine,
              definitions.assets.filter((a) => a.kind === 'mart').map((a) => a.key),
            );
            const dumps = join(c.config.stateDir, 'demo-marts');
            mkdirSync(dumps, { recursive: true });
            const dumpFile = join(dumps, `${config.environment}-seed${o.seed}-${o.days}d-${o.scale}.json`);
            writeFileSync(dumpFile, `${JSON.stringify(marts, null, 1)}\n`);
            say(`marts written to ${dumpFile}`);
            if (o.compareWith) {
              const other = JSON.parse(readFileSync(o.compareWith, 'utf8')) as MartDump;
              say(`\nmarts compared value for value with ${o.compareWith}:`);
              for (const d of compareMarts(other, marts)) {
                say(`  ${d.equal ? 'equal    ' : 'DIFFERENT'} ${d.mart} (${d.rows[0]} vs ${d.rows[1]} rows)`);
                for (const line of d.sample) say(`      ${line}`);
                failed ||= !d.equal;
              }
            }
          }
          say(
            shared
              ? `\nQuery the warehouse: Trino (or Spark) catalog ${DEMO_CATALOG}, e.g. select * from ${DEMO_CATALOG}.reporting.mart_daily_revenue`
              : `\nQuery the warehouse: node bin/tessera.js query "select * from reporting.mart_daily_revenue" (DuckDB file ${join(dir, 'warehouse.duckdb')})`,
          );
          say(
            `Tessera UI: http://127.0.0.1:${DEFAULT_UI_PORT} (the asset catalog in the browser: start it with \`node bin/tessera.js ui --demo\`)`,
          );
        } finally {
          worker.shutdown();
          await running;
          await connection.close();
          await live?.close();
          await platform.close();
        }
        say(`demo wall time: ${((performance.now() - started) / 1000).toFixed(0)}s`);
        if (failed) process.exitCode = 1;
      },
    );
}
