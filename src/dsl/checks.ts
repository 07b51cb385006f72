import { z } from 'zod';
import type { CheckDefinition, CheckSpec } from './types.js';

/**
 * Check builders, so an asset says `checks: [unique('order_id'), rowCount({ min: 1 })]`.
 * Make one non-blocking or rename it with a spread: `{ ...unique('email'), blocking: false }`.
 */

export const unique = (...columns: string[]): CheckSpec => ({ type: 'unique', columns });
export const notNull = (...columns: string[]): CheckSpec => ({ type: 'not_null', columns });
export const rowCount = (bounds: { readonly min?: number; readonly max?: number }): CheckSpec => ({
  type: 'row_count',
  ...bounds,
});
/** Every `column` value exists in `to`.`toColumn` (referential integrity). */
export const relationship = (column: string, to: string, toColumn: string): CheckSpec => ({
  type: 'relationship',
  column,
  to,
  toColumn,
});
export const acceptedValues = (column: string, values: readonly string[]): CheckSpec => ({
  type: 'accepted_values',
  column,
  values,
});
export const freshness = (column: string, maxLagMinutes: number): CheckSpec => ({
  type: 'freshness',
  column,
  maxLagMinutes,
});
export const quarantineRate = (max: number): CheckSpec => ({ type: 'quarantine_rate', max });
/** SQL returning failing rows; passes when it returns none. Name it: the name shows in alerts. */
export const sqlCheck = (name: string, sql: string): CheckSpec => ({ type: 'sql', name, sql });

/** Default names read like the builder call: `unique(user_id)`, `row_count(min=1)`. */
export function defaultCheckName(spec: CheckSpec): string {
  switch (spec.type) {
    case 'unique':
    case 'not_null':
      return `${spec.type}(${spec.columns.join(',')})`;
    case 'row_count': {
      const bounds = [
        ...(spec.min !== undefined ? [`min=${spec.min}`] : []),
        ...(spec.max !== undefined ? [`max=${spec.max}`] : []),
      ];
      return `row_count(${bounds.join(',')})`;
    }
    case 'relationship':
      return `relationship(${spec.column}->${spec.to}.${spec.toColumn})`;
    case 'accepted_values':
    case 'freshness':
      return `${spec.type}(${spec.column})`;
    case 'quarantine_rate':
      return `quarantine_rate(max=${spec.max})`;
    case 'scd2_intervals':
    case 'sql':
      return spec.type;
  }
}

export function resolveCheck(spec: CheckSpec): CheckDefinition {
  return { ...spec, name: spec.name ?? defaultCheckName(spec), blocking: spec.blocking ?? true };
}

const column = z.string().min(1, { error: 'must be a column name' });
const columns = z.array(column).min(1, { error: 'must name at least one column' });
const nonNegative = z.number().nonnegative({ error: 'must be >= 0' });
const base = { name: z.string().min(1).optional(), blocking: z.boolean().optional() };

/** zod schema of a CheckSpec, used by asset() to validate user input. */
export const checkSpecSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ ...base, type: z.literal('unique'), columns }),
    z.strictObject({ ...base, type: z.literal('not_null'), columns }),
    z
      .strictObject({
        ...base,
        type: z.literal('row_count'),
        min: nonNegative.optional(),
        max: nonNegative.optional(),
      })
      .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, {
        error: 'min must be <= max',
      }),
    z.strictObject({
      ...base,
      type: z.literal('relationship'),
      column,
      to: z.string().min(1, { error: 'must be an asset key' }),
      toColumn: column,
    }),
    z.strictObject({
      ...base,
      type: z.literal('accepted_values'),
      column,
      values: z.array(z.string()).min(1, { error: 'must list at least one value' }),
    }),
    z.strictObject({ ...base, type: z.literal('scd2_intervals') }),
    z.strictObject({
      ...base,
      type: z.literal('freshness'),
      column,
      maxLagMinutes: z.number().positive({ error: 'must be > 0' }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('quarantine_rate'),
      max: z.number().min(0).max(1, { error: 'must be a fraction between 0 and 1' }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('sql'),
      sql: z.string().trim().min(1, { error: 'must not be empty' }),
    }),
  ],
  {
    error:
      'type must be one of unique, not_null, row_count, relationship, accepted_values, scd2_intervals, freshness, quarantine_rate, sql',
  },
);
