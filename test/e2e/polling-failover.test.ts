/**
 * Two `npm start` processes on one real PostgreSQL database with Telegram by long polling (the default): the
 * leader answers commands and is killed with SIGKILL before Telegram has them confirmed (the `getUpdates`
 * that would confirm them never arrives, as when it was still on its way), so the stand-in hands them to the
 * new leader again, as Telegram does. The update ledger in the shared store knows they ran: the new leader
 * takes them without answering them again, and answers what came after.
 */
import { describe, expect, it } from 'vitest';
import { startBot, startWorld, until, type BotProcess } from '../helpers/bot-process.js';
import { freePort, roleOn } from '../helpers/ports.js';
import { emptyServerDatabase, NO_SERVER, TEST_DATABASE_URL } from '../helpers/postgres.js';
import type { BotApiCall } from '../helpers/telegram-server.js';
import { message, supergroup } from '../helpers/telegram-updates.js';

const TAKEOVER_SECONDS = 6;

interface Instance {
  bot: BotProcess;
  port: number;
}

const messageIdOf = (update: Record<string, unknown>) => (update as { message_id: number }).message_id;
/** The message a reply answers (its `reply_parameters`), or undefined. */
const answers = (c: BotApiCall) => (c.params.reply_parameters as { message_id?: number } | undefined)?.message_id;

describe('two instances on one PostgreSQL database, Telegram by long polling', () => {
  it('a leader killed before its answered commands were confirmed: the new leader does not answer them again', async ({
    skip,
  }) => {
    skip(!TEST_DATABASE_URL, NO_SERVER);
    const url = await emptyServerDatabase();
    const w = await startWorld({
      chainBlocks: 30,
      discord: false,
      env: { DATABASE_URL: url, LEADER_TAKEOVER_SECONDS: String(TAKEOVER_SECONDS) },
    });
    const start = async (): Promise<Instance> => {
      const port = await freePort();
      return { bot: startBot({ ...w, env: { ...w.env, HTTP_PORT: String(port) } }), port };
    };
    // Both at once (migrations take turns): whichever takes the lock leads and polls.
    const instances = [await start(), await start()];
    const [leader, standby] = await until(
      'one instance leading and one standing by',
      async () => {
        const roles = await Promise.all(instances.map((i) => roleOn(i.port)));
        if (roles.includes('leader') && roles.includes('standby'))
          return roles[0] === 'leader' ? [instances[0]!, instances[1]!] : [instances[1]!, instances[0]!];
        return undefined;
      },
      instances[0]!.bot,
      30_000,
    );
    await until('the leader polling', () => (w.tg.callsOf('getUpdates').length > 0 ? true : undefined), leader.bot);
    const replies = (update: Record<string, unknown>) =>
      w.tg.callsOf('sendMessage').filter((c) => answers(c) === messageIdOf(update));

    // Three commands in one batch; the leader's next getUpdates, which would confirm them, never reaches Telegram.
    let firstId = Infinity;
    w.tg.failNext('getUpdates', 'hang', 1, (params) => Number(params.offset ?? 0) > firstId);
    const commands = [1, 2, 3].map(() => message({ chat: supergroup, text: '/opg help' }));
    firstId = w.tg.pushAll(commands.map((m) => ({ message: m })))[0]!;
    await until(
      'the leader answering all three',
      () => (commands.every((m) => replies(m).length === 1) ? true : undefined),
      leader.bot,
    );
    await until(
      'the confirming getUpdates held',
      () => w.tg.callsOf('getUpdates').find((c) => Number(c.params.offset) > firstId),
      leader.bot,
    );
    expect(w.tg.confirmedOffset()).toBeLessThanOrEqual(firstId);

    leader.bot.child.kill('SIGKILL');
    const killedAtMs = Date.now();
    await leader.bot.exited;
    await until(
      'the standby leading',
      async () => ((await roleOn(standby.port)) === 'leader' ? true : undefined),
      standby.bot,
      TAKEOVER_SECONDS * 1_000,
    );
    console.info(`polling failover: the standby led ${Date.now() - killedAtMs} ms after the kill`);

    // A command after the kill, in the same chat: handled in order after the three, so once it is answered, any
    // second answer to them has been sent.
    const later = message({ chat: supergroup, text: '/opg help' });
    const [laterId] = w.tg.pushAll([{ message: later }]);
    await until('the new leader answering', () => replies(later)[0], standby.bot);
    await until(
      'the new leader confirming every update',
      () => (w.tg.confirmedOffset() > laterId! ? true : undefined),
      standby.bot,
    );
    expect(commands.map((m) => replies(m).length)).toEqual([1, 1, 1]);
    expect(replies(later)).toHaveLength(1);

    expect(standby.bot.errorLines()).toEqual([]);
    standby.bot.child.kill('SIGTERM');
    expect((await standby.bot.exited)[0]).toBe(0);
  }, 60_000);
});
