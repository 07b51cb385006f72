import type { Logger } from 'pino';
import type { AlertRouteConfig } from '../config/index.js';
import type { Definitions } from '../dsl/index.js';
import type { Alert } from './types.js';

/** The assets an alert concerns: its asset, or every member of its publish group. */
function concerned(defs: Definitions, alert: Alert): { owners: Set<string>; tags: Set<string> } {
  const keys = alert.assetKey
    ? [alert.assetKey]
    : (defs.publishGroups.find((g) => g.name === alert.group)?.assets ?? []);
  const assets = keys.filter((k) => defs.hasAsset(k)).map((k) => defs.asset(k));
  return { owners: new Set(assets.flatMap((a) => a.owners)), tags: new Set(assets.flatMap((a) => a.tags)) };
}

/** A route without `match` takes every alert; with one, alerts of assets having one of its owners or tags. */
export function routesFor(
  defs: Definitions,
  routes: readonly AlertRouteConfig[],
  alert: Alert,
): AlertRouteConfig[] {
  const { owners, tags } = concerned(defs, alert);
  return routes.filter((r) => {
    if (!r.match) return true;
    return (r.match.owners ?? []).some((o) => owners.has(o)) || (r.match.tags ?? []).some((t) => tags.has(t));
  });
}

export function alertText(a: Alert): string {
  const what = a.assetKey
    ? `${a.assetKey}${a.partitionKey ? ` @ ${a.partitionKey}` : ''}`
    : `group ${a.group ?? '?'} @ ${a.partitionKey ?? ''}`;
  return `[tessera] ${a.kind.replace('_', ' ')}: ${what}\n${a.error}\nrun ${a.runId}: ${a.runUrl}`;
}

/**
 * Delivers one alert to every matching route. A failed delivery throws, so Temporal retries the activity; the
 * workflow asks once per failed asset partition per run, so retries are the only repeats.
 */
export async function sendAlert(
  deps: { definitions: Definitions; routes: readonly AlertRouteConfig[]; logger: Logger },
  alert: Alert,
): Promise<void> {
  for (const route of routesFor(deps.definitions, deps.routes, alert)) {
    if (route.type === 'log') {
      deps.logger.error({ alert, route: route.name }, alertText(alert));
      continue;
    }
    const body = route.type === 'slack' ? { text: alertText(alert) } : { ...alert, text: alertText(alert) };
    const res = await fetch(route.url ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    // The URL may carry a token (Slack webhooks do): name the route, never the URL.
    if (!res.ok) throw new Error(`alert route "${route.name}" answered HTTP ${res.status}`);
  }
}
