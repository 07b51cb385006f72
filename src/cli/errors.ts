/** Exit codes every command agrees on. */
export const EXIT_OK = 0;
/** Assets, checks or runs failed. */
export const EXIT_FAILED = 1;
/** The command line was wrong: bad argument, unknown asset, bad date, malformed selection. */
export const EXIT_USAGE = 2;

/** A mistake in what the user typed; printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
