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
