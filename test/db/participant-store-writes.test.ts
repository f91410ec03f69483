import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callerDayKey, type ParticipantChunk } from '../../src/core/participants.js';
import { createInferenceStore } from '../../src/db/inference-store.js';
import { openDatabase } from '../../src/db/open.js';
import { createParticipantStore } from '../../src/db/participant-store.js';
import { tempDbPath } from '../helpers/temp-dir.js';

const DAY = 86_400_000;
const address = (i: number) => `0x${i.toString(16).padStart(40, '0')}`;

/**
 * A range's rows: up to a few hundred (several multi-row statements and a remainder), over up to 3 days
 * from where the range starts, that many days after the previous range's last (ranges come in chain order).
 */
const chunk = fc.record({
  gapDays: fc.nat({ max: 3 }),
  rows: fc.array(fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 150 }), fc.integer({ min: 1, max: 9 })), {
    maxLength: 260,
    size: 'max',
  }),
  fails: fc.boolean(),
});

describe('participant store: caller-day writes', () => {
  it(
    'adds up every caller-day and keeps each caller’s first day, ' +
      'whatever the batch sizes, across failed transactions',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 8 }), async (chunks) => {
          const database = openDatabase(tempDbPath());
          try {
            const participants = createParticipantStore(database);
            let crash = false;
            const inferences = createInferenceStore(database, {
              writeInTransaction(found) {
                participants.writeInTransaction(found);
                if (crash) throw new Error('crash after the write');
              },
              committed: () => participants.committed(),
            });
            await inferences.ensureState('opengradient', 0);
            const want = new Map<string, number>();
            const firstDay = new Map<string, number>();
            let next = 0;
            let day = 0;
            for (const { gapDays, rows, fails } of chunks) {
              const start = day + gapDays;
              const callerDays = new Map<string, number>();
              for (const [d, caller, n] of rows) {
                const key = callerDayKey((start + d) * DAY, address(caller));
                callerDays.set(key, (callerDays.get(key) ?? 0) + n);
                if (!fails) day = Math.max(day, start + d);
              }
              const found: ParticipantChunk = { network: 'opengradient', callerDays, teeDays: new Map(), events: [] };
              const commit = {
                network: 'opengradient',
                fromBlock: next,
                nextBlock: next + 10,
                counts: new Map(),
                undecodableLogs: 0,
                indexedBlockTimeMs: 0,
              };
              crash = fails;
              if (fails) {
                // The chunk's transaction fails after the callers were written: none of it may stay, ids included.
                await expect(inferences.commitChunk(commit, found)).rejects.toThrow('crash after the write');
                continue;
              }
              await inferences.commitChunk(commit, found);
              next += 10;
              for (const [key, n] of callerDays) {
                want.set(key, (want.get(key) ?? 0) + n);
                const [day, who] = key.split('|') as [string, string];
                firstDay.set(who, Math.min(firstDay.get(who) ?? Infinity, Number(day)));
              }
            }
            const rows = database.sqlite
              .prepare(
                'select d.day_ms as day, c.address as address, d.inferences as n ' +
                  'from caller_days d join callers c on c.id = d.caller_id',
              )
              .all() as Array<{ day: number; address: string; n: number }>;
            expect(new Map(rows.map((r) => [callerDayKey(r.day, r.address), r.n]))).toEqual(want);
            expect(rows).toHaveLength(want.size);
            const callers = database.sqlite
              .prepare('select address, first_day_ms as first from callers')
              .all() as Array<{
              address: string;
              first: number;
            }>;
            expect(new Map(callers.map((c) => [c.address, c.first]))).toEqual(firstDay);
          } finally {
            database.close();
          }
        }),
        { numRuns: 40 },
      );
    },
  );
});
