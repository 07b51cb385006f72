/** Temporal Web UI links. Pure (imported by workflow code). */

export const DEFAULT_UI_BASE_URL = 'http://127.0.0.1:8233';

/** `<base>/namespaces/<ns>/workflows/<id>[/<runId>]`; ids are URL-encoded (step ids contain '/' and '|'). */
export function workflowUrl(
  workflowId: string,
  opts: { readonly baseUrl?: string; readonly namespace?: string; readonly runId?: string } = {},
): string {
  const base = (opts.baseUrl ?? DEFAULT_UI_BASE_URL).replace(/\/+$/, '');
  const ns = encodeURIComponent(opts.namespace ?? 'default');
  const run = opts.runId ? `/${encodeURIComponent(opts.runId)}` : '';
  return `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${run}`;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '0.0.0.0', '[::1]']);

/**
 * The Web UI base to print and link: TESSERA_TEMPORAL_UI_URL when set (scripts/services/temporal.sh exports it);
 * else the configured URL, with its port replaced by TESSERA_TEMPORAL_UI_PORT when it names this machine (the
 * variable moves the local dev server's UI; a remote UI's address is the config's to say).
 */
export function resolveUiUrl(configured: string, env: Readonly<Record<string, string | undefined>>): string {
  const explicit = env['TESSERA_TEMPORAL_UI_URL']?.trim();
  if (explicit) return explicit.replace(/\/+$/, '');
  const port = env['TESSERA_TEMPORAL_UI_PORT']?.trim();
  const base = configured.replace(/\/+$/, '');
  if (!port || !/^\d+$/.test(port)) return base;
  const url = new URL(base);
  if (!LOCAL_HOSTS.has(url.hostname)) return base;
  url.port = port;
  return url.toString().replace(/\/+$/, '');
}
