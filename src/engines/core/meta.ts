import { renderMetaDdl } from '../dialect/meta.js';
import type { EngineContext } from './context.js';

const ready = new WeakMap<EngineContext, Promise<void>>();

/**
 * Creates the bookkeeping tables once per engine, outside any operation's transaction, so concurrent
 * operations never race on DDL. A failure is not cached: the next call tries again.
 */
export function ensureMeta(ctx: EngineContext): Promise<void> {
  let p = ready.get(ctx);
  if (!p) {
    p = (async () => {
      for (const s of renderMetaDdl(ctx.dialect)) await ctx.client.run(s);
    })();
    p.catch(() => ready.delete(ctx));
    ready.set(ctx, p);
  }
  return p;
}
