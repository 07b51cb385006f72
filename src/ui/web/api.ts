/** Reading the server's JSON from the pages: one hook that loads (and optionally polls) a path. */
import { useCallback, useEffect, useState } from 'preact/hooks';

export async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await r.json()) as T | { error?: string };
  if (!r.ok) throw new Error((body as { error?: string }).error ?? `${r.status} ${r.statusText}`);
  return body as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const out = (await r.json()) as T | { error?: string };
  if (!r.ok) throw new Error((out as { error?: string }).error ?? `${r.status} ${r.statusText}`);
  return out as T;
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  reload(): void;
}

/** GETs `path` (null: nothing to load) and again every `pollMs` while the page shows it ("live"). */
export function useJson<T>(path: string | null, pollMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (path === null) return undefined;
    let live = true;
    setLoading(true);
    getJson<T>(path)
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)))
      .finally(() => live && setLoading(false));
    const timer = pollMs ? setTimeout(() => live && setTick((t) => t + 1), pollMs) : undefined;
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [path, tick, pollMs]);
  return { data, error, loading, reload };
}

/** `#/asset?key=…` style links: the route and its parameters. */
export function href(route: string, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return `#/${route}${s ? `?${s}` : ''}`;
}
