import { EngineError } from '../errors.js';
import type { SqlDialect } from './dialect.js';

/**
 * Placeholders of an asset's SQL (see AssetSpec.sql), rendered as this dialect's literals:
 * {{ partition_start }} / {{ partition_end }} (timestamps), {{ partition_key }}, {{ partition.<dimension> }},
 * and in checks {{ this }}: the table being checked (a mart's `__build` table before publication).
 * An unknown or unavailable placeholder is an error, never left in the SQL.
 */
export interface TemplateContext {
  readonly partitionKey?: string;
  /** ISO-8601 instants of the partition's window. */
  readonly partitionStart?: string;
  readonly partitionEnd?: string;
  /** Dimension name → key, for multi partitions. */
  readonly partition?: Readonly<Record<string, string>>;
  /** `schema.name` of the table being checked (SQL checks). */
  readonly this?: string;
}

export function renderTemplate(d: SqlDialect, sql: string, ctx: TemplateContext): string {
  return sql.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, (_match, name: string) => {
    const missing = (): never => {
      throw new EngineError(d.name, `placeholder {{ ${name} }} has no value for this materialization`);
    };
    switch (name) {
      case 'partition_start':
        return ctx.partitionStart === undefined ? missing() : d.timestampLiteral(ctx.partitionStart);
      case 'partition_end':
        return ctx.partitionEnd === undefined ? missing() : d.timestampLiteral(ctx.partitionEnd);
      case 'partition_key':
        return ctx.partitionKey === undefined ? missing() : d.literal(ctx.partitionKey);
      case 'this':
        return ctx.this === undefined ? missing() : d.table(ctx.this);
      default: {
        if (!name.startsWith('partition.')) {
          throw new EngineError(d.name, `unknown placeholder {{ ${name} }}`);
        }
        const value = ctx.partition?.[name.slice('partition.'.length)];
        return value === undefined ? missing() : d.literal(value);
      }
    }
  });
}
