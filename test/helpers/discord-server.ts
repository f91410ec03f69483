/**
 * Loopback stand-ins for Discord: the REST API (`/api/v10/…`, JSON answers) and the gateway (`ws`), speaking
 * the real shapes discord.js 14 expects. The REST's `/gateway/bot` names the gateway, so a client pointed at
 * `rest.url + '/api'` finds both. Faults are queued per request (`failNext`) and the gateway can be closed.
 * Interactions keep Discord's state: one callback each, within 3 s of the dispatch (404 10062 after it, 400
 * 40060 for a second one); `@original` and follow-ups only once acknowledged (404 10015) and only while the
 * token lives, 15 minutes (401 50027). It keeps what each `@original` holds (nothing after a deferral), so an
 * edit that leaves it empty is refused (50006). Such answers count as refusals, as the contract's 400s do, and
 * so does a request for a route Discord has that this stand-in does not implement.
 * A channel post is answered from the bot's permissions in that channel, computed as Discord computes them
 * (the @everyone role, then the channel's overwrites; a thread takes its parent's): 404 10003 for a channel it
 * does not know, 403 50001 without View Channel, 403 50013 without Send Messages (Send Messages in Threads in a
 * thread) or, for a post with files, Attach Files. Those are the world's state, not a bad request, so they are
 * kept in `accessDenied`, not counted as refusals. Without Embed Links Discord takes the post and drops its
 * embeds (the created message comes back with none); a post left showing nothing but buttons that way is a
 * refusal.
 * No vitest import: the benchmark uses it too; callers close it.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermissionFlagsBits } from 'discord.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { discordRefusal, messageAfterEdit, prepareDiscordContract, type MessageLike } from './discord-contract.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { sendJson, startLoopbackServer, type LoopbackServer, type RecordedRequest } from './http-server.js';

export const APP_ID = '900000000000000001';
export const GUILD_ID = '800000000000000001';
export const CHANNEL_ID = '800000000000000010';
/** A channel whose overwrites deny the bot Send Messages and Embed Links. */
export const LOCKED_CHANNEL_ID = '800000000000000011';
/** A channel the bot cannot see at all. */
export const HIDDEN_CHANNEL_ID = '800000000000000012';
/** A channel whose overwrites deny the bot Embed Links only: posts are taken, their embeds dropped. */
export const NO_EMBEDS_CHANNEL_ID = '800000000000000013';
/** A public thread in the general channel. */
export const THREAD_ID = '800000000000000014';
export const DM_CHANNEL_ID = '700000000000000001';

const P = PermissionFlagsBits;
export const EVERYONE_PERMISSIONS =
  P.ViewChannel |
  P.SendMessages |
  P.SendMessagesInThreads |
  P.EmbedLinks |
  P.AttachFiles |
  P.ReadMessageHistory |
  P.UseApplicationCommands;
export const MODERATOR_PERMISSIONS = EVERYONE_PERMISSIONS | P.ManageGuild;

export const botUser = {
  id: APP_ID,
  username: 'opg-bot',
  discriminator: '0',
  global_name: null,
  avatar: null,
  bot: true,
};

/** A channel permission overwrite: `type` 0 for a role (the guild id is @everyone's), 1 for a member. */
export interface PermissionOverwrite {
  id: string;
  type: 0 | 1;
  allow: string;
  deny: string;
}

function textChannel(id: string, name: string, overwrites: PermissionOverwrite[] = []) {
  return {
    id,
    type: 0,
    guild_id: GUILD_ID,
    name,
    position: 0,
    permission_overwrites: overwrites,
    parent_id: null,
    topic: null,
    nsfw: false,
    last_message_id: null,
    rate_limit_per_user: 0,
  };
}

export const guildChannels = [
  textChannel(CHANNEL_ID, 'general'),
  textChannel(LOCKED_CHANNEL_ID, 'announcements', [
    { id: GUILD_ID, type: 0, allow: '0', deny: String(P.SendMessages | P.EmbedLinks) },
  ]),
  textChannel(HIDDEN_CHANNEL_ID, 'mods', [{ id: GUILD_ID, type: 0, allow: '0', deny: String(P.ViewChannel) }]),
  textChannel(NO_EMBEDS_CHANNEL_ID, 'plain-talk', [{ id: GUILD_ID, type: 0, allow: '0', deny: String(P.EmbedLinks) }]),
];

