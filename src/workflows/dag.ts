/**
 * Deterministic DAG executor (workflow code): runs plan steps in dependency order with at most `concurrency`
 * units in flight. A unit is one step, or (when the caller runs batches) every step of one asset sharing a
 * `batch` key, run together by `runBatch`. Steps sharing a `lane` (an ingest source, which the worker serializes)
 * run one unit at a time, so units waiting on a source lock never fill the slots. A failed step marks its
 * transitive downstream `skipped_upstream_failed`; unrelated steps run on. Upstream ids that are not in the step
 * list count as satisfied (done earlier, or outside the plan).
 */
import { CancellationScope, condition, isCancellation, patched } from '@temporalio/workflow';
import type { StepResult } from '../activities/types.js';
import type { PlanStep } from '../planner/types.js';
import { describeError, failedResult } from './step.js';
import type { Progress, StepOutcome } from './types.js';

type State = 'pending' | 'running' | 'success' | 'failed' | 'skipped_upstream_failed';

export interface DagHooks {
  runStep(step: PlanStep): Promise<StepResult>;
  /**
   * Runs the steps of one batch (one asset, one `batch` key; dependencies among them are the callee's) and
   * returns a result per step it ran; a step without a result counts as skipped when an upstream failed, else
   * failed. Without it every step runs alone.
   */
  runBatch?(steps: readonly PlanStep[]): Promise<readonly StepResult[]>;
  /** Every finished or skipped step, in completion order. */
  onOutcome?(outcome: StepOutcome): void;
  /** When true, no new unit starts; run() returns once the units in flight finish. */
  shouldPause?(): boolean;
}

export interface DagRunResult {
  /** Steps not started (because of a pause), in plan order. */
  readonly remaining: readonly PlanStep[];
  readonly paused: boolean;
}

interface Unit {
  readonly members: number[];
  readonly lane: string | undefined;
  readonly batch: boolean;
  /** Upstream units not finished yet. */
  waitingOn: number;
  readonly downstream: number[];
  /** Steps on the longest chain of units from this one down: the ready unit with most ahead of it goes first. */
  weight: number;
}

/** Runs recorded before priorities start units in plan order on replay. */
const PRIORITY_PATCH = 'tessera-dag-priority';

export class Dag {
  private readonly state: State[];
  private readonly downstream: number[][];
  private readonly upstreamOf: number[][];
  private running = 0;
  done = 0;
  failed = 0;
  skipped = 0;

  constructor(
    private readonly steps: readonly PlanStep[],
    private readonly concurrency: number,
  ) {
    const index = new Map(steps.map((s, i) => [s.id, i]));
    this.state = steps.map(() => 'pending');
    this.downstream = steps.map(() => []);
    this.upstreamOf = steps.map((s, i) => {
      const ups: number[] = [];
      for (const up of new Set(s.upstream)) {
        const j = index.get(up);
        if (j === undefined) continue;
        this.downstream[j]!.push(i);
        ups.push(j);
      }
      return ups;
    });
  }

  get total(): number {
    return this.steps.length;
  }

  progress(): Progress {
    const runningSteps: string[] = [];
    for (let i = 0; i < this.steps.length && runningSteps.length < 50; i++) {
      if (this.state[i] === 'running') runningSteps.push(this.steps[i]!.id);
    }
    return {
      total: this.steps.length,
      done: this.done,
      failed: this.failed,
      skipped: this.skipped,
      running: this.running,
      pending: this.steps.length - this.done - this.failed - this.skipped - this.running,
      runningSteps,
    };
  }

  /** Groups steps into units (batches when the caller runs them) and links units by their steps' upstream. */
  private units(batches: boolean): Unit[] {
    const units: Unit[] = [];
    const unitOfStep: number[] = [];
    const byBatch = new Map<string, number>();
    this.steps.forEach((s, i) => {
      const key = batches && s.batch !== undefined ? `${s.assetKey}\u0000${s.batch}` : undefined;
      let u = key === undefined ? undefined : byBatch.get(key);
      if (u === undefined) {
        u = units.length;
        units.push({
          members: [],
          lane: s.lane,
          batch: key !== undefined,
          waitingOn: 0,
          downstream: [],
          weight: 0,
        });
        if (key !== undefined) byBatch.set(key, u);
      }
      units[u]!.members.push(i);
      unitOfStep[i] = u;
    });
    units.forEach((unit, u) => {
      const ups = new Set<number>();
      for (const i of unit.members) for (const j of this.upstreamOf[i]!) ups.add(unitOfStep[j]!);
      ups.delete(u);
      unit.waitingOn = ups.size;
      for (const v of ups) units[v]!.downstream.push(u);
    });
    // Plan order is topological, so a unit's downstream units come after it: weigh them from the end.
    for (let u = units.length - 1; u >= 0; u--) {
      const unit = units[u]!;
      const below = unit.downstream.reduce((m, d) => Math.max(m, d > u ? units[d]!.weight : 0), 0);
      unit.weight = unit.members.length + below;
    }
    return units;
  }

