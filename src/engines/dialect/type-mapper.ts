/**
 * Engine type names → a small logical model, so schema evolution rules are written once (schema.ts)
 * and each engine only says how to read its own spellings.
 */

export type TypeFamily =
  | 'integer'
  | 'decimal'
  | 'float'
  | 'string'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'time'
  | 'interval'
  | 'binary'
  | 'uuid'
  | 'json'
  | 'nested'
  /** The type of a bare NULL in a select: fits any column. */
  | 'null'
  | 'other';

export interface LogicalType {
  readonly family: TypeFamily;
  /** The engine's spelling, normalized (upper case, single spaces). */
  readonly raw: string;
  /** Width order within the family (integer: bytes; float: 4/8); 0 when not comparable. */
  readonly rank: number;
  /** Unsigned integers (DuckDB UINTEGER...). */
  readonly unsigned?: boolean;
  readonly precision?: number;
  readonly scale?: number;
}

export interface TypeMapper {
  parse(raw: string): LogicalType;
  /** Spelling of a DECIMAL(precision, scale) in this engine. */
  decimal(precision: number, scale: number): string;
  /** Largest DECIMAL precision. */
  readonly maxDecimalPrecision: number;
}

export function normalizeTypeName(raw: string): string {
  return raw.trim().replace(/\s+/g, ' ').toUpperCase();
}
