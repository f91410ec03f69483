/**
 * What the PostgreSQL store takes from settings, with no driver loaded (config validation reads it): how
 * to show a connection URL without its credentials, the advisory lock keys, the shortest leader takeover.
 */

/**
 * The smallest `LEADER_TAKEOVER_SECONDS`: the server counts keepalive probes in whole seconds (see
 * leader-elector.ts).
 */
export const MIN_TAKEOVER_SECONDS = 6;

/**
 * Advisory lock keys (the two-int form: this namespace, then the key), so the bot's locks never meet
 * another application's on a shared server.
 */
export const ADVISORY_LOCK_NAMESPACE = 0x4f5047; // 'OPG'
export const MIGRATION_LOCK_KEY = 1;
export const LEADER_LOCK_KEY = 2;
/**
 * Held by an alert evaluation for its transaction, so two overlapping leaders never evaluate at once; and by
 * a listing alert's write (pg-listing-alert-store.ts), which sets chats' cooldowns as an evaluation does.
 */
export const EVALUATION_LOCK_KEY = 3;
/** Held while a tickers reading is recorded, so two overlapping leaders record readings one at a time. */
export const MARKETS_LOCK_KEY = 4;

/** The parts of a connection URL that are safe to show: scheme, host, port and database. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port ? `:${u.port}` : '';
    return `${u.protocol}//${u.hostname}${port}${u.pathname}`;
  } catch {
    return 'a PostgreSQL URL that does not parse';
  }
}

/** The URL's password (as written and decoded), to scrub from anything shown. */
export function postgresUrlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    if (!u.password) return [];
    const decoded = decodeURIComponent(u.password);
    return decoded === u.password ? [u.password] : [u.password, decoded];
  } catch {
    return [];
  }
}

/** `text` with every secret replaced, for error messages built from a driver's words. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join('[redacted]');
  return out;
}

/** Why a connection or query failed, in the driver's words (and its detail, if any), with any secret taken out. */
export function failureReason(err: unknown, secrets: readonly string[]): string {
  let e = err as (Error & { errors?: unknown[]; detail?: string; code?: string; cause?: unknown }) | undefined;
  // drizzle wraps a driver's error in one that quotes the whole query and every parameter: use the driver's.
  while (e?.message?.startsWith('Failed query:') && e.cause) e = e.cause as typeof e;
  // node-postgres hands on an AggregateError (one per address tried) with an empty message.
  if (!e?.message && Array.isArray(e?.errors) && e.errors.length > 0) e = e.errors[0] as typeof e;
  const text = e?.message || e?.code || String(err);
  return withoutSecrets(e?.detail ? `${text}: ${e.detail}` : text, secrets);
}
