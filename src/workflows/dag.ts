/**
 * Deterministic DAG executor (workflow code): runs plan steps in dependency order with at most `concurrency`
 * in flight. A failed step marks its transitive downstream `skipped_upstream_failed`; unrelated steps run on.
 * Upstream ids that are not in the step list count as satisfied (done earlier, or outside the plan).
 */
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import type { StepResult } from '../activities/types.js';
import type { PlanStep } from '../planner/types.js';
import { describeError, failedResult } from './step.js';
import type { Progress, StepOutcome } from './types.js';

type State = 'pending' | 'running' | 'success' | 'failed' | 'skipped_upstream_failed';

export interface DagHooks {
  runStep(step: PlanStep): Promise<StepResult>;
  /** Every finished or skipped step, in completion order. */
  onOutcome?(outcome: StepOutcome): void;
  /** When true, no new step starts; run() returns once the steps in flight finish. */
  shouldPause?(): boolean;
}

export interface DagRunResult {
  /** Steps not started (because of a pause), in plan order. */
  readonly remaining: readonly PlanStep[];
  readonly paused: boolean;
}

export class Dag {
  private readonly state: State[];
  private readonly waitingOn: number[];
  private readonly downstream: number[][];
  private readonly ready: number[] = [];
  private readyHead = 0;
  private inFlight = 0;
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
    this.waitingOn = steps.map((s, i) => {
      let n = 0;
      for (const up of new Set(s.upstream)) {
        const j = index.get(up);
        if (j === undefined) continue;
        this.downstream[j]!.push(i);
        n++;
      }
      if (n === 0) this.ready.push(i);
      return n;
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
      running: this.inFlight,
      pending: this.steps.length - this.done - this.failed - this.skipped - this.inFlight,
      runningSteps,
    };
  }

  async run(hooks: DagHooks): Promise<DagRunResult> {
    const paused = (): boolean => hooks.shouldPause?.() ?? false;
    const hasReady = (): boolean => this.readyHead < this.ready.length;
    let cancelled: unknown;
    try {
      for (;;) {
        await condition(
          () =>
            cancelled !== undefined ||
            this.inFlight === 0 ||
            (this.inFlight < this.concurrency && hasReady() && !paused()),
        );
        if (cancelled !== undefined) throw cancelled;
        while (this.inFlight < this.concurrency && hasReady() && !paused()) {
          this.launch(this.ready[this.readyHead++]!, hooks, (err) => (cancelled = err));
        }
        if (this.inFlight === 0 && (!hasReady() || paused())) break;
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      // Let the children finish cancelling so nothing keeps running behind a cancelled run.
      await CancellationScope.nonCancellable(() => condition(() => this.inFlight === 0));
      throw err;
    }
    const remaining = this.steps.filter((_, i) => this.state[i] === 'pending');
    return { remaining, paused: remaining.length > 0 };
  }

  private launch(i: number, hooks: DagHooks, onCancel: (err: unknown) => void): void {
    const step = this.steps[i]!;
    this.state[i] = 'running';
    this.inFlight++;
    hooks.runStep(step).then(
      (result) => this.finish(i, result, hooks),
      (err: unknown) => {
        if (isCancellation(err) && CancellationScope.current().consideredCancelled) {
          this.state[i] = 'pending';
          this.inFlight--;
          onCancel(err);
          return;
        }
        this.finish(i, failedResult(step.id, describeError(err)), hooks);
      },
    );
  }

  private finish(i: number, result: StepResult, hooks: DagHooks): void {
    const step = this.steps[i]!;
    this.inFlight--;
    if (result.status === 'success') {
      this.state[i] = 'success';
      this.done++;
      hooks.onOutcome?.({
        stepId: step.id,
        status: 'success',
        rowCount: result.rowCount,
        dataVersion: result.dataVersion,
      });
      for (const d of this.downstream[i]!) {
        if (--this.waitingOn[d]! === 0 && this.state[d] === 'pending') this.ready.push(d);
      }
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
