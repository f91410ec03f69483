/**
 * The Discord front end: one `/opg` slash command derived from the definitions, answered with embeds.
 * Discord's rules it lives by: an interaction must be answered within 3 seconds (slow answers are deferred
 * first), its token lasts 15 minutes and is a secret (never logged), and hiding a command from members is
 * not a permission check (the bot checks Manage Server / Administrator itself). Only the Guilds intent is
 * asked for: slash commands need no message content.
 */
import { once } from 'node:events';
import {
  ApplicationCommandOptionType,
  Client,
  Events,
  MessageFlags,
  GatewayIntentBits,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ClientOptions,
  type CommandInteractionOption,
  type Interaction,
} from 'discord.js';
import {
  validateArgs,
  type Actor,
  type AnyCommand,
  type ChatRef,
  type CommandContext,
  type PlatformHooks,
} from '../../core/command.js';
import type { Core } from '../../core/core.js';
import { describeError, UserInputError } from '../../core/errors.js';
import { DEFAULT_REFRESH_MIN_AGE_MS, refreshCommand, refreshIfOlderThan, refreshWords } from '../../core/buttons.js';
import { runCommand } from '../../core/execute.js';
import type { Logger } from '../../core/logger.js';
import type { Reply } from '../../core/reply.js';
import type { Services } from '../../core/services.js';
import type { CommandRegistrationStore } from '../../core/command-registrations.js';
import { Agent, type Dispatcher } from 'undici';
import { isModeratorBits, missingPostPermissions } from './permissions.js';
import { isBodyRefusal } from './refusal.js';
import { registerCommands } from './register.js';
import {
  createDiscordRequest,
  DISCORD_GLOBAL_REQUESTS_PER_SECOND,
  DISCORD_SINK_REQUESTS_PER_SECOND,
} from './rest-request.js';
import { plainDiscordText, renderDiscord, type DiscordMessage } from './render.js';
import { findDefinition, ROOT_COMMAND } from './slash-commands.js';

export interface DiscordAdapterOptions {
  core: Core;
  services: Services;
  commands: readonly AnyCommand[];
  token: string;
  /** REST root such as `https://discord.com/api`; the gateway address comes from its `/gateway/bot`. */
  apiUrl: string;
  /** Register the commands in this guild (instant) instead of globally. */
  guildId: string | null;
  logger: Logger;
  store: CommandRegistrationStore;
  /** Per-request REST deadline. Default 15 s; tests shorten it. */
  restTimeoutMs?: number;
  /** Retries of a REST request after a 5xx or a timeout. Default 3. */
  restRetries?: number;
  /** An answer not ready after this is deferred first (Discord allows 3 s). Default 1,500 ms. */
  deferAfterMs?: number;
  /** The Refresh button fetches anew only when the figures are older than this. Default 5 min. */
  refreshMinAgeMs?: number;
  /** undici dispatcher for every REST request (see rest-request.ts); a private Agent when omitted. */
  dispatcher?: Dispatcher;
  /** Extra discord.js client options (tests pass a no-wait identify throttler). */
  clientOptions?: Partial<ClientOptions>;
}

export interface DiscordAdapter {
  readonly client: Client;
  /** Logs in, waits for the gateway's READY, registers `/opg` when the definitions changed. */
  start(): Promise<void>;
  /** Closes the gateway connection; in-flight answers may be lost. */
  stop(): Promise<void>;
}

const DEFER = Symbol('defer');
const REFUSED_NOTICE =
  "Discord would not take this answer. The bot's operator has been told; try another command meanwhile.";

