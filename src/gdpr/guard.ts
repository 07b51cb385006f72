import type { AssetDefinition, Definitions } from '../dsl/index.js';
import type { Engine } from '../engines/index.js';
import type { IngestResult, LandResult, SourceLoader } from '../sources/types.js';
import { engineOf } from './engines.js';
import { ErasureKey, ErasureKeyError } from './keys.js';
import { resolveTargets, type ErasurePolicy, type ErasureTarget } from './policy.js';
import { renderErasure, ERASURE_LIST } from './sql.js';

/**
 * The ingest guard: after every landing of a source, the erasure list is applied again to the tables that
 * source writes, so re-landed old files, a CDC replay or a re-snapshot cannot bring an erased person back. The
 * list holds keyed hashes only, so the guard reads the distinct values of each identifying column, hashes them
 * and erases the rows of those that are listed (with the policy's action: a re-landed purchase is anonymised,
 * a re-landed profile deleted). With an empty list it costs one small query per landing.
 *
 * Loaders are wrapped (`guardLoaders`), so both ways rows land are covered: the ingestion workflows' `land()`
 * passes and the materialize steps' `ingest()` (which lands before it reports its partition: the guarded
 * `ingest` lands, erases, then reports the partition as it is after the erasure).
 */
export class ErasureGuard {
  private readonly targets: readonly ErasureTarget[];

  constructor(
    private readonly opts: {
      readonly definitions: Definitions;
      readonly policy: ErasurePolicy;
      readonly engines: Readonly<Record<string, Engine>>;
      readonly defaultEngine: string;
      /** The config's placement of assets on engines; absent: `asset.engine ?? defaultEngine`. */
      readonly engineNameOf?: (asset: Pick<AssetDefinition, 'engine' | 'key'>) => string;
      /** The PII key; default $TESSERA_PII_KEY. Needed only once the list has entries. */
      readonly key?: string;
    },
  ) {
    this.targets = resolveTargets(opts.definitions, opts.policy, { strict: false }).filter(
      (t) => t.source !== undefined && !t.store && t.rule.how !== 'contains',
    );
  }

  /** Listed hashes by kind; empty when nothing was ever erased. */
  private async listed(): Promise<Map<string, Set<string>>> {
    const e = engineOf(this.opts.engines, this.opts.defaultEngine);
    const out = new Map<string, Set<string>>();
    if (!(await e.engine.describeTable(`${ERASURE_LIST.schema}.${ERASURE_LIST.name}`))) return out;
    const rows = await e.engine.query(renderErasure(e.dialect).listEntries());
    if (rows.length === 0) return out;
    const key = ErasureKey.from(this.opts.key);
    if (rows.some((r) => r['key_check'] !== key.check))
      throw new ErasureKeyError(
        'the erasure list was written with another PII key: refusing to land rows the guard cannot check',
      );
    for (const r of rows) {
      const kind = String(r['kind']);
      const set = out.get(kind) ?? new Set<string>();
      set.add(String(r['value_hash']));
      out.set(kind, set);
    }
    return out;
  }

  /** Re-applies the list to the tables `source` lands into; returns the rows erased. */
  async apply(source: string): Promise<number> {
    const targets = this.targets.filter((t) => t.source === source);
    if (targets.length === 0) return 0;
    const listed = await this.listed();
    if (listed.size === 0) return 0;
    const key = ErasureKey.from(this.opts.key);
    let erased = 0;
    for (const target of targets) {
      const e = engineOf(this.opts.engines, this.opts.defaultEngine, target.asset, this.opts.engineNameOf);
      if (!(await e.engine.describeTable(target.table))) continue;
      const sql = renderErasure(e.dialect);
      const ids = new Map<string, string[]>();
      for (const [column, kind] of Object.entries(target.rule.match)) {
        const hashes = listed.get(kind);
        if (!hashes) continue;
        const values = (await e.engine.query(sql.distinctValues(target.table, column))).map((r) =>
          String(r['v']),
        );
        const hit = values.filter((v) => hashes.has(key.hash(kind, v)));
        if (hit.length > 0) ids.set(kind, [...(ids.get(kind) ?? []), ...hit]);
      }
      const where = sql.predicate(target, ids);
      if (!where) continue;
      const [n] = await e.engine.query(
        `SELECT count(*) AS n FROM ${e.dialect.table(target.table)} WHERE ${where}`,
      );
      const rows = Number(n?.['n'] ?? 0);
      if (rows === 0) continue;
      await e.engine.execute(sql.apply(target, where));
      erased += rows;
    }
    return erased;
  }
}

/** Landing passes of one guarded `ingest` at most (each after the guard erased something). */
const MAX_PASSES = 5;

/** Wraps a source's loader so each landing is followed by the guard (see ErasureGuard). */
export function guardLoader(source: string, loader: SourceLoader, guard: ErasureGuard): SourceLoader {
  const land = loader.land?.bind(loader);
  return {
    ...(land
      ? {
          async land(heartbeat: () => void): Promise<LandResult> {
            const r = await land(heartbeat);
            await guard.apply(source);
            return r;
          },
        }
      : {}),
    async ingest(req): Promise<IngestResult> {
      const first = await loader.ingest(req);
      let report = first;
      // Report the partition as it is after the guard: another pass lands only what arrived meanwhile (rows
      // dedupe on their keys), which the guard checks in turn. A live source may keep delivering: bounded.
      for (let pass = 0; pass < MAX_PASSES && (await guard.apply(source)) > 0; pass++)
        report = await loader.ingest(req);
      return report === first
        ? first
        : { ...report, ...(first.quarantined !== undefined ? { quarantined: first.quarantined } : {}) };
    },
  };
}

export function guardLoaders(
  loaders: Readonly<Record<string, SourceLoader>>,
  guard: ErasureGuard,
): Record<string, SourceLoader> {
  return Object.fromEntries(Object.entries(loaders).map(([s, l]) => [s, guardLoader(s, l, guard)]));
}
