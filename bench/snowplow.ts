/**
 * Snowplow ingestion throughput: enriched TSV lines parsed, and parsed + landed in DuckDB through the raw sink
 * (dedupe on event_id, quarantine). Goal: ≥ 100,000 events/s from Kafka into the file-backed warehouse, measured
 * on the path the worker runs (the default `kafka` mode: createSnowplowKafkaLoader's `land`, wall clock).
 *
 *   [BENCH_DUCKDB_THREADS=n] [BENCH_SNOWPLOW_MODE=kafka|files|all] npx tsx bench/snowplow.ts [events=300000] [batch=20000] [repeats=3]
 *
 * `files` mode (also part of `all`): the lines written to one landing file, then file → table through the JS
 * path (`ingestSnowplowFile`, as the landing loader) and the DuckDB-native path (`ingestSnowplowFileNative`):
 * into an empty table, and into one already holding another file's events (the steady state: dedupe then
 * checks every event against those already landed). `BENCH_SNOWPLOW_PATHS=native` skips the JS path.
 * `BENCH_SNOWPLOW_HISTORY=n` (kafka mode): the warehouse already holds n earlier events (the steady state).
 *
 * Each configuration runs `repeats` times on a fresh in-memory DuckDB; best and median are printed. The dev
 * machine is shared, so wall-clock rates move with its load (printed with each figure); the CPU figures say where
 * the time goes: `js` is the main thread's CPU time (parse, serialize; Linux /proc), `cpu` the whole process
 * (DuckDB's threads included), split by thread group below it (see threadCpuSeconds). The figure is the
 * wall-clock rate; no rate is derived from CPU time.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { createDuckDbEngine } from '../src/engines/index.js';
import type { Engine } from '../src/engines/types.js';
import { EngineRawSink } from '../src/sources/sinks/engine-sink.js';
import { BulkDuckDbSink } from '../src/sources/snowplow/duckdb-bulk-sink.js';
import { ensureTables, ingestSnowplowFileNative } from '../src/sources/snowplow/duckdb-native.js';
import { createSnowplowKafkaLoader } from '../src/sources/snowplow/kafka-loader.js';
import { createTopic, deleteTopic, ensureKafka, uniqueTopic } from '../test/helpers/kafka.js';
import {
  contextsJson,
  encodeEnrichedEvent,
  experimentExposureContext,
  linkClickEvent,
  listingContext,
  ingestSnowplowFile,
  parseEnrichedLine,
  SnowplowLoader,
  unstructEventJson,
  type SnowplowRecord,
} from '../src/sources/snowplow/index.js';

const total = Number(process.argv[2] ?? 300_000);
const batchSize = Number(process.argv[3] ?? 20_000);
const repeats = Number(process.argv[4] ?? 3);
/** DuckDB worker threads (default: DuckDB's own, all cores). */
const mode = process.env['BENCH_SNOWPLOW_MODE'] ?? 'kafka';
const paths = (process.env['BENCH_SNOWPLOW_PATHS'] ?? 'js,native').split(',');
/** `kafka` mode: events already in the warehouse before the timed pass (the steady state; default none). */
const history = Number(process.env['BENCH_SNOWPLOW_HISTORY'] ?? 0);
const threads = process.env['BENCH_DUCKDB_THREADS']
  ? { threads: Number(process.env['BENCH_DUCKDB_THREADS']) }
  : {};