export const guildThreads = [
  {
    id: THREAD_ID,
    type: 11,
    guild_id: GUILD_ID,
    name: 'price talk',
    parent_id: CHANNEL_ID,
    owner_id: '600000000000000001',
    last_message_id: null,
    rate_limit_per_user: 0,
    message_count: 0,
    member_count: 1,
    flags: 0,
    thread_metadata: {
      archived: false,
      auto_archive_duration: 1440,
      archive_timestamp: '2026-01-01T00:00:00.000Z',
      locked: false,
    },
  },
];

const botMember = {
  user: botUser,
  roles: [],
  nick: null,
  avatar: null,
  joined_at: '2026-01-01T00:00:00.000Z',
  premium_since: null,
  deaf: false,
  mute: false,
  flags: 0,
  pending: false,
};

export const guild = {
  id: GUILD_ID,
  name: 'OPG holders',
  icon: null,
  splash: null,
  discovery_splash: null,
  owner_id: '600000000000000001',
  afk_channel_id: null,
  afk_timeout: 300,
  verification_level: 0,
  default_message_notifications: 0,
  explicit_content_filter: 0,
  roles: [
    {
      id: GUILD_ID,
      name: '@everyone',
      color: 0,
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position: 0,
      permissions: String(EVERYONE_PERMISSIONS),
      managed: false,
      mentionable: false,
      flags: 0,
    },
  ],
  emojis: [],
  stickers: [],
  features: [],
  mfa_level: 0,
  application_id: null,
  system_channel_id: null,
  system_channel_flags: 0,
  rules_channel_id: null,
  vanity_url_code: null,
  description: null,
  banner: null,
  premium_tier: 0,
  preferred_locale: 'en-US',
  public_updates_channel_id: null,
  nsfw_level: 0,
  premium_progress_bar_enabled: false,
  unavailable: false,
  member_count: 3,
  large: false,
  joined_at: '2026-01-01T00:00:00.000Z',
  members: [botMember],
  channels: guildChannels.map(({ guild_id: _g, ...c }) => c),
  threads: guildThreads.map(({ guild_id: _g, ...t }) => t),
  presences: [],
  voice_states: [],
  stage_instances: [],
  guild_scheduled_events: [],
  soundboard_sounds: [],
};

export interface InteractionOptions {
  subcommand: string;
  group?: string;
  options?: Array<{ name: string; type: number; value: unknown }>;
  /** Member permission bit field; the default is an ordinary member's. */
  permissions?: bigint;
  /** A direct message instead of the guild channel. */
  dm?: boolean;
  channelId?: string;
}

export interface DiscordStandIn {
  rest: LoopbackServer;
  /** What to pass as `DISCORD_API_URL`. */
  apiUrl: string;
  gatewayUrl: string;
  /** IDENTIFY and RESUME payloads received, in order. */
  identifies: number;
  /** The `shard` of every IDENTIFY, in order (`[0, 1]` when the client sent none to an unsharded bot). */
  identifiedShards: Array<[number, number]>;
  /** The shard each dispatch went out on, in order (for INTERACTION_CREATE: the interaction id). */
  dispatched: Array<{ t: string; shard: number; id?: string }>;
  /** Each READY sent: its shard and the guild ids it listed. */
  readies: Array<{ shard: [number, number]; guildIds: string[] }>;
  resumes: number;
  heartbeats: number;
  /** Answers the next request that matches with `handler` instead of normally (a fault); one per call. */
  failNext(
    match: (req: RecordedRequest) => boolean,
    handler: (req: RecordedRequest, res: ServerResponse) => void,
  ): void;
  /** Resolves with the next request (or one already received after `sinceIndex`) that matches. */
  waitForRequest(match: (req: RecordedRequest) => boolean, sinceIndex?: number): Promise<RecordedRequest>;
  /** Calls `listener` with every REST request as it arrives; returns the unsubscribe. */
  onRequest(listener: (req: RecordedRequest) => void): () => void;
  /** Resolves once a client has identified or resumed and is ready for dispatches. */
  waitForSession(count?: number): Promise<void>;
  /** Sends a dispatch to every ready connection. */
  dispatch(t: string, d: unknown): void;
  /** Dispatches INTERACTION_CREATE; returns the interaction id and token. */
  interact(payload: Record<string, unknown>): { id: string; token: string };
  slash(options: InteractionOptions): Record<string, unknown>;
  button(customId: string, options?: { permissions?: bigint }): Record<string, unknown>;
  /**
   * Requests refused as Discord would refuse them (discord-contract.ts, routes Discord does not have included;
   * and interaction state: a second callback, a late one, a webhook call before the acknowledgement or after
   * the token expired, an edit that empties `@original`), each answered with Discord's own error; and requests
   * for routes Discord has that this stand-in does not implement.
   * `close()` rejects naming them unless `allowRefusals()` was called, so no test passes on a request
   * Discord would refuse.
   */
  refusals: Array<{ method: string; path: string; problems: string[] }>;
  /** For tests that send a bad request on purpose and check how the bot handles the 400. */
  allowRefusals(): void;
  /**
   * Channel posts answered 403 or 404 because of the channel's state (unknown, or the bot lacks a permission
   * there), with Discord's code: the world as it is, not a bad request, so not in `refusals`.
   */
  accessDenied: Array<{ channelId: string; status: number; code: number }>;
  /** Adds a text channel of the guild (with these overwrites), or replaces the overwrites of one it has. */
  setChannel(channelId: string, overwrites?: PermissionOverwrite[]): void;
  /** Forgets a channel, as when it is deleted: posts to it get 404 10003. */
  deleteChannel(channelId: string): void;
  /** Closes every gateway connection with `code`, as Discord does before a reconnect. */
  closeGateway(code?: number): void;
  /** Closes the connections of one shard only with `code` (4014, say, which a client does not reconnect after). */
  closeShard(shard: number, code?: number): void;
  close(): Promise<void>;
}

