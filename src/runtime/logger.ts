/** Structured logs: a pino logger, and an adapter so the Temporal SDK (Runtime, Worker) logs through it. */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

export function createPinoLogger(opts: { level?: string; name?: string } = {}): PinoLogger {
  return pino({ name: opts.name ?? 'tessera', level: opts.level ?? process.env.TESSERA_LOG_LEVEL ?? 'info' });
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Temporal's Logger interface over pino: `meta` becomes the structured fields. */
export function temporalLogger(logger: PinoLogger): TemporalLogger {
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void =>
      logger[LEVELS[level]](meta ?? {}, message);
  return {
    log: (level, message, meta) => at(level)(message, meta),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}
