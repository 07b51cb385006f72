/** Temporal connection settings, validated; from the environment (or config/ once the lead wires it). */
import { z } from 'zod';

export const TemporalConfigSchema = z.object({
  /** gRPC frontend, host:port. */
  address: z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port'),
  namespace: z.string().min(1),
  taskQueue: z.string().min(1),
  /** Web UI base, used in alert links. */
  uiBaseUrl: z.url(),
});
export type TemporalConfig = z.infer<typeof TemporalConfigSchema>;

/**
 * TESSERA_TEMPORAL_ADDRESS (default 127.0.0.1:${TESSERA_TEMPORAL_PORT:-7233}), TESSERA_TEMPORAL_NAMESPACE
 * (default), TESSERA_TASK_QUEUE (tessera), TESSERA_TEMPORAL_UI_URL (http://127.0.0.1:${TESSERA_TEMPORAL_UI_PORT:-8233}).
 */
export function temporalConfigFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: Partial<TemporalConfig> = {},
): TemporalConfig {
  return TemporalConfigSchema.parse({
    address: env.TESSERA_TEMPORAL_ADDRESS ?? `127.0.0.1:${env.TESSERA_TEMPORAL_PORT ?? '7233'}`,
    namespace: env.TESSERA_TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TESSERA_TASK_QUEUE ?? 'tessera',
    uiBaseUrl: env.TESSERA_TEMPORAL_UI_URL ?? `http://127.0.0.1:${env.TESSERA_TEMPORAL_UI_PORT ?? '8233'}`,
    ...overrides,
  });
}