let nextId = 1_000_000n;
function snowflake(): string {
  nextId += 1n;
  return (500000000000000000n + nextId).toString();
}

/** The JSON body of a request, or the `payload_json` part when discord.js sent files as multipart. */
export function bodyJson(req: RecordedRequest): Record<string, unknown> {
  if (req.body === '') return {};
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('multipart/form-data')) {
    const match = /name="payload_json"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)\r\n--/.exec(req.body);
    return match?.[1] ? (JSON.parse(match[1]) as Record<string, unknown>) : {};
  }
  return JSON.parse(req.body) as Record<string, unknown>;
}

function messageFor(channelId: string, body: Record<string, unknown>) {
  return {
    id: snowflake(),
    type: 0,
    channel_id: channelId,
    author: botUser,
    content: typeof body.content === 'string' ? body.content : '',
    embeds: body.embeds ?? [],
    components: body.components ?? [],
    attachments: [],
    mentions: [],
    mention_roles: [],
    mention_everyone: false,
    pinned: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: typeof body.flags === 'number' ? body.flags : 0,
  };
}

const UNKNOWN_CHANNEL = { message: 'Unknown Channel', code: 10003 };
const MISSING_ACCESS = { message: 'Missing Access', code: 50001 };
const MISSING_PERMISSIONS = { message: 'Missing Permissions', code: 50013 };

export interface DiscordStandInOptions {
  heartbeatIntervalMs?: number;
  /**
   * How long after a dispatch the first callback is taken. Default 3 s, Discord's rule; measured from when
   * the dispatch was written to the socket to when the callback arrived, both on this stand-in's clock, so
   * time the test process spent before writing is not charged to the bot.
   */
  firstResponseWindowMs?: number;
  /** The stand-in's own clock (epoch ms). Default `Date.now`; tests of the deadlines pass their own. */
  now?: () => number;
  /**
   * Shards `/gateway/bot` recommends (default 1). With more than one, an IDENTIFY must carry `shard: [i, n]`
   * (Discord closes with 4011 otherwise; 4010 for an impossible one), each shard gets its own READY with the
   * guilds whose `(guild_id >> 22) % n` is `i`, and a guild's events go out on its shard only (DMs on shard 0).
   */
  shards?: number;
}

/** The shard a guild's events go out on: Discord's `(guild_id >> 22) % num_shards`. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** A channel as this stand-in keeps it: enough for Discord's permission arithmetic. */
interface KnownChannel {
  id: string;
  type: number;
  guild_id?: string;
  parent_id?: string | null;
  permission_overwrites?: PermissionOverwrite[];
}

const ALL_PERMISSIONS = Object.values(P).reduce((all, bit) => all | bit, 0n);