/** A realistic mix: 55% page views (with exposure + listing contexts), 25% pings, 10% struct, 10% link clicks; 0.5% bad. */
function makeLines(n: number): string[] {
  const lines: string[] = [];
  const t0 = Date.UTC(2026, 10, 24, 0, 0, 0);
  for (let i = 0; i < n; i++) {
    const ts = new Date(t0 + i * 97).toISOString();
    const kind = i % 20;
    const common = {
      app_id: 'bme-web',
      platform: 'web',
      event_id: `${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}-bench-${i}`,
      collector_tstamp: ts,
      dvce_created_tstamp: ts,
      derived_tstamp: ts,
      domain_userid: `du-${i % 5000}`,
      domain_sessionid: `ds-${i % 20000}`,
      domain_sessionidx: (i % 7) + 1,
      user_ipaddress: '10.0.0.1',
      page_url: `https://bookmyevent.com/events/${i % 900}?utm_source=google&utm_medium=cpc`,
      page_urlpath: `/events/${i % 900}`,
      page_referrer: 'https://www.google.com/',
      mkt_source: 'google',
      mkt_medium: 'cpc',
      mkt_campaign: 'winter_sale',
      useragent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
      geo_country: 'US',
      br_lang: 'en-US',
      os_timezone: 'America/New_York',
    };
    if (i % 200 === 199) lines.push('malformed\tline');
    else if (kind < 11)
      lines.push(
        encodeEnrichedEvent({
          ...common,
          event: 'page_view',
          contexts: contextsJson([
            experimentExposureContext('checkout_v2', i % 2 ? 'B' : 'A'),
            listingContext(`L-${i % 900}`),
          ]),
        }),
      );
    else if (kind < 16)
      lines.push(encodeEnrichedEvent({ ...common, event: 'page_ping', pp_yoffset_max: 800 }));
    else if (kind < 18)
      lines.push(
        encodeEnrichedEvent({
          ...common,
          event: 'struct',
          se_category: 'checkout',
          se_action: 'add_ticket',
          se_value: 2,
        }),
      );
    else
      lines.push(
        encodeEnrichedEvent({
          ...common,
          event: 'unstruct',
          unstruct_event: unstructEventJson(linkClickEvent('https://partner.example/x')),
        }),
      );
  }
  return lines;
}

async function main(): Promise<void> {
  await readFile('/proc/self/stat'); // starts libuv's pool first (when the loader has not)
  nodeThreads = new Set(readdirSync('/proc/self/task'));
  const lines = makeLines(total);
  const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
  console.log(
    `${total.toLocaleString()} events, ${(bytes / 1e6).toFixed(0)} MB of TSV, batches of ${batchSize.toLocaleString()}`,
  );

  if (mode === 'all' || mode === 'files') await files(lines);
  if (mode === 'files') return;
  if (mode === 'kafka') return kafkaRuns(lines);

  // Warm-up so the JIT has compiled the parser before timing.
  for (let i = 0; i < Math.min(50_000, total); i++) parseEnrichedLine(lines[i] as string);
  const t = performance.now();
  let ok = 0;
  for (const l of lines) if (parseEnrichedLine(l).ok) ok++;
  const parseS = (performance.now() - t) / 1000;
  console.log(
    `parse only:        ${Math.round(total / parseS).toLocaleString()} events/s (${ok.toLocaleString()} valid)`,
  );

  const configs: readonly { label: string; inFlight: number }[] = [
    { label: '1 batch in flight', inFlight: 1 },
    { label: '2 batches in flight', inFlight: 2 },
  ];
  for (const c of configs) {
    const runs: Run[] = [];
    for (let i = 0; i < repeats; i++) runs.push(await load(lines, c.inFlight));
    report(`parse + load, ${c.label}`, runs);
  }
}