  async run(hooks: DagHooks): Promise<DagRunResult> {
    const units = this.units(hooks.runBatch !== undefined);
    // Units whose upstream units have all finished, in plan order; `busy` lanes hold one unit each.
    const ready: number[] = units.flatMap((u, i) => (u.waitingOn === 0 ? [i] : []));
    const busy = new Set<string>();
    let inFlight = 0;
    const paused = (): boolean => hooks.shouldPause?.() ?? false;
    const prioritized = patched(PRIORITY_PATCH);
    const free = (u: number): boolean => !busy.has(units[u]!.lane ?? '\u0000');
    /** The ready unit to start next: the heaviest with a free lane (plan order among equals). */
    const nextReady = (): number => {
      if (!prioritized) return ready.findIndex(free);
      let best = -1;
      for (let k = 0; k < ready.length; k++) {
        const u = ready[k]!;
        if (!free(u)) continue;
        const b = best < 0 ? undefined : units[ready[best]!]!;
        if (!b || units[u]!.weight > b.weight || (units[u]!.weight === b.weight && u < ready[best]!))
          best = k;
      }
      return best;
    };
    const canLaunch = (): boolean => inFlight < this.concurrency && !paused() && nextReady() >= 0;
    const release = (u: number): void => {
      inFlight--;
      const lane = units[u]!.lane;
      if (lane !== undefined) busy.delete(lane);
      for (const d of units[u]!.downstream) if (--units[d]!.waitingOn === 0) ready.push(d);
    };
    let cancelled: unknown;
    try {
      for (;;) {
        await condition(() => cancelled !== undefined || inFlight === 0 || canLaunch());
        if (cancelled !== undefined) throw cancelled;
        while (canLaunch()) {
          const [u] = ready.splice(nextReady(), 1);
          const unit = units[u!]!;
          const members = unit.members.filter((i) => this.state[i] === 'pending');
          inFlight++;
          if (unit.lane !== undefined) busy.add(unit.lane);
          if (members.length === 0) {
            release(u!); // every member was skipped: nothing to run
            continue;
          }
          this.launch(
            unit.batch,
            members,
            hooks,
            () => release(u!),
            (err) => (cancelled = err),
          );
        }
        if (inFlight === 0 && (ready.length === 0 || paused())) break;
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      // Let the children finish cancelling so nothing keeps running behind a cancelled run.
      await CancellationScope.nonCancellable(() => condition(() => inFlight === 0));
      throw err;
    }
    const remaining = this.steps.filter((_, i) => this.state[i] === 'pending');
    return { remaining, paused: remaining.length > 0 };
  }

  private launch(
    batch: boolean,
    members: readonly number[],
    hooks: DagHooks,
    onDone: () => void,
    onCancel: (err: unknown) => void,
  ): void {
    for (const i of members) this.state[i] = 'running';
    this.running += members.length;
    const steps = members.map((i) => this.steps[i]!);
    const results: Promise<readonly StepResult[]> =
      batch && hooks.runBatch ? hooks.runBatch(steps) : hooks.runStep(steps[0]!).then((r) => [r]);
    results.then(
      (rs) => {
        const byId = new Map(rs.map((r) => [r.stepId, r]));
        // Plan order: a member's upstream inside the batch finishes (or fails) before it.
        for (const i of members) {
          const r = byId.get(this.steps[i]!.id);
          if (r) this.finish(i, r, hooks);
          else this.finishWithoutResult(i, hooks);
        }
        onDone();
      },
      (err: unknown) => {
        if (isCancellation(err) && CancellationScope.current().consideredCancelled) {
          for (const i of members) this.state[i] = 'pending';
          this.running -= members.length;
          onDone();
          onCancel(err);
          return;
        }
        for (const i of members) {
          if (this.state[i] === 'running')
            this.finish(i, failedResult(this.steps[i]!.id, describeError(err)), hooks);
        }
        onDone();
      },
    );
  }

  /** A batch member the batch did not run: skipped when an upstream did not succeed, else failed. */
  private finishWithoutResult(i: number, hooks: DagHooks): void {
    const step = this.steps[i]!;
    const up = this.upstreamOf[i]!.find(
      (j) => this.state[j] === 'failed' || this.state[j] === 'skipped_upstream_failed',
    );
    if (up === undefined) {
      this.finish(i, failedResult(step.id, 'the batch returned no result for this step'), hooks);
      return;
    }
    this.running--;
    this.state[i] = 'skipped_upstream_failed';
    this.skipped++;
    hooks.onOutcome?.({
      stepId: step.id,
      status: 'skipped_upstream_failed',
      error: `upstream ${this.steps[up]!.id} failed`,
    });
  }

  private finish(i: number, result: StepResult, hooks: DagHooks): void {
    const step = this.steps[i]!;
    this.running--;
    if (result.status === 'success') {
      this.state[i] = 'success';
      this.done++;
      hooks.onOutcome?.({
        stepId: step.id,
        status: 'success',
        rowCount: result.rowCount,
        dataVersion: result.dataVersion,
        ...(result.quarantined ? { quarantined: result.quarantined } : {}),
      });
      return;
    }
    this.state[i] = 'failed';
    this.failed++;
    hooks.onOutcome?.({ stepId: step.id, status: 'failed', error: result.error ?? 'failed' });
    const stack = [...this.downstream[i]!];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (this.state[d] !== 'pending') continue;
      this.state[d] = 'skipped_upstream_failed';
      this.skipped++;
      hooks.onOutcome?.({
        stepId: this.steps[d]!.id,
        status: 'skipped_upstream_failed',
        error: `upstream ${step.id} failed`,
      });
      stack.push(...this.downstream[d]!);
    }
  }
}
