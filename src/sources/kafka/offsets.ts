import type { Admin } from 'kafkajs';
import pRetry from 'p-retry';

/** One partition's committed offset for a group; `-1` when the group never committed there. */
export interface CommittedOffset {
  readonly partition: number;
  readonly offset: string;
}

/**
 * The group's committed offsets on one topic. kafkajs's admin does not retry this call, and right after a
 * broker starts (or the offsets topic moves) the coordinator answers NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS
 * for a few hundred milliseconds; those errors are marked retriable, so retry them with backoff.
 */
export async function fetchCommittedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<CommittedOffset[]> {
  return pRetry(
    async () => {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (t?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset }));
    },
    {
      retries: 8,
      minTimeout: 100,
      maxTimeout: 2_000,
      shouldRetry: ({ error }) => isRetriableKafkaError(error),
    },
  );
}

function isRetriableKafkaError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}