/** File → raw.snowplow_events: the JS path and the DuckDB-native path, on a fresh in-memory DuckDB per run. */
async function files(lines: readonly string[]): Promise<void> {
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tessera-bench-snowplow-'));
  const file = join(dir, 'events.tsv');
  await writeFile(file, lines.join('\n') + '\n');
  // Another file's events (other ids, same shape), landed untimed before the timed file in the steady state.
  const prior = join(dir, 'prior.tsv');
  await writeFile(prior, lines.map((l) => l.replace('-bench-', '-prior-')).join('\n') + '\n');
  try {
    for (const path of (['js', 'native'] as const).filter((p) => paths.includes(p))) {
      for (const before of [undefined, prior]) {
        const runs: Run[] = [];
        for (let i = 0; i < repeats; i++) runs.push(await fromFile(file, path, before));
        const into = before ? `, into a table holding ${total.toLocaleString()} other events` : '';
        report(`file → table, ${path} path${into}`, runs);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fromFile(file: string, path: 'js' | 'native', before?: string): Promise<Run> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', ...threads });
  const sink = new BulkDuckDbSink(
    engine,
    new EngineRawSink(engine),
    existsSync('/dev/shm') ? { tmpDir: '/dev/shm' } : {},
  );
  const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 60 });
  await loader.load([]);
  if (before) await land(before, path, engine, loader);
  return measured(engine, () => land(file, path, engine, loader));
}

/** Times `work` (wall, main-thread CPU, process CPU), then counts the table's rows and closes the engine. */
async function measured(
  engine: Engine,
  work: () => Promise<{ inserted: number; quarantined: number }>,
): Promise<Run> {
  const t = performance.now();
  const js = mainThreadCpuSeconds();
  const byThread = threadCpuSeconds();
  const cpu = process.cpuUsage();
  const { inserted, quarantined } = await work();
  const seconds = (performance.now() - t) / 1000;
  const jsSeconds = mainThreadCpuSeconds() - js;
  const used = process.cpuUsage(cpu);
  const threadSeconds = new Map<string, number>();
  for (const [tid, t] of threadCpuSeconds()) {
    const was = byThread.get(tid)?.seconds ?? 0;
    threadSeconds.set(t.group, (threadSeconds.get(t.group) ?? 0) + t.seconds - was);
  }
  const [row] = await engine.query<{ n: number }>('SELECT count(*)::INT AS n FROM raw.snowplow_events');
  await engine.close();
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { seconds, jsSeconds, cpuSeconds, threadSeconds, inserted, quarantined, rows: row?.n ?? 0 };
}

async function land(
  file: string,
  path: 'js' | 'native',
  engine: Engine,
  loader: SnowplowLoader,
): Promise<{ inserted: number; quarantined: number }> {
  let r;
  if (path === 'js') r = await ingestSnowplowFile(file, { loader, batchSize });
  else {
    r = await ingestSnowplowFileNative(file, { engine, loader });
    if (r.path !== 'native') throw new Error(`native path fell back: ${String(r.fallbackReason)}`);
  }
  return r;
}

function report(label: string, runs: readonly Run[]): void {
  const rates = runs.map((r) => total / r.seconds).sort((a, b) => a - b);
  const med = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? NaN;
  const r = runs[0] as Run;
  const per100k = (x: number) => ((x * 100_000) / total).toFixed(2);
  console.log(
    `${label}: best ${fmt(rates.at(-1))}, median ${fmt(med(rates))} events/s; ` +
      `per 100k events js ${per100k(med(runs.map((x) => x.jsSeconds)))} s, cpu ${per100k(med(runs.map((x) => x.cpuSeconds)))} s; ` +
      `1-min load ${loadavg()[0]?.toFixed(1)} ` +
      `(${r.inserted.toLocaleString()} rows, ${r.quarantined.toLocaleString()} quarantined, table holds ${r.rows.toLocaleString()})`,
  );
  // Where the process CPU went, per thread group (median over runs; threads that ended during a run are missed).
  const groups = [...new Set(runs.flatMap((x) => [...x.threadSeconds.keys()]))].sort();
  const parts = groups
    .map((g) => [g, med(runs.map((x) => x.threadSeconds.get(g) ?? 0).sort((a, b) => a - b))] as const)
    .filter(([, v]) => v >= 0.005)
    .map(([g, v]) => `${g} ${per100k(v)} s`);
  console.log(`  per 100k events by thread: ${parts.join(', ')}`);
}

/** CPU time of the main (JS) thread alone, from /proc (Linux); DuckDB works on its own threads. */
function mainThreadCpuSeconds(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100/s)
}

/** Threads alive when the bench started: Node's own (see threadCpuSeconds). */
let nodeThreads: ReadonlySet<string> | undefined;

/**
 * CPU seconds per live thread of this process (Linux /proc), by group: `main` (the JS thread), `node` (the
 * threads alive when the bench started: V8's GC and compiler helpers and libuv's pool, where @duckdb/node-api
 * runs each query's calling thread, so DuckDB work is counted here too) and `duckdb` (threads started since:
 * DuckDB's workers). All are named `node`; when they started tells them apart.
 */
function threadCpuSeconds(): Map<string, { group: string; seconds: number }> {
  const out = new Map<string, { group: string; seconds: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const group = tid === String(process.pid) ? 'main' : nodeThreads?.has(tid) ? 'node' : 'duckdb';
    out.set(tid, { group, seconds: (Number(f[11]) + Number(f[12])) / 100 });
  }
  return out;
}

const fmt = (n: number | undefined): string => Math.round(n ?? NaN).toLocaleString();

interface Run {
  readonly seconds: number;
  readonly jsSeconds: number;
  readonly cpuSeconds: number;
  /** CPU seconds per thread group (threadCpuSeconds). */
  readonly threadSeconds: ReadonlyMap<string, number>;
  readonly inserted: number;
  readonly quarantined: number;
  readonly rows: number;
}

