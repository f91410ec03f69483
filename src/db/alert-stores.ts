/** The alerts service's stores over one SQLite database, one module per job. */
import type { AlertStores } from '../core/alert-ports.js';
import { createDigestStore } from './alert-digests.js';
import { createAlertEvaluationStore } from './alert-evaluation.js';
import { createOutboxStore } from './alert-outbox.js';
import { createSubscriptionStore } from './alert-subscriptions.js';
import type { Database } from './open.js';

export function createAlertStores(database: Database): AlertStores {
  return {
    subscriptions: createSubscriptionStore(database),
    evaluation: createAlertEvaluationStore(database),
    outbox: createOutboxStore(database),
    digests: createDigestStore(database),
  };
}
