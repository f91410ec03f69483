import { DiscordjsError, DiscordjsErrorCodes, type Client } from 'discord.js';
import { describe, expect, it } from 'vitest';
import type { DiscordAdapter } from '../src/adapters/discord/adapter.js';
import { silentLogger } from '../src/core/logger.js';
import { discordFrontEnd, telegramWebhook } from '../src/leader-front-ends.js';
import { connectionState } from '../src/ops/connections.js';

/** Adapters whose `start()` fails with `failures[n]` for the n-th one made, then works; each records its stops. */
function adapters(failures: unknown[]) {
  const made: Array<{ started: boolean; stops: number }> = [];
  const create = (): DiscordAdapter => {
    const n = made.length;
    const record = { started: false, stops: 0 };
    made.push(record);
    return {
      client: {} as Client,
      async start() {
        if (n < failures.length) throw failures[n];
        record.started = true;
      },
      async stop() {
        record.stops += 1;
      },
    };
  };
  return { made, create };
}

const gatewayDown = () => Object.assign(new Error('503: Service Unavailable'), { status: 503 });
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('discordFrontEnd', () => {
  it(
    'starts the term at once and logs in with a new client after each failure, reading starting until one ' + 'works',
    async () => {
      const { made, create } = adapters([gatewayDown(), gatewayDown(), gatewayDown()]);
      const state = connectionState('discord', { leaderOnly: true });
      const waits: number[] = [];
      const fatal: unknown[] = [];
      const term = await discordFrontEnd({
        create,
        watch: () => {},
        state,
        logger: silentLogger,
        onFatal: (err) => fatal.push(err),
        sleep: async (ms) => void waits.push(ms),
      })();
      expect(state.state()).toBe('starting');
      await tick();
      expect(made.map((m) => m.started)).toEqual([false, false, false, true]);
      // Each failed client was closed; the one that logged in stays until the term ends.
      expect(made.map((m) => m.stops)).toEqual([1, 1, 1, 0]);
      expect(waits).toEqual([1_000, 2_000, 4_000]);
      expect(fatal).toEqual([]);
      await term.stop();
      expect(state.state()).toBe('stopped');
      expect(made[3]!.stops).toBe(1);
    },
  );

  it('reads starting again at each try, whatever a failed client last reported', async () => {
    const state = connectionState('discord', { leaderOnly: true });
    const { made, create } = adapters([gatewayDown()]);
    const term = await discordFrontEnd({
      create: () => {
        const discord = create();
        const start = discord.start.bind(discord);
        // The first client's shard reports its disconnect before the login fails.
        discord.start = async () => {
          if (made.length === 1) state.set('failed');
          await start();
        };
        return discord;
      },
      watch: () => {},
      state,
      logger: silentLogger,
      onFatal: () => {},
      sleep: async () => expect(state.state()).toBe('failed'),
    })();
    await tick();
    expect(made.map((m) => m.started)).toEqual([false, true]);
    // Logged in, not yet ready (no shard has said so): starting, not the first client's failed.
    expect(state.state()).toBe('starting');
    await term.stop();
  });

  it('a term that ends while Discord is down tries no more', async () => {
    const { made, create } = adapters(Array.from({ length: 100 }, gatewayDown));
    const state = connectionState('discord', { leaderOnly: true });
    const term = await discordFrontEnd({
      create,
      watch: () => {},
      state,
      logger: silentLogger,
      onFatal: () => {},
      retry: { baseMs: 60_000, maxMs: 60_000 },
    })();
    await tick();
    expect(made).toHaveLength(1);
    await term.stop();
    await tick();
    expect(made).toHaveLength(1);
    expect(state.state()).toBe('stopped');
  });

  it('a term that ends mid-login lets the login settle first (a bounded while), then closes the client', async () => {
    const events: string[] = [];
    const slowLogin = (settleAfterMs: number | null): DiscordAdapter => ({
      client: {} as Client,
      start: () =>
        new Promise<void>((resolve) => {
          if (settleAfterMs !== null)
            setTimeout(() => {
              events.push('logged in');
              resolve();
            }, settleAfterMs);
        }),
      async stop() {
        events.push('closed');
      },
    });
    const state = connectionState('discord', { leaderOnly: true });
    const options = { watch: () => {}, state, logger: silentLogger, onFatal: () => {} };
    const term = await discordFrontEnd({ ...options, create: () => slowLogin(30) })();
    await tick();
    await term.stop();
    expect(events[0]).toBe('logged in');
    expect(events).toContain('closed');

    // A login that never settles is not waited for past the grace.
    events.length = 0;
    const stuck = await discordFrontEnd({ ...options, create: () => slowLogin(null), stopGraceMs: 20 })();
    const started = Date.now();
    await stuck.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(events).toEqual(['closed']);
  });

  it('a token Discord refuses ends the tries: the state reads failed and onFatal is told once', async () => {
    // What discord.js's login throws when /gateway/bot answers 401 (its constructor is private in the typings).
    const refused = new (DiscordjsError as unknown as new (code: string) => Error)(DiscordjsErrorCodes.TokenInvalid);
    const { made, create } = adapters([gatewayDown(), refused]);
    const state = connectionState('discord', { leaderOnly: true });
    const fatal: unknown[] = [];
    await discordFrontEnd({
      create,
      watch: () => {},
      state,
      logger: silentLogger,
      onFatal: (err) => fatal.push(err),
      sleep: async () => {},
    })();
    await tick();
    expect(fatal).toEqual([refused]);
    expect(made).toHaveLength(2);
    expect(state.state()).toBe('failed');
  });
});

