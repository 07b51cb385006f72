/**
 * alertWorkflow: delivers one alert, each route on its own. Started by `alert()` (step.ts) as an abandoned child
 * with the id `tessera/alert/<scope>/<kind>/<subject>/<partition>/<run>`, so an alert exists once per failed asset
 * partition (or group partition) per run whoever asks again, and the run that raised it never waits for delivery:
 * a webhook answering 500 is retried here, with backoff, while the data moves on. Each route is one activity
 * with its own retries: a broken route never makes a healthy one deliver twice.
 */
import { log, workflowInfo } from '@temporalio/workflow';
import type { Alert } from '../activities/types.js';
import { control, delivering } from './activities.js';
import { describeError } from './step.js';

export interface AlertWorkflowInput {
  readonly alert: Alert;
}

export interface AlertDelivery {
  readonly route: string;
  readonly delivered: boolean;
  readonly error?: string;
}

export async function alertWorkflow(input: AlertWorkflowInput): Promise<AlertDelivery[]> {
  const routes = await control.alertRoutes(input.alert);
  return Promise.all(
    routes.map(async (route): Promise<AlertDelivery> => {
      try {
        await delivering.deliverAlert({ alert: input.alert, route });
        return { route, delivered: true };
      } catch (err) {
        const error = describeError(err);
        log.warn('alert not delivered', { route, error, workflowId: workflowInfo().workflowId });
        return { route, delivered: false, error };
      }
    }),
  );
}