/**
 * The bot's permissions in a guild channel, as Discord computes them: @everyone's role (the bot member has no
 * other), everything with Administrator; then the channel's @everyone overwrite, its role overwrites and its
 * member overwrite, each deny before allow. Without View Channel nothing else counts. A thread uses its
 * parent's overwrites.
 */
function botPermissions(channel: KnownChannel, channels: ReadonlyMap<string, KnownChannel>): bigint {
  const everyone = guild.roles.find((r) => r.id === GUILD_ID)!;
  let permissions = BigInt(everyone.permissions);
  if ((permissions & P.Administrator) !== 0n) return ALL_PERMISSIONS;
  const holder = channel.type === 11 || channel.type === 12 ? channels.get(channel.parent_id ?? '') : channel;
  const overwrites = holder?.permission_overwrites ?? [];
  const apply = (o: PermissionOverwrite | undefined) => {
    if (o) permissions = (permissions & ~BigInt(o.deny)) | BigInt(o.allow);
  };
  apply(overwrites.find((o) => o.type === 0 && o.id === GUILD_ID));
  const roleIds = new Set<string>(botMember.roles);
  const roles = overwrites.filter((o) => o.type === 0 && roleIds.has(o.id));
  let deny = 0n;
  let allow = 0n;
  for (const o of roles) {
    deny |= BigInt(o.deny);
    allow |= BigInt(o.allow);
  }
  permissions = (permissions & ~deny) | allow;
  apply(overwrites.find((o) => o.type === 1 && o.id === APP_ID));
  return (permissions & P.ViewChannel) === 0n ? 0n : permissions;
}

/** Discord's interaction token lasts 15 minutes. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60_000;

interface TrackedInteraction {
  id: string;
  token: string;
  /** When the dispatch was written to a gateway socket (or queued, when no client was connected). */
  dispatchedAt: number;
  acknowledged: boolean;
  /** What `@original` holds, when known: nothing after a deferral, the data of an answer and its edits. */
  original?: MessageLike;
}

