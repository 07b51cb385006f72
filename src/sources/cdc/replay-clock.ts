import { canonicalTimestamp } from './canonical.js';
import type { LogicalTransaction } from './logical.js';

/**
 * Simulation hook: a replayed history (the simulator writing weeks of activity into PostgreSQL in seconds)
 * carries each transaction's simulated commit time in a transactional logical message
 * `pg_logical_emit_message(true, REPLAY_CLOCK_PREFIX, '<ISO commit time>')`. A capture configured with
 * `replayClock: true` takes the commit time from that message, so `_commit_time`, SCD2 `valid_from` and
 * daily partitions follow simulated time. Production databases never emit it, and the capture ignores it
 * unless configured to read it, so nobody with write access can forge commit times by accident.
 */
export const REPLAY_CLOCK_PREFIX = 'tessera_replay_clock';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** The transaction with its commit time replaced by the replay clock's, when it carries one. */
export function withReplayClock(tx: LogicalTransaction): LogicalTransaction {
  const clock = tx.messages.find((m) => m.prefix === REPLAY_CLOCK_PREFIX);
  if (!clock || !ISO_UTC.test(clock.content)) return tx;
  return { ...tx, commitTime: canonicalTimestamp(clock.content) };
}
