import type { ActivityExecuteInput, Next, ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { faultInterceptors, parseFaults } from '../../src/runtime/faults.js';

class Killed extends Error {}

/** Runs `types` through the interceptors in order; returns what ran and where the kill came. */
async function drive(spec: string, types: string[]) {
  const parsed = parseFaults(spec);
  if (!parsed) throw new Error('no spec');
  const [factory] = faultInterceptors(parsed, () => {
    throw new Killed();
  });
  const ran: string[] = [];
  for (const [i, type] of types.entries()) {
    const ctx = { info: { activityType: type } } as unknown as Context;
    const inbound: ActivityInboundCallsInterceptor | undefined = factory?.(ctx).inbound;
    const body: Next<ActivityInboundCallsInterceptor, 'execute'> = () => {
      ran.push(`${type}#${i}`);
      return Promise.resolve(i);
    };
    try {
      if (inbound?.execute) await inbound.execute({} as ActivityExecuteInput, body);
      else await body({} as ActivityExecuteInput);
    } catch (e) {
      if (e instanceof Killed) return { ran, killedAt: i };
      throw e;
    }
  }
  return { ran, killedAt: undefined };
}

describe('fault injection (TESSERA_FAULTS)', () => {
  it('is off when unset and refuses a malformed spec with the expected form', () => {
    expect(parseFaults(undefined)).toBeUndefined();
    expect(parseFaults(' ')).toBeUndefined();
    expect(() => parseFaults('kill:0:end')).toThrow(/kill:<n>:<start\|end>/);
    expect(() => parseFaults('kill:2:middle')).toThrow(/TESSERA_FAULTS/);
  });

  it('kills before the n-th step runs, counting steps only', async () => {
    const r = await drive('kill:2:start', [
      'planBackfillWindows',
      'materializeStep',
      'recordX',
      'materializeStep',
    ]);
    expect(r).toEqual({ ran: ['planBackfillWindows#0', 'materializeStep#1', 'recordX#2'], killedAt: 3 });
  });

  it('kills after the n-th step ran, before its result is reported', async () => {
    const r = await drive('kill:1:end', ['materializeStep', 'materializeStep']);
    expect(r).toEqual({ ran: ['materializeStep#0'], killedAt: 0 });
  });
});
