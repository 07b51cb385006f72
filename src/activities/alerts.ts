import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { AlertRouteConfig } from '../config/index.js';
import type { AlertRouteSpec, Definitions } from '../dsl/index.js';
import type { Alert } from './types.js';

/** A route as delivered: the config's routes (per deployment) and the catalog's `alertRoutes` (per owner). */
export type AlertRoute = AlertRouteConfig | AlertRouteSpec;

/**
 * The routes alerts go to: the catalog's `Definitions.alertRoutes` (which teams own what, e.g. a route matching
 * `owners: [growth]`) plus the deployment's `alerts.routes`; a config route replaces the catalog's of the same name
 * (a deployment may point `growth-slack` elsewhere).
 */
export function effectiveRoutes(
  defs: Definitions,
  configRoutes: readonly AlertRouteConfig[],
): readonly AlertRoute[] {
  const byName = new Map<string, AlertRoute>();
  for (const r of defs.alertRoutes) byName.set(r.name, r);
  for (const r of configRoutes) byName.set(r.name, r);
  return [...byName.values()];
}

/** The assets an alert concerns: its asset, or every member of its publish group. */
function concerned(defs: Definitions, alert: Alert): { owners: Set<string>; tags: Set<string> } {
  const keys = alert.assetKey
    ? [alert.assetKey]
    : (defs.publishGroups.find((g) => g.name === alert.group)?.assets ?? []);
  const assets = keys.filter((k) => defs.hasAsset(k)).map((k) => defs.asset(k));
  return { owners: new Set(assets.flatMap((a) => a.owners)), tags: new Set(assets.flatMap((a) => a.tags)) };
}

/** A route without `match` takes every alert; with one, alerts of assets having one of its owners or tags. */
export function routesFor<R extends AlertRoute>(defs: Definitions, routes: readonly R[], alert: Alert): R[] {
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

export interface AlertDeps {
  readonly definitions: Definitions;
  /** Already merged with the catalog's (effectiveRoutes). */
  readonly routes: readonly AlertRoute[];
  readonly logger: Logger;
}

/**
 * Delivers one alert to one route. Throws on failure so Temporal retries this route alone (its own activity):
 * other routes are never delivered twice because one is broken. A 4xx other than 408/429 is a configuration
 * error (wrong URL or token): not retried.
 */
export async function deliverAlert(deps: AlertDeps, alert: Alert, routeName: string): Promise<void> {
  const route = deps.routes.find((r) => r.name === routeName);
  if (!route) {
    throw ApplicationFailure.nonRetryable(`alert route "${routeName}" is not configured`, 'ConfigError');
  }
  if (route.type === 'log') {
    deps.logger.error({ alert, route: route.name }, alertText(alert));
    return;
  }
  const body = route.type === 'slack' ? { text: alertText(alert) } : { ...alert, text: alertText(alert) };
  const res = await fetch(route.url ?? '', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  // Drain the body so the connection is released.
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  // The URL may carry a token (Slack webhooks do): name the route, never the URL.
  const message = `alert route "${route.name}" answered HTTP ${res.status}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    throw ApplicationFailure.nonRetryable(message, 'ConfigError');
  }
  throw new Error(message);
}

/**
 * Workflows recorded before alerts had their own workflow call this: every matching route, each delivered once
 * whatever the others do. A failed route is logged, not thrown: a retry would deliver the healthy ones again.
 */
export async function sendAlert(deps: AlertDeps, alert: Alert): Promise<void> {
  const routes = routesFor(deps.definitions, deps.routes, alert);
  const results = await Promise.allSettled(routes.map((r) => deliverAlert(deps, alert, r.name)));
  for (const [i, r] of results.entries()) {
    if (r.status === 'rejected') {
      deps.logger.warn(
        { route: routes[i]?.name, error: r.reason instanceof Error ? r.reason.message : String(r.reason) },
        'alert not delivered',
      );
    }
  }
}
