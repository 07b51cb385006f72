/**
 * Errors raised by sources. `retryable`: running the same batch again can succeed (a connection
 * dropped). `alertable`: a person must act (the batch stays where it is until then); the lead's
 * activities map non-retryable ones to non-retryable failures and route them to alerts.
 */
export class SourceError extends Error {
  readonly retryable: boolean;
  readonly alertable: boolean;

  constructor(
    readonly source: string,
    message: string,
    opts: { retryable?: boolean; alertable?: boolean; cause?: unknown } = {},
  ) {
    super(`[${source}] ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.retryable = opts.retryable ?? false;
    this.alertable = opts.alertable ?? !this.retryable;
  }
}

/**
 * A PostgreSQL (pg) error as a SourceError. Retryable: a lost connection (no SQLSTATE, class 08, 57P01 admin
 * shutdown) and 55006 (the slot is in use by another process, e.g. a walsender that has not let go yet).
 */
export function pgSourceError(source: string, e: unknown): SourceError {
  if (e instanceof SourceError) return e;
  const code = (e as { code?: string }).code;
  const retryable = code === undefined || code === '55006' || code.startsWith('08') || code === '57P01';
  return new SourceError(source, e instanceof Error ? e.message : String(e), { retryable, cause: e });
}

export interface IncompatibleColumn {
  readonly table: string;
  readonly column: string;
  readonly oldType: string;
  readonly newType: string;
}

/**
 * A column changed type in a way the raw table cannot hold (e.g. bigint → varchar). The batch was
 * quarantined (raw.quarantine, one record per change) and NOT confirmed: the slot or offset stays,
 * so after a fix (alter the raw column, or drop and rebuild the raw table) the next poll lands it.
 */
export class SchemaDriftError extends SourceError {
  constructor(
    source: string,
    readonly columns: readonly IncompatibleColumn[],
    readonly quarantined: number,
  ) {
    super(
      source,
      `incompatible column type change: ${columns
        .map((c) => `${c.table}.${c.column} ${c.oldType} → ${c.newType}`)
        .join(', ')}; ${quarantined} change(s) quarantined in raw.quarantine, source paused at this batch. ` +
        `Alter the raw column to a type that holds both, then poll again.`,
      { alertable: true },
    );
  }
}

/** The replication slot a source was reading is gone: changes since its last position are lost. */
export class SlotLostError extends SourceError {
  constructor(
    source: string,
    readonly slot: string,
  ) {
    super(
      source,
      `replication slot ${slot} no longer exists but its snapshot was landed; changes since the last batch ` +
        `are lost. Re-initialise with { resnapshot: true } to take a new snapshot.`,
      { alertable: true },
    );
  }
}

/** Bad or missing configuration (e.g. a hash rule without a key). */
export class SourceConfigError extends SourceError {}
