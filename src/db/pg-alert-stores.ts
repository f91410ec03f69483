/** The alerts service's stores over one PostgreSQL database, one module per job (as alert-stores.ts for SQLite). */
import type { AlertStores } from '../core/alert-ports.js';
import { createPgDigestStore } from './pg-alert-digests.js';
import { createPgAlertEvaluationStore } from './pg-alert-evaluation.js';
import { createPgOutboxStore } from './pg-alert-outbox.js';
import { createPgSubscriptionStore } from './pg-alert-subscriptions.js';
import type { PgStoreDb } from './postgres.js';

export function createPgAlertStores(db: PgStoreDb): AlertStores {
  return {
    subscriptions: createPgSubscriptionStore(db),
    evaluation: createPgAlertEvaluationStore(db),
    outbox: createPgOutboxStore(db),
    digests: createPgDigestStore(db),
  };
}
