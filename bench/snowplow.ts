/**
 * Snowplow ingestion throughput: enriched TSV lines parsed, and parsed + landed in DuckDB through the raw sink
 * (dedupe on event_id, quarantine). Goal: ≥ 100,000 events/s on the dev machine (2 cores).
 *
 *   npx tsx bench/snowplow.ts [events=300000] [batch=20000]
 */
import { existsSync } from 'node:fs';
import { createDuckDbEngine } from '../src/engines/index.js';
import { EngineRawSink } from '../src/sources/sinks/engine-sink.js';
import { BulkDuckDbSink } from '../src/sources/snowplow/duckdb-bulk-sink.js';
import {
  contextsJson,
  encodeEnrichedEvent,
  experimentExposureContext,
  linkClickEvent,
  listingContext,
  parseEnrichedLine,
  SnowplowLoader,
  unstructEventJson,
  type SnowplowRecord,
} from '../src/sources/snowplow/index.js';

const total = Number(process.argv[2] ?? 300_000);
const batchSize = Number(process.argv[3] ?? 20_000);

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
  const lines = makeLines(total);
  const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
  console.log(
    `${total.toLocaleString()} events, ${(bytes / 1e6).toFixed(0)} MB of TSV, batches of ${batchSize.toLocaleString()}`,
  );

  // Warm-up so the JIT has compiled the parser before timing.
  for (let i = 0; i < Math.min(50_000, total); i++) parseEnrichedLine(lines[i] as string);
  const t = performance.now();
  let ok = 0;
  for (const l of lines) if (parseEnrichedLine(l).ok) ok++;
  const parseS = (performance.now() - t) / 1000;
  console.log(
    `parse only:        ${Math.round(total / parseS).toLocaleString()} events/s (${ok.toLocaleString()} valid)`,
  );

  for (const [label, inFlight] of [
    ['parse + load', 1],
    ['parse + load, 2 batches in flight', 2],
  ] as const) {
    const r = await load(lines, inFlight);
    console.log(
      `${label}: ${Math.round(total / r.seconds).toLocaleString()} events/s into DuckDB ` +
        `(${r.inserted.toLocaleString()} rows, ${r.quarantined.toLocaleString()} quarantined, table holds ${r.rows.toLocaleString()})`,
    );
  }
}

/** Lines → SnowplowLoader → BulkDuckDbSink (over the engine raw sink) → a fresh in-memory DuckDB. */
async function load(lines: readonly string[], inFlight: number) {
  const engine = await createDuckDbEngine({ type: 'duckdb', path: ':memory:' });
  const sink = new BulkDuckDbSink(
    engine,
    new EngineRawSink(engine),
    existsSync('/dev/shm') ? { tmpDir: '/dev/shm' } : {},
  );
  const loader = new SnowplowLoader({ sink, allowedLatenessMinutes: 60 });
  await loader.load([]);
  const t = performance.now();
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
  const seconds = (performance.now() - t) / 1000;
  const [row] = await engine.query<{ n: number }>('SELECT count(*)::INT AS n FROM raw.snowplow_events');
  await engine.close();
  return { seconds, inserted, quarantined, rows: row?.n ?? 0 };
}

await main();
