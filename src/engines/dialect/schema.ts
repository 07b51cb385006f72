import { SchemaEvolutionError } from '../errors.js';
import type { ColumnInfo, SchemaChange } from '../types.js';
import type { SqlDialect } from './dialect.js';
import type { LogicalType, TypeFamily } from './type-mapper.js';

/**
 * Schema evolution, planned without I/O: what to ALTER so rows of a select fit an existing table.
 * - a new column is added;
 * - a column the select no longer produces is kept (NULL from then on);
 * - a narrower type is written through an implicit cast; a wider one of the same family widens the column;
 * - anything else (VARCHAR→INTEGER, signedness flips, nested shape changes) is refused with a
 *   SchemaEvolutionError naming table, column, old and new types.
 */

export interface EvolutionPlan {
  readonly changes: SchemaChange[];
  readonly statements: string[];
}

/** Cross-family writes that never fail or lose the value's meaning: incoming family → table families. */
const SAFE_CROSS_FAMILY: Partial<Record<TypeFamily, readonly TypeFamily[]>> = {
  integer: ['decimal', 'float'],
  decimal: ['float'],
  date: ['timestamp', 'timestamptz'],
  // Naive timestamps are UTC by convention (DESIGN.md "Time"); sessions run in UTC.
  timestamp: ['timestamptz'],
};

/** Decimal digits an integer of `rank` bytes may need. */
const INTEGER_DIGITS: Readonly<Record<number, number>> = { 1: 3, 2: 5, 4: 10, 8: 20, 16: 39 };

type Decision =
  | { readonly kind: 'none' }
  | { readonly kind: 'widen'; readonly to: string }
  | { readonly kind: 'refuse'; readonly reason: string };

export function planSchemaEvolution(
  d: SqlDialect,
  table: string,
  existing: readonly ColumnInfo[],
  incoming: readonly ColumnInfo[],
): EvolutionPlan {
  const changes: SchemaChange[] = [];
  const statements: string[] = [];
  const byName = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  const incomingNames = new Set(incoming.map((c) => c.name.toLowerCase()));
  for (const col of incoming) {
    const old = byName.get(col.name.toLowerCase());
    if (!old) {
      const parsed = d.types.parse(col.type);
      const type = parsed.family === 'null' ? d.spell.textType : col.type;
      changes.push({ type: 'add_column', column: col.name, newType: type });
      statements.push(`ALTER TABLE ${d.table(table)} ADD COLUMN ${d.quote(col.name)} ${type}`);
      continue;
    }
    const decision = decide(d, d.types.parse(old.type), d.types.parse(col.type));
    if (decision.kind === 'refuse') {
      throw new SchemaEvolutionError(d.name, table, old.name, old.type, col.type, decision.reason);
    }
    if (decision.kind === 'widen') {
      if (!d.features.supportsAlterColumnType) {
        throw new SchemaEvolutionError(
          d.name,
          table,
          old.name,
          old.type,
          col.type,
          `widening needs dialect feature 'supportsAlterColumnType', which engine '${d.name}' does not support`,
        );
      }
      changes.push({ type: 'widen_column', column: old.name, oldType: old.type, newType: decision.to });
      statements.push(
        `ALTER TABLE ${d.table(table)} ALTER COLUMN ${d.quote(old.name)} SET DATA TYPE ${decision.to}`,
      );
    }
  }
  for (const col of existing) {
    if (!incomingNames.has(col.name.toLowerCase())) {
      changes.push({ type: 'keep_dropped', column: col.name, oldType: col.type });
    }
  }
  return { changes, statements };
}

function decide(d: SqlDialect, old: LogicalType, inc: LogicalType): Decision {
  if (old.raw === inc.raw || inc.family === 'null') return { kind: 'none' };
  if (old.family !== inc.family) {
    if (!SAFE_CROSS_FAMILY[inc.family]?.includes(old.family)) {
      return { kind: 'refuse', reason: `${inc.family} values do not fit a ${old.family} column` };
    }
    if (inc.family === 'integer' && old.family === 'decimal') {
      const intDigits = (old.precision ?? 0) - (old.scale ?? 0);
      if (intDigits < (INTEGER_DIGITS[inc.rank] ?? 39)) {
        return { kind: 'refuse', reason: `the decimal column has only ${intDigits} integer digits` };
      }
    }
    return { kind: 'none' };
  }
  switch (old.family) {
    case 'integer':
      return decideInteger(old, inc);
    case 'float':
      return inc.rank <= old.rank ? { kind: 'none' } : { kind: 'widen', to: inc.raw };
    case 'decimal': {
      const scale = Math.max(old.scale ?? 0, inc.scale ?? 0);
      const intDigits = Math.max(
        (old.precision ?? 0) - (old.scale ?? 0),
        (inc.precision ?? 0) - (inc.scale ?? 0),
      );
      if (scale === old.scale && intDigits + scale <= (old.precision ?? 0)) return { kind: 'none' };
      if (intDigits + scale > d.types.maxDecimalPrecision) {
        return {
          kind: 'refuse',
          reason: `no decimal holds ${intDigits} integer and ${scale} fractional digits`,
        };
      }
      return { kind: 'widen', to: d.types.decimal(intDigits + scale, scale) };
    }
    case 'nested':
    case 'other':
      return { kind: 'refuse', reason: 'nested and engine-specific types must match exactly' };
    default:
      // Same family, different spelling (VARCHAR(10) vs VARCHAR, TIMESTAMP_MS vs TIMESTAMP): implicit cast.
      return { kind: 'none' };
  }
}

function decideInteger(old: LogicalType, inc: LogicalType): Decision {
  const oldUnsigned = old.unsigned === true;
  const incUnsigned = inc.unsigned === true;
  if (oldUnsigned && !incUnsigned)
    return { kind: 'refuse', reason: 'signed values do not fit an unsigned column' };
  if (!oldUnsigned && incUnsigned) {
    return old.rank > inc.rank
      ? { kind: 'none' }
      : { kind: 'refuse', reason: 'unsigned values need a wider signed column; cast in the select' };
  }
  return inc.rank <= old.rank ? { kind: 'none' } : { kind: 'widen', to: inc.raw };
}