/** A Telegram adapter whose `setWebhook` fails `failures` times, then works; it counts its calls. */
function webhookAdapter(failures: number) {
  const calls = { setWebhook: 0, setCommandMenu: 0 };
  return {
    calls,
    telegram: {
      async setWebhook() {
        calls.setWebhook += 1;
        if (calls.setWebhook <= failures) throw new Error('Bad Request: bad webhook: Failed to resolve host');
      },
      async setCommandMenu() {
        calls.setCommandMenu += 1;
      },
    },
  };
}

describe('telegramWebhook', () => {
  const URL = 'https://bot.example/telegram/webhook';

  it(
    'the leader sets the command menu and retries setWebhook until Telegram takes it, reading starting ' + 'meanwhile',
    async () => {
      const { calls, telegram } = webhookAdapter(3);
      const state = connectionState('telegram');
      const waits: number[] = [];
      let release: () => void = () => {};
      const hook = telegramWebhook({
        telegram,
        url: URL,
        state,
        logger: silentLogger,
        // The third wait holds until released, so the state can be read mid-retry.
        sleep: (ms) => {
          waits.push(ms);
          return waits.length < 3 ? Promise.resolve() : new Promise<void>((r) => (release = r));
        },
      });
      hook.answered();
      expect(state.state()).toBe('connected');
      const term = await hook.leaderTerm();
      await tick();
      expect(state.state()).toBe('starting');
      expect(calls).toEqual({ setWebhook: 3, setCommandMenu: 1 });
      release();
      await tick();
      expect(calls.setWebhook).toBe(4);
      expect(waits).toEqual([1_000, 2_000, 4_000]);
      expect(state.state()).toBe('connected');
      await term.stop();
      expect(state.state()).toBe('connected');
      // The next term sets the menu and the webhook again.
      const next = await hook.leaderTerm();
      await tick();
      expect(calls).toEqual({ setWebhook: 5, setCommandMenu: 2 });
      await next.stop();
    },
  );

  it(
    'a term that ends while setWebhook fails tries no more, and the instance reads as any webhook server ' + 'again',
    async () => {
      const { calls, telegram } = webhookAdapter(Number.POSITIVE_INFINITY);
      const state = connectionState('telegram');
      const hook = telegramWebhook({
        telegram,
        url: URL,
        state,
        logger: silentLogger,
        retry: { baseMs: 60_000, maxMs: 60_000 },
      });
      hook.answered();
      const term = await hook.leaderTerm();
      await tick();
      expect(state.state()).toBe('starting');
      await term.stop();
      expect(state.state()).toBe('connected');
      await tick();
      expect(calls.setWebhook).toBe(1);
    },
  );

  it(
    'reads starting until getMe answers, whatever the webhook; failed when it failed for good; stopped ' + 'stays',
    async () => {
      const { telegram } = webhookAdapter(0);
      const state = connectionState('telegram');
      const hook = telegramWebhook({ telegram, url: URL, state, logger: silentLogger });
      const term = await hook.leaderTerm();
      await tick();
      expect(state.state()).toBe('starting');
      hook.answered();
      expect(state.state()).toBe('connected');
      hook.failed();
      expect(state.state()).toBe('failed');
      state.set('stopped');
      await term.stop();
      expect(state.state()).toBe('stopped');
    },
  );
});
