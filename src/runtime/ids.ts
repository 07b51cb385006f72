/**
 * Workflow and schedule ids. Pure (imported by workflow code). The per-step id is the lock that keeps two
 * triggers from building the same partition at once: Temporal allows one running workflow per id.
 */

export const ID_PREFIX = 'tessera';

/**
 * `tessera/step/<scope>/<assetKey>/<partitionKey>`; an unpartitioned asset's key is '' (the id then ends in '/').
 * The scope is the deployment (its task queue): deployments sharing a namespace never wait on each other's steps.
 */
export const stepWorkflowId = (assetKey: string, partitionKey: string, scope: string): string =>
  `${ID_PREFIX}/step/${scope}/${assetKey}/${partitionKey}`;

/** The id before deployment scopes (kept for workflows recorded before them: see `STEP_ID_SCOPE_PATCH`). */
export const unscopedStepWorkflowId = (assetKey: string, partitionKey: string): string =>
  `${ID_PREFIX}/step/${assetKey}/${partitionKey}`;

/** A one-off materialization run; `suffix` makes it unique (a uuid or a timestamp). */
export const materializeWorkflowId = (suffix: string): string => `${ID_PREFIX}/run/${suffix}`;

export const backfillWorkflowId = (backfillId: string): string => `${ID_PREFIX}/backfill/${backfillId}`;

/**
 * `tessera/publish/<scope>/<group>/<partitionKey>`, scoped by deployment (task queue) like step ids; without a
 * scope, the id publishes had before scopes (replays of ticks recorded then).
 */
export const publishWorkflowId = (group: string, partitionKey: string, scope?: string): string =>
  scope === undefined
    ? `${ID_PREFIX}/publish/${group}/${partitionKey}`
    : `${ID_PREFIX}/publish/${scope}/${group}/${partitionKey}`;

/**
 * One per freshness breach of a partition in a deployment: its id dedupes the alert (a closed workflow keeps its id
 * taken for the namespace's retention, so later checks of the same breach alert nothing).
 */
export const freshnessWorkflowId = (assetKey: string, partitionKey: string, scope: string): string =>
  `${ID_PREFIX}/freshness/${scope}/${assetKey}/${partitionKey}`;

/**
 * One per alert: kind, asset (or group) and partition, per run of a deployment. Started with REJECT_DUPLICATE, so
 * asking twice (a retried workflow task, a step awaited by two runs) still alerts once.
 */
export const alertWorkflowId = (
  scope: string,
  kind: string,
  subject: string,
  partitionKey: string,
  runId: string,
): string => `${ID_PREFIX}/alert/${scope}/${kind}/${subject}/${partitionKey}/${runId}`;

export const SCHEDULE_ID_PREFIX = `${ID_PREFIX}/schedule/`;

export const scheduleId = (name: string): string => `${SCHEDULE_ID_PREFIX}${name}`;

/** Base id of the workflows a schedule starts (Temporal appends the scheduled time). */
export const tickWorkflowId = (scheduleName: string): string => `${ID_PREFIX}/tick/${scheduleName}`;

export const scheduleNameFromId = (id: string): string | undefined =>
  id.startsWith(SCHEDULE_ID_PREFIX) ? id.slice(SCHEDULE_ID_PREFIX.length) : undefined;
