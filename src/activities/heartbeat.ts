import { Context } from '@temporalio/activity';

/** Heartbeats when running inside an activity; a no-op when called directly (tests, CLI). */
export function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Not in an activity context.
  }
}