export async function startDiscordStandIn(options: DiscordStandInOptions = {}): Promise<DiscordStandIn> {
  prepareDiscordContract();
  const now = options.now ?? Date.now;
  const firstResponseWindowMs = options.firstResponseWindowMs ?? 3_000;
  const interactions = new Map<string, TrackedInteraction>();
  const byToken = new Map<string, TrackedInteraction>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const faults: Array<{
    match: (req: RecordedRequest) => boolean;
    handler: (req: RecordedRequest, res: ServerResponse) => void;
  }> = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const gatewayUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const shardCount = Math.max(1, options.shards ?? 1);
  /** Ready connections and the shard each identified as. */
  const ready = new Map<WebSocket, number>();
  const sessionShards = new Map<string, number>();
  let sequence = 0;
  let sessions = 0;

  const channels = new Map<string, KnownChannel>(
    [...guildChannels, ...guildThreads, { id: DM_CHANNEL_ID, type: 1 }].map((c) => [c.id, structuredClone(c)]),
  );
  const accessDenied: DiscordStandIn['accessDenied'] = [];
  const refusals: DiscordStandIn['refusals'] = [];
  let refusalsAllowed = false;
  const masked = (path: string) => path.replace(/\/[\w-]{60,}/, '/<token>');
  const refuse = (
    res: ServerResponse,
    req: RecordedRequest,
    path: string,
    status: number,
    body: { code: number; message: string },
    problem: string,
  ): void => {
    refusals.push({ method: req.method, path: masked(path), problems: [problem] });
    sendJson(res, status, body);
  };

  function track(payload: unknown): TrackedInteraction | null {
    const { id, token } = (payload ?? {}) as { id?: unknown; token?: unknown };
    if (typeof id !== 'string' || typeof token !== 'string') return null;
    const t = now();
    if (interactions.size > 1_000) {
      for (const [key, old] of interactions) {
        if (t - old.dispatchedAt <= INTERACTION_TOKEN_TTL_MS) break;
        interactions.delete(key);
        byToken.delete(old.token);
      }
    }
    const tracked: TrackedInteraction = { id, token, dispatchedAt: t, acknowledged: false };
    interactions.set(id, tracked);
    byToken.set(token, tracked);
    return tracked;
  }

  /** Answers a callback Discord would refuse and returns true; else marks the interaction acknowledged. */
  function callbackRefused(
    req: RecordedRequest,
    res: ServerResponse,
    path: string,
    id: string,
    token: string,
  ): boolean {
    const tracked = interactions.get(id);
    const unknown = { code: 10062, message: 'Unknown interaction' };
    if (!tracked || tracked.token !== token) {
      refuse(res, req, path, 404, unknown, `interaction ${id} was never dispatched (or its token is wrong)`);
      return true;
    }
    if (tracked.acknowledged) {
      refuse(
        res,
        req,
        path,
        400,
        { code: 40060, message: 'Interaction has already been acknowledged.' },
        `interaction ${id} was already acknowledged`,
      );
      return true;
    }
    const ageMs = now() - tracked.dispatchedAt;
    if (ageMs > Math.min(firstResponseWindowMs, INTERACTION_TOKEN_TTL_MS)) {
      refuse(
        res,
        req,
        path,
        404,
        unknown,
        `interaction ${id} answered ${ageMs} ms after its dispatch; Discord allows ${firstResponseWindowMs} ms`,
      );
      return true;
    }
    tracked.acknowledged = true;
    const body = bodyJson(req) as { type?: unknown; data?: MessageLike };
    // A deferred answer (5) shows "thinking…" and holds nothing until edited; a component update (6, 7) edits
    // a message this stand-in did not keep.
    tracked.original = body.type === 5 ? {} : body.type === 4 ? (body.data ?? {}) : undefined;
    return false;
  }

  /** Answers an interaction webhook call (`@original`, follow-ups) Discord would refuse and returns true. */
  function webhookRefused(
    req: RecordedRequest,
    res: ServerResponse,
    path: string,
    webhookId: string,
    token: string,
  ): boolean {
    const tracked = byToken.get(token);
    const unknown = { code: 10015, message: 'Unknown Webhook' };
    if (webhookId !== APP_ID || !tracked) {
      refuse(res, req, path, 404, unknown, 'no interaction has this webhook id and token');
      return true;
    }
    const ageMs = now() - tracked.dispatchedAt;
    if (ageMs > INTERACTION_TOKEN_TTL_MS) {
      refuse(
        res,
        req,
        path,
        401,
        { code: 50027, message: 'Invalid Webhook Token' },
        `interaction ${tracked.id}'s token expired ${ageMs - INTERACTION_TOKEN_TTL_MS} ms ago`,
      );
      return true;
    }
    if (!tracked.acknowledged) {
      refuse(res, req, path, 404, unknown, `interaction ${tracked.id} was not acknowledged yet`);
      return true;
    }
    return false;
  }

  const route = (req: RecordedRequest, res: ServerResponse): void => {
    // discord.js percent-encodes route arguments such as `@original`; Discord reads them decoded.
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/api\/v10/, '');
    const original = /^\/webhooks\/\d+\/([^/]+)\/messages\/@original$/.exec(path);
    const tracked = original ? byToken.get(original[1]!) : undefined;
    const refusal = discordRefusal({
      method: req.method,
      path,
      contentType: req.headers['content-type'],
      raw: req.raw,
      current: req.method === 'PATCH' ? tracked?.original : undefined,
    });
    if (refusal) {
      refusals.push({ method: req.method, path: masked(path), problems: refusal.problems });
      return sendJson(res, refusal.status, refusal.body);
    }
    const fault = faults.findIndex((f) => f.match(req));
    if (fault >= 0) {
      const [f] = faults.splice(fault, 1);
      f!.handler(req, res);
      return;
    }
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && path === '/gateway/bot') {
      // A bot that needs shards is a large one; Discord lets those identify several at once (max_concurrency 16).
      const maxConcurrency = shardCount > 1 ? 16 : 1;
      return sendJson(res, 200, {
        url: gatewayUrl,
        shards: shardCount,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: maxConcurrency },
      });
    }
    if (req.method === 'GET' && path === '/applications/@me')
      return sendJson(res, 200, { id: APP_ID, name: 'opg-bot', flags: 0, bot: botUser });
    if (req.method === 'GET' && path === '/users/@me') return sendJson(res, 200, botUser);
    if (req.method === 'PUT' && /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/.test(path)) {
      const body = JSON.parse(req.body) as Array<Record<string, unknown>>;
      return sendJson(
        res,
        200,
        body.map((c) => ({ ...c, id: snowflake(), application_id: APP_ID, version: snowflake() })),
      );
    }
    if (req.method === 'POST' && (m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path))) {
      if (callbackRefused(req, res, path, m[1]!, m[2]!)) return;
      res.writeHead(204).end();
      return;
    }
    if (
      (m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/[^/]+)?$/.exec(path)) &&
      webhookRefused(req, res, path, m[1]!, m[2]!)
    )
      return;
    if ((m = /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/.exec(path))) {
      if (req.method === 'DELETE') {
        if (tracked) tracked.original = undefined;
        res.writeHead(204).end();
        return;
      }
      if (req.method === 'PATCH' && tracked?.original)
        tracked.original = messageAfterEdit(tracked.original, bodyJson(req) as MessageLike);
      return sendJson(res, 200, messageFor(CHANNEL_ID, bodyJson(req)));
    }
    if (req.method === 'POST' && /^\/webhooks\/\d+\/[^/]+$/.test(path))
      return sendJson(res, 200, messageFor(CHANNEL_ID, bodyJson(req)));
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(path)) && req.method === 'POST')
      return postMessage(req, res, path, m[1]!);
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path)) && req.method === 'PATCH') {
      // An edit of the bot's own message: it needs to see the channel, no more. The message itself is not kept.
      const channel = channels.get(m[1]!);
      if (!channel) return sendJson(res, 404, UNKNOWN_CHANNEL);
      if (channel.guild_id && (botPermissions(channel, channels) & P.ViewChannel) === 0n)
        return sendJson(res, 403, MISSING_ACCESS);
      return sendJson(res, 200, { ...messageFor(m[1]!, bodyJson(req)), id: m[2]! });
    }
    if ((m = /^\/channels\/(\d+)$/.exec(path)) && req.method === 'GET') {
      const channel = channels.get(m[1]!);
      if (!channel) return sendJson(res, 404, UNKNOWN_CHANNEL);
      if (channel.guild_id && (botPermissions(channel, channels) & P.ViewChannel) === 0n)
        return sendJson(res, 403, MISSING_ACCESS);
      return sendJson(res, 200, channel);
    }
    if ((m = /^\/guilds\/(\d+)\/members\/(\d+)$/.exec(path)) && req.method === 'GET')
      return sendJson(res, 200, botMember);
    // A route Discord has (the contract let it through) that this stand-in cannot answer as Discord would.
    refuse(res, req, path, 404, { code: 0, message: '404: Not Found' }, 'the stand-in does not implement this route');
  };

  /** `POST /channels/{id}/messages` as Discord answers it from the bot's permissions in that channel. */
  function postMessage(req: RecordedRequest, res: ServerResponse, path: string, channelId: string): void {
    const body = bodyJson(req);
    const boundary = multipartBoundary(req.headers['content-type']);
    const files = boundary ? Object.keys(parseMultipart(req.raw, boundary).files).length : 0;
    const channel = channels.get(channelId);
    const deny = (status: number, answer: { message: string; code: number }) => {
      accessDenied.push({ channelId, status, code: answer.code });
      sendJson(res, status, answer);
    };
    if (!channel) return deny(404, UNKNOWN_CHANNEL);
    // A direct message channel the bot has: no permissions there.
    if (!channel.guild_id) return sendJson(res, 200, messageFor(channelId, body));
    const permissions = botPermissions(channel, channels);
    const has = (bit: bigint) => (permissions & bit) !== 0n;
    if (!has(P.ViewChannel)) return deny(403, MISSING_ACCESS);
    const isThread = channel.type === 10 || channel.type === 11 || channel.type === 12;
    if (!has(isThread ? P.SendMessagesInThreads : P.SendMessages)) return deny(403, MISSING_PERMISSIONS);
    if (files > 0 && !has(P.AttachFiles)) return deny(403, MISSING_PERMISSIONS);
    const embeds = Array.isArray(body.embeds) ? body.embeds : [];
    if (embeds.length > 0 && !has(P.EmbedLinks)) {
      // Discord takes the post and drops its embeds. Buttons alone show none of what the message was for.
      const attachments = Array.isArray(body.attachments) ? body.attachments : [];
      const shows =
        (typeof body.content === 'string' && body.content.trim() !== '') ||
        files > 0 ||
        attachments.length > 0 ||
        (Array.isArray(body.sticker_ids) && body.sticker_ids.length > 0) ||
        body.poll !== undefined;
      if (!shows) {
        refusals.push({
          method: req.method,
          path: masked(path),
          problems: [`the bot lacks Embed Links in channel ${channelId}: its embeds were dropped and it shows nothing`],
        });
      }
      return sendJson(res, 200, messageFor(channelId, { ...body, embeds: [] }));
    }
    sendJson(res, 200, messageFor(channelId, body));
  }

  const rest = await startLoopbackServer((req, res) => {
    events.emit('request', req);
    route(req, res);
  });

  const send = (ws: WebSocket, payload: unknown) => ws.send(JSON.stringify(payload));
  const dispatchTo = (ws: WebSocket, t: string, d: unknown, written?: () => void) =>
    ws.send(JSON.stringify({ op: 0, t, s: ++sequence, d }), written);

  const standIn: DiscordStandIn = {
    rest,
    apiUrl: `${rest.url}/api`,
    gatewayUrl,
    identifies: 0,
    identifiedShards: [],
    dispatched: [],
    readies: [],
    resumes: 0,
    heartbeats: 0,
    failNext(match, handler) {
      faults.push({ match, handler });
    },
    waitForRequest(match, sinceIndex = rest.requests.length) {
      const already = rest.requests.slice(sinceIndex).find(match);
      if (already) return Promise.resolve(already);
      return new Promise((resolve) => {
        const listener = (req: RecordedRequest) => {
          if (!match(req)) return;
          events.off('request', listener);
          resolve(req);
        };
        events.on('request', listener);
      });
    },
    onRequest(listener) {
      events.on('request', listener);
      return () => events.off('request', listener);
    },
    waitForSession(count = 1) {
      if (sessions >= count) return Promise.resolve();
      return new Promise((resolve) => {
        const listener = () => {
          if (sessions < count) return;
          events.off('session', listener);
          resolve();
        };
        events.on('session', listener);
      });
    },
    dispatch(t, d) {
      const tracked = t === 'INTERACTION_CREATE' ? track(d) : null;
      let written = false;
      // A guild's events go out on its shard; an interaction outside a guild (a DM) on shard 0.
      const guildId = (d as { guild_id?: unknown } | null)?.guild_id;
      const shard = typeof guildId === 'string' ? shardOf(guildId, shardCount) : tracked ? 0 : null;
      standIn.dispatched.push({ t, shard: shard ?? -1, ...(tracked ? { id: tracked.id } : {}) });
      for (const [ws, wsShard] of ready) {
        if (shard !== null && wsShard !== shard) continue;
        dispatchTo(ws, t, d, () => {
          // The 3 s start when the event has left for the bot, not when a busy test process asked for it.
          if (tracked && !written) tracked.dispatchedAt = now();
          written = true;
        });
      }
    },
    interact(payload) {
      standIn.dispatch('INTERACTION_CREATE', payload);
      return { id: payload.id as string, token: payload.token as string };
    },
    slash(o) {
      const leaf = { type: 1, name: o.subcommand, options: o.options ?? [] };
      const top = o.group ? { type: 2, name: o.group, options: [leaf] } : leaf;
      return base(
        2,
        { id: snowflake(), name: 'opg', type: 1, options: [top], ...(o.dm ? {} : { guild_id: GUILD_ID }) },
        o,
      );
    },
    button(customId, o = {}) {
      return {
        ...base(3, { custom_id: customId, component_type: 2 }, { subcommand: '', permissions: o.permissions }),
        message: messageFor(CHANNEL_ID, { embeds: [{ title: 'OPG stats' }], components: [] }),
      };
    },
    refusals,
    allowRefusals() {
      refusalsAllowed = true;
    },
    accessDenied,
    setChannel(channelId, overwrites = []) {
      const known = channels.get(channelId);
      if (known) known.permission_overwrites = structuredClone(overwrites);
      else channels.set(channelId, textChannel(channelId, `channel-${channelId}`, structuredClone(overwrites)));
    },
    deleteChannel(channelId) {
      channels.delete(channelId);
    },
    closeGateway(code = 4000) {
      for (const ws of wss.clients) ws.close(code, 'stand-in closing');
      ready.clear();
    },
    closeShard(shard, code = 4000) {
      for (const [ws, id] of [...ready]) {
        if (id !== shard) continue;
        ws.close(code, 'stand-in closing');
        ready.delete(ws);
      }
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await rest.close();
      if (refusals.length > 0 && !refusalsAllowed) {
        throw new Error(
          `Discord would refuse ${refusals.length} request(s):\n` +
            refusals.map((r) => `${r.method} ${r.path}: ${r.problems.join('; ')}`).join('\n'),
        );
      }
    },
  };

  function base(type: number, data: Record<string, unknown>, o: InteractionOptions): Record<string, unknown> {
    const user = {
      id: '600000000000000002',
      username: 'holder',
      discriminator: '0',
      global_name: 'Holder',
      avatar: null,
    };
    const common = {
      id: snowflake(),
      application_id: APP_ID,
      type,
      token: `interaction-token-${snowflake()}`,
      version: 1,
      data,
      locale: 'en-US',
      entitlements: [],
      app_permissions: String(EVERYONE_PERMISSIONS),
      attachment_size_limit: 10_485_760,
    };
    if (o.dm) {
      return {
        ...common,
        channel_id: DM_CHANNEL_ID,
        channel: { id: DM_CHANNEL_ID, type: 1, recipients: [user], last_message_id: null, flags: 0 },
        user,
        context: 1,
        authorizing_integration_owners: { '0': user.id },
      };
    }
    const channelId = o.channelId ?? CHANNEL_ID;
    return {
      ...common,
      guild_id: GUILD_ID,
      guild_locale: 'en-US',
      guild: { id: GUILD_ID, locale: 'en-US', features: [] },
      channel_id: channelId,
      channel: {
        ...channels.get(channelId),
        permissions: String(o.permissions ?? EVERYONE_PERMISSIONS),
      },
      member: {
        user,
        roles: [],
        permissions: String(o.permissions ?? EVERYONE_PERMISSIONS),
        nick: null,
        avatar: null,
        joined_at: '2026-02-01T00:00:00.000Z',
        premium_since: null,
        deaf: false,
        mute: false,
        flags: 0,
        pending: false,
        communication_disabled_until: null,
      },
      context: 0,
      authorizing_integration_owners: { '0': GUILD_ID },
    };
  }

  wss.on('connection', (ws) => {
    send(ws, { op: 10, d: { heartbeat_interval: options.heartbeatIntervalMs ?? 41_250 } });
    ws.on('message', (raw) => {
      const payload = JSON.parse(String(raw)) as { op: number; d: unknown };
      if (payload.op === 1) {
        standIn.heartbeats += 1;
        send(ws, { op: 11 });
      } else if (payload.op === 2) {
        standIn.identifies += 1;
        const asked = (payload.d as { shard?: unknown } | null)?.shard ?? null;
        if (asked === null && shardCount > 1) return ws.close(4011, 'Sharding required.');
        const field: unknown = asked ?? [0, 1];
        if (!Array.isArray(field) || field.length !== 2) return ws.close(4010, 'Invalid shard.');
        const [id, count] = field as [unknown, unknown];
        if (
          typeof id !== 'number' ||
          typeof count !== 'number' ||
          !Number.isInteger(id) ||
          !Number.isInteger(count) ||
          count < 1 ||
          id < 0 ||
          id >= count
        ) {
          return ws.close(4010, 'Invalid shard.');
        }
        // Fewer shards than Discord requires for this bot's guilds is refused the same way.
        if (count < shardCount) return ws.close(4011, 'Sharding required.');
        standIn.identifiedShards.push([id, count]);
        const sessionId = `session-${snowflake()}`;
        sessionShards.set(sessionId, id);
        const guildIds = [GUILD_ID].filter((g) => shardOf(g, count) === id);
        standIn.readies.push({ shard: [id, count], guildIds });
        dispatchTo(ws, 'READY', {
          v: 10,
          user: botUser,
          guilds: guildIds.map((g) => ({ id: g, unavailable: true })),
          session_id: sessionId,
          resume_gateway_url: gatewayUrl,
          shard: [id, count],
          application: { id: APP_ID, flags: 0 },
        });
        if (guildIds.includes(GUILD_ID)) dispatchTo(ws, 'GUILD_CREATE', guild);
        ready.set(ws, id);
        sessions += 1;
        events.emit('session');
      } else if (payload.op === 6) {
        standIn.resumes += 1;
        dispatchTo(ws, 'RESUMED', null);
        ready.set(ws, sessionShards.get((payload.d as { session_id?: string } | null)?.session_id ?? '') ?? 0);
        sessions += 1;
        events.emit('session');
      }
    });
    ws.on('close', () => ready.delete(ws));
  });

  return standIn;
}

function once(emitter: { once(event: string, listener: () => void): unknown }, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}
