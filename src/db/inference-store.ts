/**
 * Inference counts and the indexer's cursor. The one write that matters, `commitChunk`, adds a chunk's
 * hourly counts (and, through the participant store it was built with, the range's participant findings)
 * and moves the cursor in a single SQLite transaction, and only if the cursor is still where the chunk
 * started: a chunk redone after a crash was either fully committed (and the cursor moved past it) or not at
 * all, so nothing is counted twice and no block range is skipped.
 */
import { and, eq, gte, sql } from 'drizzle-orm';
import type { ChunkCommit, IndexerStateRow, InferenceHour, InferenceStore, ModeCounts } from '../core/inferences.js';
import type { ParticipantChunk } from '../core/participants.js';

export type { InferenceStore } from '../core/inferences.js';
import type { Database } from './open.js';
import type { SqliteParticipantStore } from './participant-store.js';
import { indexerState, inferenceHours, networkActivity } from './schema/index.js';
import { bare, excluded, param, sqlText } from './statement.js';

function emptyCounts(): ModeCounts {
  return { vanilla: 0, tee: 0, zkml: 0, unknown: 0, total: 0 };
}

/**
 * The store over an opened, migrated database; statements are prepared once. With `participants` (a store
 * on the same database), `commitChunk` writes a range's participant findings in its transaction.
 */
export function createInferenceStore(
  database: Database,
  participants?: Pick<SqliteParticipantStore, 'writeInTransaction' | 'committed'>,
): InferenceStore {
  const { db, sqlite } = database;
  const h = inferenceHours;
  const s = indexerState;
  const addCount = sqlite.prepare(
    sqlText(sql`insert into ${h} (${bare(h.hourMs)}, ${bare(h.mode)}, ${bare(h.kind)}, ${bare(h.count)})
      values (${param}, ${param}, ${param}, ${param})
      on conflict (${bare(h.hourMs)}, ${bare(h.mode)}, ${bare(h.kind)}) do update
        set ${bare(h.count)} = ${h.count} + ${excluded(h.count)}`),
  );
  const moveCursor = sqlite.prepare(
    sqlText(sql`update ${s}
      set ${bare(s.nextBlock)} = ${param}, ${bare(s.undecodableLogs)} = ${s.undecodableLogs} + ${param},
        ${bare(s.indexedBlockTimeMs)} = coalesce(${param}, ${s.indexedBlockTimeMs})
      where ${s.network} = ${param} and ${s.nextBlock} = ${param}`),
  );
  const commitChunk = sqlite.transaction((c: ChunkCommit, found?: ParticipantChunk) => {
    const moved = moveCursor.run(c.nextBlock, c.undecodableLogs, c.indexedBlockTimeMs, c.network, c.fromBlock);
    if (moved.changes !== 1)
      throw new Error(`indexer cursor for ${c.network} is not at block ${c.fromBlock}; chunk not committed`);
    for (const [key, n] of c.counts) {
      const [hour, mode, kind] = key.split('|');
      addCount.run(Number(hour), mode, kind, n);
    }
    if (found) participants!.writeInTransaction(found);
  });

  function state(network: string): IndexerStateRow | null {
    return db.select().from(indexerState).where(eq(indexerState.network, network)).get() ?? null;
  }

  return {
    state: async (network) => state(network),
    async ensureState(network, fromBlock) {
      db.insert(indexerState).values({ network, fromBlock, nextBlock: fromBlock }).onConflictDoNothing().run();
      return state(network)!;
    },
    async commitChunk(c, found) {
      if (found && !participants)
        throw new Error('participant findings given to an inference store without a participant store');
      commitChunk(c, found);
      if (found) participants!.committed();
    },
    async recordHead(network, headBlock, seenAtMs) {
      db.update(indexerState).set({ headBlock, headSeenAtMs: seenAtMs }).where(eq(indexerState.network, network)).run();
    },
    async recordRun(network, atMs, error) {
      const set =
        error === null
          ? { lastRunAtMs: atMs, lastError: null, lastErrorAtMs: null }
          : { lastRunAtMs: atMs, lastError: error, lastErrorAtMs: atMs };
      db.update(indexerState).set(set).where(eq(indexerState.network, network)).run();
    },
    async totals(sinceMs) {
      const rows = db
        .select({ mode: inferenceHours.mode, n: sql<number>`sum(${inferenceHours.count})` })
        .from(inferenceHours)
        .where(sinceMs === undefined ? undefined : gte(inferenceHours.hourMs, sinceMs))
        .groupBy(inferenceHours.mode)
        .all();
      const out = emptyCounts();
      for (const { mode, n } of rows) {
        const key = mode === 'vanilla' || mode === 'tee' || mode === 'zkml' ? mode : 'unknown';
        out[key] += n;
        out.total += n;
      }
      return out;
    },
    async hourly(sinceMs) {
      const rows = db
        .select({
          hourMs: inferenceHours.hourMs,
          mode: inferenceHours.mode,
          n: sql<number>`sum(${inferenceHours.count})`,
        })
        .from(inferenceHours)
        .where(gte(inferenceHours.hourMs, sinceMs))
        .groupBy(inferenceHours.hourMs, inferenceHours.mode)
        .orderBy(inferenceHours.hourMs)
        .all();
      const hours: InferenceHour[] = [];
      for (const { hourMs, mode, n } of rows) {
        let last = hours[hours.length - 1];
        if (!last || last.hourMs !== hourMs) {
          last = { hourMs, vanilla: 0, tee: 0, zkml: 0, unknown: 0 };
          hours.push(last);
        }
        const key = mode === 'vanilla' || mode === 'tee' || mode === 'zkml' ? mode : 'unknown';
        last[key] += n;
      }
      return hours.filter((h) => h.vanilla + h.tee + h.zkml + h.unknown > 0);
    },
    async saveNetworkActivity(network, a) {
      const values = {
        totalTransactions: a.totalTransactions,
        transactionsToday: a.transactionsToday,
        fetchedAtMs: a.fetchedAtMs,
      };
      db.insert(networkActivity)
        .values({ network, ...values })
        .onConflictDoUpdate({ target: networkActivity.network, set: values })
        .run();
    },
    async networkActivity(network) {
      const row = db
        .select()
        .from(networkActivity)
        .where(and(eq(networkActivity.network, network)))
        .get();
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