/** Lines → SnowplowLoader → BulkDuckDbSink (over the engine raw sink) → a fresh in-memory DuckDB. */
async function load(lines: readonly string[], inFlight: number): Promise<Run> {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:', ...threads });
  const sink = new BulkDuckDbSink(
    engine,
    new EngineRawSink(engine),
    existsSync('/dev/shm') ? { tmpDir: '/dev/shm' } : {},
  );
  const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 60 });
  await loader.load([]);
  return measured(engine, async () => {
    let inserted = 0;
    let quarantined = 0;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < lines.length; i += batchSize) {
      const batch: SnowplowRecord[] = [];
      const end = Math.min(i + batchSize, lines.length);
      for (let j = i; j < end; j++)
        batch.push({ line: lines[j] as string, origin: `bench:${j}`, stream: 'bench' });
      pending.push(
        loader.load(batch).then((res) => {
          inserted += res.inserted;
          quarantined += res.quarantined;
        }),
      );
      if (pending.length >= inFlight) await pending.shift();
    }
    await Promise.all(pending);
    return { inserted, quarantined };
  });
}

/**
 * `kafka` mode: the lines produced to a 2-partition topic of a real broker (TESSERA_TEST_KAFKA_BROKERS, or the
 * one scripts/services/kafka.sh starts), then topic → table through createSnowplowKafkaLoader (one pass, a new
 * consumer group each run) into a file-backed DuckDB configured as live mode's, with DuckDB landing the
 * batches (the default) and with the JS path (a sink given).
 * The time includes joining the group and fetching.
 */
/**
 * `n` earlier events, one per second ending an hour before the bench's first event (so a 24-hour dedupe
 * window sees about a day of them), with their ids and times (a 1-byte raw line: the dedupe reads neither);
 * checkpointed, as a warehouse that
 * has been landing for a while. Untimed.
 */
async function landHistory(engine: Engine, n: number): Promise<void> {
  await ensureTables(engine, 'raw.snowplow_events');
  await engine.execute(`INSERT INTO raw.snowplow_events (event_id, collector_tstamp, derived_tstamp, event_name, event_hour, raw_line)
    SELECT md5(i::VARCHAR) || '-history', ts, ts, 'page_view', strftime(ts, '%Y-%m-%dT%H'), 'x'
    FROM (SELECT i, TIMESTAMPTZ '2026-11-23 23:00:00+00' - (${n} - i) * INTERVAL 1 SECOND AS ts FROM range(${n}) t(i))`);
  await engine.execute('CHECKPOINT');
}

async function kafkaRuns(lines: readonly string[]): Promise<void> {
  const brokers = await ensureKafka();
  const topic = uniqueTopic('bench-snowplow');
  await createTopic(topic, 2);
  const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers, logLevel: kafkajs.logLevel.WARN });
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < lines.length; i += 2_000)
    await producer.send({
      topic,
      messages: lines.slice(i, i + 2_000).map((value, j) => ({ value, partition: (i + j) % 2 })),
    });
  await producer.disconnect();
  try {
    for (const path of (['native', 'js'] as const).filter((p) => paths.includes(p))) {
      const runs: Run[] = [];
      for (let r = 0; r < repeats; r++) {
        // A file-backed warehouse with live mode's checkpoint threshold (config/live.yaml).
        const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-kafka-'));
        const engine = await createDuckDbEngine({
          type: 'duckdb',
          path: join(dir, 'warehouse.duckdb'),
          checkpointThreshold: '256MB',
          ...threads,
        });
        if (history > 0) await landHistory(engine, history);
        const loader = createSnowplowKafkaLoader({
          engine,
          brokers,
          topic,
          groupId: `${topic}-${path}-${r}`,
          ...(path === 'js' ? { sink: new BulkDuckDbSink(engine, new EngineRawSink(engine)) } : {}),
        });
        runs.push(
          await measured(engine, async () => {
            const landed = await loader.land(() => undefined);
            return { inserted: landed.landed, quarantined: landed.quarantined };
          }),
        );
        await rm(dir, { recursive: true, force: true });
      }
      const held = history > 0 ? `, into a warehouse holding ${history.toLocaleString()} earlier events` : '';
      report(`kafka → table, ${path} path${held}`, runs);
    }
  } finally {
    await deleteTopic(topic);
  }
}

await main();