export function createDiscordAdapter(options: DiscordAdapterOptions): DiscordAdapter {
  const { core, services, commands, token, apiUrl, guildId, store } = options;
  const logger = options.logger;
  const ownDispatcher = options.dispatcher ? null : new Agent();
  const dispatcher = options.dispatcher ?? ownDispatcher!;
  const deferAfterMs = options.deferAfterMs ?? 1_500;
  const refreshMinAgeMs = options.refreshMinAgeMs ?? DEFAULT_REFRESH_MIN_AGE_MS;

  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    allowedMentions: { parse: [] },
    // As many shards as `/gateway/bot` recommends, all in this process (discord.js internal sharding): past
    // 2,500 guilds Discord requires them, and interactions arrive on the shard of their guild.
    shards: 'auto',
    ...options.clientOptions,
    rest: {
      api: apiUrl,
      timeout: options.restTimeoutMs ?? 15_000,
      retries: options.restRetries ?? 3,
      // Discord allows a bot 50 requests a second in all; the alert sink's REST has its share (sink.ts).
      globalRequestsPerSecond: DISCORD_GLOBAL_REQUESTS_PER_SECOND - DISCORD_SINK_REQUESTS_PER_SECOND,
      makeRequest: createDiscordRequest(dispatcher),
      ...options.clientOptions?.rest,
    },
  });

  client.on(Events.Error, (err) => logger.error({ error: describeError(err) }, 'discord client error'));
  client.on(Events.ShardDisconnect, (_event, shardId) => logger.warn({ shardId }, 'gateway closed for good'));
  let stopping = false;
  client.on(Events.ShardReconnecting, (shardId) => {
    if (!stopping) logger.info({ shardId }, 'gateway reconnecting');
  });
  client.rest.on('rateLimited', (info) =>
    logger.warn({ route: info.route, retryAfterMs: info.retryAfter, global: info.global }, 'discord rate limit'),
  );
  client.on(Events.InteractionCreate, (interaction) => {
    handle(interaction).catch((err: unknown) => logFailure(err, 'answering an interaction failed'));
  });

  /** Logs a failure without the error object: discord.js errors carry the interaction token in their URL. */
  function logFailure(err: unknown, message: string): void {
    const e = err as { status?: unknown; code?: unknown; rawError?: { errors?: unknown } };
    // Discord's field errors name what was refused (never the token, which is only in the URL).
    const fields =
      e.rawError?.errors === undefined ? {} : { errors: JSON.stringify(e.rawError.errors).slice(0, 2_000) };
    logger.error({ error: describeError(err), status: e.status, code: e.code, ...fields }, message);
  }

  async function handle(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isChatInputCommand()) return await handleCommand(interaction);
      if (interaction.isButton() && refreshWords(interaction.customId) !== null)
        return await handleRefresh(interaction);
    } catch (err) {
      if (!isRefusal(err) || !interaction.isRepliable()) throw err;
      // Neither the answer nor its plain text was taken (answer() tried both): say so once, privately.
      logFailure(err, 'Discord refused an answer; sent a short notice instead');
      const notice = {
        embeds: [{ title: 'That answer could not be shown', description: REFUSED_NOTICE, color: 0xed4245 }],
        flags: MessageFlags.Ephemeral,
      } as const;
      // A deferred public "thinking…" that will never be filled goes, so the channel is not left waiting.
      if (interaction.deferred && !interaction.replied && interaction.isChatInputCommand()) {
        await interaction.deleteReply().catch((e: unknown) => logFailure(e, 'removing a deferred answer failed'));
      }
      if (interaction.deferred || interaction.replied) await interaction.followUp(notice);
      else await interaction.reply(notice);
    }
  }

  /**
   * Sends a rendered answer; when Discord refuses it with 400 (a rendering bug, never retried as is), sends
   * the same reply as plain text through `plain` and logs the refusal once. When the plain text is refused
   * too, the first refusal goes up to handle(), which logs it and sends the short notice.
   */
  async function sendOrPlain(send: () => Promise<unknown>, plain: () => Promise<unknown>): Promise<void> {
    try {
      await send();
      return;
    } catch (err) {
      if (!isRefusal(err)) throw err;
      try {
        await plain();
      } catch (plainErr) {
        throw isRefusal(plainErr) ? err : plainErr;
      }
      logFailure(err, 'Discord refused an answer; sent it as plain text');
    }
  }

  function contextFor(interaction: ChatInputCommandInteraction | ButtonInteraction): CommandContext {
    const inGuild = interaction.inGuild();
    const chat: ChatRef = {
      platform: 'discord',
      chatId: interaction.channelId ?? interaction.user.id,
      guildId: interaction.guildId,
      kind: inGuild ? 'guild_text' : 'dm',
    };
    const actor: Actor = {
      id: interaction.user.id,
      name: interaction.user.username,
      // In a direct message the person is the whole audience, as Telegram's private chats.
      isModerator: async () => (inGuild ? isModeratorBits(interaction.memberPermissions?.bitfield ?? 0n) : true),
    };
    const platform: PlatformHooks = {
      checkPostable: (channelId) => checkPostable(interaction.guildId, interaction.channelId, channelId),
    };
    return { core, services, chat, actor, platform, commands };
  }

  async function checkPostable(
    inGuildId: string | null,
    hereId: string | null,
    channelId: string,
  ): Promise<string | null> {
    if (!inGuildId)
      return channelId === hereId ? null : 'Alerts can only go to this conversation or a channel of a server.';
    const channel = await client.channels.fetch(channelId).catch(() => null);
    if (!channel || channel.isDMBased() || channel.guildId !== inGuildId) {
      return "I can't see that channel: I need View Channel there.";
    }
    if (!channel.isTextBased()) return 'That is not a text channel.';
    const me = channel.guild.members.me ?? (await channel.guild.members.fetchMe());
    const permissions = channel.permissionsFor(me);
    const missing = missingPostPermissions(permissions.bitfield);
    if (missing.length === 0) return null;
    return `I can't post alerts in that channel: I need ${missing.join(', ')} there.`;
  }

  /** The options of the invoked subcommand as Discord sent them, before any trust. */
  function rawOptions(data: readonly CommandInteractionOption[]): Record<string, unknown> {
    let leaf = data[0];
    if (leaf?.options?.[0]?.type === ApplicationCommandOptionType.Subcommand) leaf = leaf.options[0];
    const raw: Record<string, unknown> = {};
    for (const o of leaf?.options ?? []) raw[o.name] = o.value;
    return raw;
  }

  async function handleCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    if (interaction.commandName !== ROOT_COMMAND) return;
    const group = interaction.options.getSubcommandGroup(false);
    const subcommand = interaction.options.getSubcommand(false);
    const def = findDefinition(commands, group, subcommand);
    const ctx = contextFor(interaction);
    const work = runCommand(
      () => {
        if (!def) throw new UserInputError('Unknown command. Try /opg help.');
        return { def, args: validateArgs(def, rawOptions(interaction.options.data)) };
      },
      ctx,
      logger,
    );
    await answer(interaction, work, 'reply', def?.slow === true);
  }

  async function handleRefresh(interaction: ButtonInteraction): Promise<void> {
    const ctx = contextFor(interaction);
    const parsed = refreshCommand(interaction.customId, commands);
    const work = runCommand(
      async () => {
        if (!parsed) throw new UserInputError('That button no longer works. Try the command again.');
        await refreshIfOlderThan(core, refreshMinAgeMs);
        return parsed;
      },
      ctx,
      logger,
    );
    await answer(interaction, work, 'update', parsed?.def.slow === true);
  }

  /** Answers at once when the reply is quick, else defers first so the 3-second deadline is never missed. */
  async function answer(
    interaction: ChatInputCommandInteraction | ButtonInteraction,
    work: Promise<Reply>,
    mode: 'reply' | 'update',
    deferAtOnce = false,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof DEFER>((resolve) => {
      timer = setTimeout(() => resolve(DEFER), deferAfterMs);
    });
    const first = deferAtOnce ? DEFER : await Promise.race([work, deadline]);
    clearTimeout(timer);
    // What goes when Discord refuses the rendered answer: the figures as plain text, nothing to break.
    const plainOf = (r: Reply) => ({
      content: plainDiscordText(r),
      embeds: [],
      components: [],
      allowedMentions: { parse: [] },
    });
    // A refused Refresh leaves the message as it was; the person who pressed gets the figures privately.
    const privately = (r: Reply) => ({ ...plainOf(r), flags: MessageFlags.Ephemeral as const });
    if (first !== DEFER) {
      const message = renderDiscord(first);
      if (mode === 'update' && !first.ephemeral && interaction.isButton()) {
        const button = interaction;
        await sendOrPlain(
          () => button.update(withoutFlags(message)),
          () => button.reply(privately(first)),
        );
      } else {
        await sendOrPlain(
          () => interaction.reply(message),
          () => interaction.reply(first.ephemeral ? privately(first) : plainOf(first)),
        );
      }
      return;
    }
    if (mode === 'update' && interaction.isButton()) await interaction.deferUpdate();
    else await interaction.deferReply();
    const result = await work;
    const message = renderDiscord(result);
    if (result.ephemeral) {
      // A deferred answer is public; a refusal or error must not be, so it goes as an ephemeral follow-up.
      if (mode === 'reply')
        await interaction.deleteReply().catch((err: unknown) => logFailure(err, 'removing a deferred answer failed'));
      await sendOrPlain(
        () => interaction.followUp(message),
        () => interaction.followUp(privately(result)),
      );
    } else {
      await sendOrPlain(
        () => interaction.editReply(withoutFlags(message)),
        // The placeholder (or the button's message) is replaced only for a command; files: none were kept.
        () =>
          mode === 'reply'
            ? interaction.editReply({ ...plainOf(result), attachments: [] })
            : interaction.followUp(privately(result)),
      );
    }
  }

  return {
    client,
    async start() {
      const ready = once(client, Events.ClientReady);
      await client.login(token);
      await ready;
      const applicationId = client.application?.id ?? client.user?.id;
      if (!applicationId) throw new Error('Discord READY carried no application id');
      try {
        const result = await registerCommands({
          rest: client.rest,
          applicationId,
          guildId,
          commands,
          store,
          nowMs: core.clock.now(),
        });
        logger.info({ scope: result.scope, status: result.status }, 'slash commands');
      } catch (err) {
        logFailure(err, 'registering slash commands failed; the previous registration stays in place');
      }
      logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'discord ready');
    },
    async stop() {
      stopping = true;
      await client.destroy();
      if (ownDispatcher && !ownDispatcher.closed) await ownDispatcher.close();
    },
  };
}

/**
 * Discord refused the body itself (400 with Invalid Form Body, an empty message and the like), not the chat,
 * the token or the interaction's state: only then is the plain text worth sending. A 400 such as 40060 (already
 * acknowledged) goes up to handle()'s caller, logged once, with no plain copy and no notice.
 */
const isRefusal = isBodyRefusal;

function withoutFlags(message: DiscordMessage): Omit<DiscordMessage, 'flags'> {
  const { flags: _flags, ...rest } = message;
  return rest;
}
