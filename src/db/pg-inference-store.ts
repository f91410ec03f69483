/**
 * Inference counts and the indexer's cursor in PostgreSQL: the `InferenceStore` of inference-store.ts (read
 * its comment) on the pg schema. `commitChunk` moves the cursor (only from where the chunk started), adds
 * the counts in multi-row upserts and, through the participant store it was built with, the range's
 * participant findings, all in one transaction.
 */
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import type { IndexerStateRow, InferenceHour, InferenceStore, ModeCounts } from '../core/inferences.js';
import type { PgParticipantStore } from './pg-participant-store.js';
import { excluded } from './column-sql.js';
import { indexerState, inferenceHours, networkActivity } from './pg-schema/index.js';
import type { PgStoreDb } from './postgres.js';

/** Count rows a statement upserts (4 values each; PostgreSQL binds at most 65,535 a statement). */
const COUNT_ROWS = 1_000;

const modeKey = (mode: string) => (mode === 'vanilla' || mode === 'tee' || mode === 'zkml' ? mode : 'unknown');

/**
 * The store over a migrated PostgreSQL database. With `participants` (a store on the same database),
 * `commitChunk` writes a range's participant findings in its transaction.
 */
export function createPgInferenceStore(
  db: PgStoreDb,
  participants?: Pick<PgParticipantStore, 'writeInTransaction' | 'committed'>,
): InferenceStore {
  const h = inferenceHours;
  const s = indexerState;

  async function state(network: string): Promise<IndexerStateRow | null> {
    const [row] = await db.select().from(s).where(eq(s.network, network));
    return row ?? null;
  }

  return {
    state,
    async ensureState(network, fromBlock) {
      await db.insert(s).values({ network, fromBlock, nextBlock: fromBlock }).onConflictDoNothing();
      return (await state(network))!;
    },
    async commitChunk(c, found) {
      if (found && !participants)
        throw new Error('participant findings given to an inference store without a participant store');
      await db.transaction(async (tx) => {
        const moved = await tx
          .update(s)
          .set({
            nextBlock: c.nextBlock,
            undecodableLogs: sql`${s.undecodableLogs} + ${c.undecodableLogs}`,
            indexedBlockTimeMs: sql`coalesce(${c.indexedBlockTimeMs}::bigint, ${s.indexedBlockTimeMs})`,
          })
          .where(and(eq(s.network, c.network), eq(s.nextBlock, c.fromBlock)))
          .returning({ network: s.network });
        if (moved.length !== 1)
          throw new Error(`indexer cursor for ${c.network} is not at block ${c.fromBlock}; chunk not committed`);
        const rows = [...c.counts].map(([key, count]) => {
          const [hour, mode, kind] = key.split('|') as [string, string, string];
          return { hourMs: Number(hour), mode, kind, count };
        });
        for (let i = 0; i < rows.length; i += COUNT_ROWS) {
          await tx
            .insert(h)
            .values(rows.slice(i, i + COUNT_ROWS))
            .onConflictDoUpdate({
              target: [h.hourMs, h.mode, h.kind],
              set: { count: sql`${h.count} + ${excluded(h.count)}` },
            });
        }
        if (found) await participants!.writeInTransaction(tx, found);
      });
      if (found) participants!.committed();
    },
    async recordHead(network, headBlock, seenAtMs) {
      await db.update(s).set({ headBlock, headSeenAtMs: seenAtMs }).where(eq(s.network, network));
    },
    async recordRun(network, atMs, error) {
      const set =
        error === null
          ? { lastRunAtMs: atMs, lastError: null, lastErrorAtMs: null }
          : { lastRunAtMs: atMs, lastError: error, lastErrorAtMs: atMs };
      await db.update(s).set(set).where(eq(s.network, network));
    },
    async totals(sinceMs) {
      const rows = await db
        .select({ mode: h.mode, n: sql<number>`sum(${h.count})`.mapWith(Number) })
        .from(h)
        .where(sinceMs === undefined ? undefined : gte(h.hourMs, sinceMs))
        .groupBy(h.mode);
      const out: ModeCounts = { vanilla: 0, tee: 0, zkml: 0, unknown: 0, total: 0 };
      for (const { mode, n } of rows) {
        out[modeKey(mode)] += n;
        out.total += n;
      }
      return out;
    },
    async hourly(sinceMs) {
      const rows = await db
        .select({ hourMs: h.hourMs, mode: h.mode, n: sql<number>`sum(${h.count})`.mapWith(Number) })
        .from(h)
        .where(gte(h.hourMs, sinceMs))
        .groupBy(h.hourMs, h.mode)
        .orderBy(asc(h.hourMs));
      const hours: InferenceHour[] = [];
      for (const { hourMs, mode, n } of rows) {
        let last = hours[hours.length - 1];
        if (!last || last.hourMs !== hourMs) {
          last = { hourMs, vanilla: 0, tee: 0, zkml: 0, unknown: 0 };
          hours.push(last);
        }
        last[modeKey(mode)] += n;
      }
      return hours.filter((x) => x.vanilla + x.tee + x.zkml + x.unknown > 0);
    },
    async saveNetworkActivity(network, a) {
      const values = {
        totalTransactions: a.totalTransactions,
        transactionsToday: a.transactionsToday,
        fetchedAtMs: a.fetchedAtMs,
      };
      await db
        .insert(networkActivity)
        .values({ network, ...values })
        .onConflictDoUpdate({ target: networkActivity.network, set: values });
    },
    async networkActivity(network) {
      const [row] = await db.select().from(networkActivity).where(eq(networkActivity.network, network));
      return row
        ? {
            totalTransactions: row.totalTransactions,
            transactionsToday: row.transactionsToday,
            fetchedAtMs: row.fetchedAtMs,
          }
        : null;
    },
  };
}
