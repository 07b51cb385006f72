/**
 * Fault injection for chaos tests: `TESSERA_FAULTS=kill:<n>:<point>` makes a worker SIGKILL itself at the n-th
 * step (materializeStep activity) it runs, either before the step's body starts (`start`) or after it returned but
 * before Temporal heard of the result (`end`: the write is committed, the retry must not repeat it). A kill from inside lands at
 * exactly the moments that matter, which a signal from outside only hits by chance, and it needs no clock.
 * Unset in production; an unparsable value stops the worker at start-up rather than being ignored.
 */
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { z } from 'zod';

export const FAULTS_ENV = 'TESSERA_FAULTS';

const faultSpecSchema = z
  .string()
  .regex(/^kill:[1-9]\d*:(start|end)$/, `${FAULTS_ENV} takes kill:<n>:<start|end>, e.g. kill:3:end`)
  .transform((s) => {
    const [, n, point] = s.split(':') as [string, string, 'start' | 'end'];
    return { kind: 'kill' as const, atActivity: Number(n), point };
  });

export type FaultSpec = z.output<typeof faultSpecSchema>;

/** Undefined when the variable is unset or empty; throws with the expected form when it is malformed. */
export function parseFaults(value: string | undefined): FaultSpec | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = faultSpecSchema.safeParse(value.trim());
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** SIGKILL, not exit(): no handler, no flush, no graceful shutdown — what a crashed host looks like. */
function die(): never {
  process.kill(process.pid, 'SIGKILL');
  // process.kill delivers SIGKILL synchronously to ourselves; this line is never reached.
  throw new Error('unreachable');
}

/** The activity that writes: the one whose crash windows matter. */
const STEP_ACTIVITY = 'materializeStep';

/** Activity interceptors that carry out `spec` (one counter per worker process). */
export function faultInterceptors(spec: FaultSpec, kill: () => never = die): ActivityInterceptorsFactory[] {
  let started = 0;
  const factory: ActivityInterceptorsFactory = (ctx) => {
    if (ctx.info.activityType !== STEP_ACTIVITY) return {};
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const n = ++started;
        if (n === spec.atActivity && spec.point === 'start') kill();
        const result: unknown = await next(input);
        if (n === spec.atActivity && spec.point === 'end') kill();
        return result;
      },
    };
    return { inbound };
  };
  return [factory];
}
