/** The behaviour every `Ledger` store must share; run against memory, SQLite and PostgreSQL. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LedgerConflictError } from '../../src/ledger/records.js';
import type {
  BackfillRecord,
  CheckResultRecord,
  Ledger,
  MaterializationRecord,
  PublicationRecord,
} from '../../src/ledger/types.js';

export const mat = (over: Partial<MaterializationRecord> = {}): MaterializationRecord => ({
  assetKey: 'core.dim_users',
  partitionKey: '2026-11-24',
  runId: 'run-1',
  codeVersion: 'c1',
  inputDataVersions: { 'raw.users_changes@2026-11-24': 'd-raw-1' },
  dataVersion: 'd1',
  rowCount: 10,
  status: 'success',
  startedAt: '2026-11-25T01:00:00.000Z',
  endedAt: '2026-11-25T01:05:00.000Z',
  ...over,
});

const check = (over: Partial<CheckResultRecord> = {}): CheckResultRecord => ({
  assetKey: 'core.dim_users',
  partitionKey: '2026-11-24',
  runId: 'run-1',
  checkName: 'unique_user_id',
  blocking: true,
  passed: true,
  failingRows: 0,
  checkedAt: '2026-11-25T01:06:00.000Z',
  ...over,
});

const publication = (over: Partial<PublicationRecord> = {}): PublicationRecord => ({
  group: 'revenue',
  version: 'v1',
  tables: { 'marts.daily_revenue': 'marts.daily_revenue__v1', 'marts.roas': 'marts.roas__v1' },
  runId: 'run-1',
  publishedAt: '2026-11-25T02:00:00.000Z',
  ...over,
});

const backfill = (over: Partial<BackfillRecord> = {}): BackfillRecord => ({
  backfillId: 'bf-1',
  selection: '+marts.daily_revenue',
  from: '2026-11-01',
  to: '2026-11-24',
  status: 'running',
  total: 24,
  done: 0,
  failed: 0,
  createdAt: '2026-11-25T00:00:00.000Z',
  updatedAt: '2026-11-25T00:00:00.000Z',
  ...over,
});

/** `open` gives a fresh, empty ledger for each test; the suite closes it. */
export const ledgerContract = (name: string, open: () => Promise<Ledger>): void => {
  describe(`Ledger contract: ${name}`, () => {
    let ledger: Ledger;
    beforeEach(async () => {
      ledger = await open();
    });
    afterEach(async () => {
      await ledger.close();
    });

    it('records a materialization idempotently by (asset, partition, run)', async () => {
      await ledger.recordMaterialization(mat());
      await ledger.recordMaterialization(mat());
      expect(await ledger.history('core.dim_users', '2026-11-24')).toStrictEqual([mat()]);
      // Same key re-delivered with other values (e.g. a retried activity): overwritten, not duplicated.
      await ledger.recordMaterialization(mat({ rowCount: 11, dataVersion: 'd2' }));
      expect(await ledger.history('core.dim_users', '2026-11-24')).toStrictEqual([
        mat({ rowCount: 11, dataVersion: 'd2' }),
      ]);
    });

    it('round-trips every field (error, empty inputs, unpartitioned key, large row counts)', async () => {
      const failed = mat({
        partitionKey: '',
        status: 'failed',
        error: 'boom: "quoted" \n newline',
        inputDataVersions: {},
        rowCount: 5_000_000_000,
      });
      await ledger.recordMaterialization(failed);
      expect(await ledger.history('core.dim_users', '')).toStrictEqual([failed]);
      const view = await ledger.view(['core.dim_users']);
      expect(view.latest('core.dim_users', '')).toStrictEqual(failed);
      expect(view.latestSuccess('core.dim_users', '')).toBeUndefined();
    });

    it('view: latest attempt and latest success per partition, ordered by start time not arrival', async () => {
      const ok1 = mat({ runId: 'run-1' });
      const fail2 = mat({
        runId: 'run-2',
        status: 'failed',
        error: 'x',
        startedAt: '2026-11-25T03:00:00.000Z',
        endedAt: '2026-11-25T03:01:00.000Z',
      });
      const old0 = mat({
        runId: 'run-0',
        startedAt: '2026-11-24T03:00:00Z',
        endedAt: '2026-11-24T03:01:00Z',
      });
      await ledger.recordMaterialization(ok1);
      await ledger.recordMaterialization(fail2);
      await ledger.recordMaterialization(old0); // arrives last, but is the oldest attempt
      await ledger.recordMaterialization(mat({ assetKey: 'other.asset' }));
      const view = await ledger.view(['core.dim_users']);
      expect(view.latest('core.dim_users', '2026-11-24')).toStrictEqual(fail2);
      expect(view.latestSuccess('core.dim_users', '2026-11-24')).toStrictEqual(ok1);
      expect(view.latest('core.dim_users', '2026-11-23')).toBeUndefined();
      expect(view.latest('other.asset', '2026-11-24')).toBeUndefined(); // not requested
      expect((await ledger.view([])).latest('core.dim_users', '2026-11-24')).toBeUndefined();
      expect((await ledger.history('core.dim_users', '2026-11-24')).map((r) => r.runId)).toEqual([
        'run-2',
        'run-1',
        'run-0',
      ]);
    });

    it('compares timestamps as instants, whatever their offset or precision', async () => {
      // 01:30+02:00 is 23:30Z the day before: older than 23:45Z though its text sorts later.
      await ledger.recordMaterialization(mat({ runId: 'a', startedAt: '2026-11-25T01:30:00+02:00' }));
      await ledger.recordMaterialization(mat({ runId: 'b', startedAt: '2026-11-24T23:45:00Z' }));
      const view = await ledger.view(['core.dim_users']);
      expect(view.latest('core.dim_users', '2026-11-24')?.runId).toBe('b');
      expect(view.latest('core.dim_users', '2026-11-24')?.startedAt).toBe('2026-11-24T23:45:00Z'); // text kept
    });

    it('materializations(): grid of latest attempts with asset, range and status filters', async () => {
      const days = ['2026-11-22', '2026-11-23', '2026-11-24'];
      for (const [i, d] of days.entries()) {
        await ledger.recordMaterialization(mat({ partitionKey: d, runId: `r${i}` }));
        await ledger.recordMaterialization(
          mat({ partitionKey: d, runId: `r${i}-retry`, status: 'failed', startedAt: '2026-11-26T00:00:00Z' }),
        );
      }
      await ledger.recordMaterialization(
        mat({ assetKey: 'marts.daily_revenue', partitionKey: '2026-11-23' }),
      );
      await ledger.recordMaterialization(mat({ assetKey: 'core.dim_plans', partitionKey: '' }));

      const grid = await ledger.materializations();
      expect(grid.map((r) => `${r.assetKey}@${r.partitionKey}:${r.status}`)).toEqual([
        'core.dim_plans@:success',
        'core.dim_users@2026-11-22:failed',
        'core.dim_users@2026-11-23:failed',
        'core.dim_users@2026-11-24:failed',
        'marts.daily_revenue@2026-11-23:success',
      ]);
      const ranged = await ledger.materializations({ from: '2026-11-23', to: '2026-11-23' });
      expect(ranged.map((r) => `${r.assetKey}@${r.partitionKey}`)).toEqual([
        'core.dim_plans@', // unpartitioned rows always show
        'core.dim_users@2026-11-23',
        'marts.daily_revenue@2026-11-23',
      ]);
      const successes = await ledger.materializations({ assetKeys: ['core.dim_users'], status: 'success' });
      expect(successes.map((r) => r.runId)).toEqual(['r0', 'r1', 'r2']);
      const all = await ledger.materializations({
        assetKeys: ['core.dim_users'],
        from: '2026-11-24',
        all: true,
      });
      expect(all.map((r) => r.runId)).toEqual(['r2-retry', 'r2']);
      expect(await ledger.materializations({ assetKeys: [] })).toEqual([]);
    });

    it('records check results keyed by (asset, partition, run, check)', async () => {
      await ledger.recordCheck(check());
      await ledger.recordCheck(check({ passed: false, failingRows: 3, detail: 'dupes' })); // same key: upsert
      await ledger.recordCheck(check({ checkName: 'not_null_email', blocking: false }));
      await ledger.recordCheck(check({ runId: 'run-2', checkedAt: '2026-11-26T00:00:00Z' }));
      const all = await ledger.checkResults('core.dim_users', '2026-11-24');
      expect(all).toStrictEqual([
        check({ checkName: 'not_null_email', blocking: false }),
        check({ passed: false, failingRows: 3, detail: 'dupes' }),
        check({ runId: 'run-2', checkedAt: '2026-11-26T00:00:00Z' }),
      ]);
      expect((await ledger.checkResults('core.dim_users', '2026-11-24', 'run-2')).length).toBe(1);
      expect(await ledger.checkResults('core.dim_users', '2026-11-23')).toEqual([]);
    });

    it('publications: (group, version) unique, idempotent, immutable', async () => {
      await ledger.recordPublication(publication());
      // A retried publish (new timestamp, tables in another key order) is a no-op.
      await ledger.recordPublication(
        publication({
          publishedAt: '2026-11-25T02:00:09Z',
          tables: { 'marts.roas': 'marts.roas__v1', 'marts.daily_revenue': 'marts.daily_revenue__v1' },
        }),
      );
      await ledger.recordPublication(
        publication({
          version: 'v2',
          tables: { 'marts.daily_revenue': 'x__v2' },
          publishedAt: '2026-11-26T00:00:00Z',
        }),
      );
      await ledger.recordPublication(publication({ group: 'marketing' }));
      await expect(
        ledger.recordPublication(publication({ tables: { 'marts.daily_revenue': 'other' } })),
      ).rejects.toBeInstanceOf(LedgerConflictError);
      const pubs = await ledger.publications('revenue');
      expect(pubs.map((p) => p.version)).toEqual(['v1', 'v2']);
      expect(pubs[0]).toStrictEqual(publication());
      expect(await ledger.publications('nope')).toEqual([]);
    });

    it('watermarks move forward only; a late stale report is ignored', async () => {
      const wm = (source: string, watermark: string, updatedAt: string) => ({ source, watermark, updatedAt });
      await ledger.setWatermark(wm('pg.users', '2026-11-24T10:00:00Z', '2026-11-24T10:00:05Z'));
      await ledger.setWatermark(wm('pg.users', '2026-11-24T11:00:00Z', '2026-11-24T11:00:05Z'));
      await ledger.setWatermark(wm('pg.users', '2026-11-24T10:30:00Z', '2026-11-24T11:30:00Z')); // stale retry
      // Text sorts later, instant is earlier (10:59Z): ignored too.
      await ledger.setWatermark(wm('pg.users', '2026-11-24T12:59:00+02:00', '2026-11-24T11:31:00Z'));
      await ledger.setWatermark(wm('kafka.snowplow', '2026-11-24T09:00:00Z', '2026-11-24T09:00:01Z'));
      expect(await ledger.watermarks()).toStrictEqual([
        wm('kafka.snowplow', '2026-11-24T09:00:00Z', '2026-11-24T09:00:01Z'),
        wm('pg.users', '2026-11-24T11:00:00Z', '2026-11-24T11:00:05Z'),
      ]);
      // Same watermark, newer report: refreshes updatedAt; an older report of it does not.
      await ledger.setWatermark(wm('pg.users', '2026-11-24T11:00:00Z', '2026-11-24T11:10:00Z'));
      await ledger.setWatermark(wm('pg.users', '2026-11-24T11:00:00Z', '2026-11-24T11:01:00Z'));
      expect((await ledger.watermarks())[1]).toStrictEqual(
        wm('pg.users', '2026-11-24T11:00:00Z', '2026-11-24T11:10:00Z'),
      );
    });

    it('backfills upsert by id, newest first', async () => {
      await ledger.upsertBackfill(backfill());
      await ledger.upsertBackfill(backfill({ done: 10, updatedAt: '2026-11-25T00:10:00Z' }));
      await ledger.upsertBackfill(backfill({ backfillId: 'bf-2', createdAt: '2026-11-25T05:00:00Z' }));
      await ledger.upsertBackfill(
        backfill({ done: 24, status: 'completed', updatedAt: '2026-11-25T01:00:00Z' }),
      );
      expect(await ledger.backfills()).toStrictEqual([
        backfill({ backfillId: 'bf-2', createdAt: '2026-11-25T05:00:00Z' }),
        backfill({ done: 24, status: 'completed', updatedAt: '2026-11-25T01:00:00Z' }),
      ]);
    });

    it('view equals the ranking of every attempt after random writes (retries, re-deliveries, ties)', async () => {
      // A seeded generator: the same writes on every run and every store.
      let seed = 17;
      const next = (n: number): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return Math.floor((seed / 2_147_483_648) * n);
      };
      const pick = <T>(xs: readonly T[]): T => xs[next(xs.length)]!;
      const assets = ['core.a', 'core.b'];
      const partitions = ['2026-11-23', '2026-11-24', ''];
      const instants = ['2026-11-25T01:00:00Z', '2026-11-25T02:00:00Z', '2026-11-25T04:00:00+02:00'];
      const check = async (): Promise<void> => {
        const view = await ledger.view(assets);
        // The window query over every attempt is the reference.
        const latest = await ledger.materializations({ assetKeys: assets });
        const successes = await ledger.materializations({ assetKeys: assets, status: 'success' });
        for (const a of assets) {
          const heads = view.heads(a);
          expect([...heads.keys()].sort()).toEqual(
            latest.filter((r) => r.assetKey === a).map((r) => r.partitionKey),
          );
          for (const p of partitions) {
            const want = latest.find((r) => r.assetKey === a && r.partitionKey === p);
            const wantSuccess = successes.find((r) => r.assetKey === a && r.partitionKey === p);
            expect(view.latest(a, p)).toStrictEqual(want);
            expect(view.latestSuccess(a, p)).toStrictEqual(wantSuccess);
            const head = heads.get(p);
            expect(head?.status).toBe(want?.status);
            expect(head?.codeVersion).toBe(want?.codeVersion);
            expect(head?.successDataVersion).toBe(wantSuccess?.dataVersion);
            if (head) expect(JSON.parse(head.inputsText)).toStrictEqual(want?.inputDataVersions);
          }
        }
      };
      for (let i = 0; i < 60; i++) {
        const inputs: Record<string, string> = {};
        for (let k = next(3); k > 0; k--)
          inputs[`${pick(['raw.x', 'raw.y'])}@${pick(partitions)}`] = `d${next(4)}`;
        const failed = next(3) === 0;
        await ledger.recordMaterialization(
          mat({
            assetKey: pick(assets),
            partitionKey: pick(partitions),
            runId: `r${next(5)}`, // few runs: many writes re-deliver an attempt with other values
            codeVersion: `c${next(2)}`,
            inputDataVersions: inputs,
            dataVersion: `d${next(4)}`,
            status: failed ? 'failed' : 'success',
            ...(failed ? { error: `e${i}` } : {}),
            startedAt: pick(instants), // equal starts: the end, then the run id decide
            endedAt: pick(instants),
          }),
        );
        if (i % 10 === 9) await check();
      }
    });

    it('concurrent writers of one partition leave the newest attempt as its latest', async () => {
      // PostgreSQL runs these on several connections at once; each recomputes the partition's latest row.
      const writes = Array.from({ length: 24 }, (_, i) =>
        mat({
          runId: `w${String(i).padStart(2, '0')}`,
          status: i % 3 === 0 ? 'failed' : 'success',
          startedAt: `2026-11-25T${String((i * 7) % 24).padStart(2, '0')}:00:00Z`,
        }),
      );
      await Promise.all(writes.map((w) => ledger.recordMaterialization(w)));
      const history = await ledger.history('core.dim_users', '2026-11-24');
      const view = await ledger.view(['core.dim_users']);
      expect(view.latest('core.dim_users', '2026-11-24')).toStrictEqual(history[0]);
      expect(view.latestSuccess('core.dim_users', '2026-11-24')).toStrictEqual(
        history.find((r) => r.status === 'success'),
      );
    });

    it('rejects malformed records at the boundary', async () => {
      await expect(ledger.recordMaterialization(mat({ startedAt: 'yesterday' }))).rejects.toThrow();
      await expect(ledger.recordMaterialization(mat({ rowCount: -1 }))).rejects.toThrow();
      await expect(
        ledger.setWatermark({ source: 's', watermark: 'not a time', updatedAt: '2026-11-24T00:00:00Z' }),
      ).rejects.toThrow();
      expect(await ledger.history('core.dim_users', '2026-11-24')).toEqual([]);
    });
  });
};
