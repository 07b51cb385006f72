/**
 * Errors raised by engines. Each names the engine and enough facts to act on without reading code.
 * `retryable` tells activities whether running the same call again can succeed (e.g. a write conflict).
 */

export class EngineError extends Error {
  constructor(
    readonly engine: string,
    message: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(`[${engine}] ${message}`, options);
    this.name = new.target.name;
  }
}

/** The dialect lacks a feature the requested SQL needs; the renderer refuses rather than emit wrong SQL. */
export class UnsupportedFeatureError extends EngineError {
  constructor(
    engine: string,
    readonly feature: string,
    what: string,
  ) {
    super(engine, `${what} needs dialect feature '${feature}', which engine '${engine}' does not support`);
  }
}

/** A select's schema cannot be applied to an existing table without losing or corrupting data. */
export class SchemaEvolutionError extends EngineError {
  constructor(
    engine: string,
    readonly table: string,
    readonly column: string,
    readonly oldType: string,
    readonly newType: string,
    reason: string,
  ) {
    super(
      engine,
      `cannot evolve ${table}.${column} from ${oldType} to ${newType}: ${reason}. ` +
        `Rename the column, cast it in the select, or rebuild the table.`,
    );
  }
}

/** A partition replace whose select produced rows outside the partition (they would survive re-runs). */
export class PartitionMismatchError extends EngineError {
  constructor(
    engine: string,
    readonly table: string,
    readonly partition: string,
    readonly outsideRows: number,
  ) {
    super(
      engine,
      `${outsideRows} row(s) produced for ${table} partition ${partition} fall outside it; ` +
        `filter the select to the partition (e.g. with {{ partition_start }}/{{ partition_end }})`,
    );
  }
}

/** Change rows an SCD2 merge cannot apply: bad ops, NULL keys or ordering, or a batch older than the table. */
export class Scd2InputError extends EngineError {}
