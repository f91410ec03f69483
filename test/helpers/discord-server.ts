/**
 * Loopback stand-ins for Discord: the REST API (`/api/v10/…`, JSON answers) and the gateway (`ws`), speaking
 * the real shapes discord.js 14 expects. The REST's `/gateway/bot` names the gateway, so a client pointed at
 * `rest.url + '/api'` finds both. Faults are queued per request (`failNext`) and the gateway can be closed.
 * No vitest import: the benchmark uses it too; callers close it.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermissionFlagsBits } from 'discord.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { discordRefusal, prepareDiscordContract } from './discord-contract.js';
import { sendJson, startLoopbackServer, type LoopbackServer, type RecordedRequest } from './http-server.js';

export const APP_ID = '900000000000000001';
export const GUILD_ID = '800000000000000001';
export const CHANNEL_ID = '800000000000000010';
/** A channel whose overwrites deny the bot Send Messages and Embed Links. */
export const LOCKED_CHANNEL_ID = '800000000000000011';
/** A channel the bot cannot see at all. */
export const HIDDEN_CHANNEL_ID = '800000000000000012';
export const DM_CHANNEL_ID = '700000000000000001';

const P = PermissionFlagsBits;
export const EVERYONE_PERMISSIONS = P.ViewChannel | P.SendMessages | P.EmbedLinks | P.AttachFiles | P.ReadMessageHistory | P.UseApplicationCommands;
export const MODERATOR_PERMISSIONS = EVERYONE_PERMISSIONS | P.ManageGuild;

export const botUser = { id: APP_ID, username: 'opg-bot', discriminator: '0', global_name: null, avatar: null, bot: true };

function textChannel(id: string, name: string, overwrites: unknown[] = []) {
  return { id, type: 0, guild_id: GUILD_ID, name, position: 0, permission_overwrites: overwrites, parent_id: null, topic: null, nsfw: false, last_message_id: null, rate_limit_per_user: 0 };
}

export const guildChannels = [
  textChannel(CHANNEL_ID, 'general'),
  textChannel(LOCKED_CHANNEL_ID, 'announcements', [{ id: GUILD_ID, type: 0, allow: '0', deny: String(P.SendMessages | P.EmbedLinks) }]),
  textChannel(HIDDEN_CHANNEL_ID, 'mods', [{ id: GUILD_ID, type: 0, allow: '0', deny: String(P.ViewChannel) }]),
];

const botMember = { user: botUser, roles: [], nick: null, avatar: null, joined_at: '2026-01-01T00:00:00.000Z', premium_since: null, deaf: false, mute: false, flags: 0, pending: false };

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
  roles: [{ id: GUILD_ID, name: '@everyone', color: 0, hoist: false, icon: null, unicode_emoji: null, position: 0, permissions: String(EVERYONE_PERMISSIONS), managed: false, mentionable: false, flags: 0 }],
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
  threads: [],
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
  resumes: number;
  heartbeats: number;
  /** Answers the next request that matches with `handler` instead of normally (a fault); one per call. */
  failNext(match: (req: RecordedRequest) => boolean, handler: (req: RecordedRequest, res: ServerResponse) => void): void;
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
   * Requests refused as Discord would refuse them (discord-contract.ts), each answered with Discord's 400.
   * `close()` rejects naming them unless `allowRefusals()` was called, so no test passes on a request
   * Discord would refuse.
   */
  refusals: Array<{ method: string; path: string; problems: string[] }>;
  /** For tests that send a bad request on purpose and check how the bot handles the 400. */
  allowRefusals(): void;
  /** Closes every gateway connection with `code`, as Discord does before a reconnect. */
  closeGateway(code?: number): void;
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

export async function startDiscordStandIn(options: { heartbeatIntervalMs?: number } = {}): Promise<DiscordStandIn> {
  prepareDiscordContract();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const faults: Array<{ match: (req: RecordedRequest) => boolean; handler: (req: RecordedRequest, res: ServerResponse) => void }> = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const gatewayUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const ready = new Set<WebSocket>();
  let sequence = 0;
  let sessions = 0;

  const refusals: DiscordStandIn['refusals'] = [];
  let refusalsAllowed = false;
  const route = (req: RecordedRequest, res: ServerResponse): void => {
    // discord.js percent-encodes route arguments such as `@original`; Discord reads them decoded.
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/api\/v10/, '');
    const refusal = discordRefusal({ method: req.method, path, contentType: req.headers['content-type'], raw: req.raw });
    if (refusal) {
      refusals.push({ method: req.method, path: path.replace(/\/[\w-]{60,}/, '/<token>'), problems: refusal.problems });
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
      return sendJson(res, 200, { url: gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } });
    }
    if (req.method === 'GET' && path === '/applications/@me') return sendJson(res, 200, { id: APP_ID, name: 'opg-bot', flags: 0, bot: botUser });
    if (req.method === 'GET' && path === '/users/@me') return sendJson(res, 200, botUser);
    if (req.method === 'PUT' && /^\/applications\/\d+(\/guilds\/\d+)?\/commands$/.test(path)) {
      const body = JSON.parse(req.body) as Array<Record<string, unknown>>;
      return sendJson(res, 200, body.map((c) => ({ ...c, id: snowflake(), application_id: APP_ID, version: snowflake() })));
    }
    if (req.method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(path)) {
      res.writeHead(204).end();
      return;
    }
    if ((m = /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/.exec(path))) {
      if (req.method === 'DELETE') {
        res.writeHead(204).end();
        return;
      }
      return sendJson(res, 200, messageFor(CHANNEL_ID, bodyJson(req)));
    }
    if (req.method === 'POST' && /^\/webhooks\/\d+\/[^/]+$/.test(path)) return sendJson(res, 200, messageFor(CHANNEL_ID, bodyJson(req)));
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(path)) && req.method === 'POST') {
      return sendJson(res, 200, messageFor(m[1]!, bodyJson(req)));
    }
    if ((m = /^\/channels\/(\d+)$/.exec(path)) && req.method === 'GET') {
      const channel = guildChannels.find((c) => c.id === m![1]);
      if (!channel) return sendJson(res, 404, { message: 'Unknown Channel', code: 10003 });
      if (channel.id === HIDDEN_CHANNEL_ID) return sendJson(res, 403, { message: 'Missing Access', code: 50001 });
      return sendJson(res, 200, channel);
    }
    if ((m = /^\/guilds\/(\d+)\/members\/(\d+)$/.exec(path)) && req.method === 'GET') return sendJson(res, 200, botMember);
    sendJson(res, 404, { message: '404: Not Found', code: 0 });
  };

  const rest = await startLoopbackServer((req, res) => {
    events.emit('request', req);
    route(req, res);
  });

  const send = (ws: WebSocket, payload: unknown) => ws.send(JSON.stringify(payload));
  const dispatchTo = (ws: WebSocket, t: string, d: unknown) => send(ws, { op: 0, t, s: ++sequence, d });

  const standIn: DiscordStandIn = {
    rest,
    apiUrl: `${rest.url}/api`,
    gatewayUrl,
    identifies: 0,
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
      for (const ws of ready) dispatchTo(ws, t, d);
    },
    interact(payload) {
      standIn.dispatch('INTERACTION_CREATE', payload);
      return { id: payload.id as string, token: payload.token as string };
    },
    slash(o) {
      const leaf = { type: 1, name: o.subcommand, options: o.options ?? [] };
      const top = o.group ? { type: 2, name: o.group, options: [leaf] } : leaf;
      return base(2, { id: snowflake(), name: 'opg', type: 1, options: [top], ...(o.dm ? {} : { guild_id: GUILD_ID }) }, o);
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
    closeGateway(code = 4000) {
      for (const ws of wss.clients) ws.close(code, 'stand-in closing');
      ready.clear();
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await rest.close();
      if (refusals.length > 0 && !refusalsAllowed) {
        throw new Error(`Discord would refuse ${refusals.length} request(s):\n${refusals.map((r) => `${r.method} ${r.path}: ${r.problems.join('; ')}`).join('\n')}`);
      }
    },
  };

  function base(type: number, data: Record<string, unknown>, o: InteractionOptions): Record<string, unknown> {
    const user = { id: '600000000000000002', username: 'holder', discriminator: '0', global_name: 'Holder', avatar: null };
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
      return { ...common, channel_id: DM_CHANNEL_ID, channel: { id: DM_CHANNEL_ID, type: 1, recipients: [user], last_message_id: null, flags: 0 }, user, context: 1, authorizing_integration_owners: { '0': user.id } };
    }
    const channelId = o.channelId ?? CHANNEL_ID;
    return {
      ...common,
      guild_id: GUILD_ID,
      guild_locale: 'en-US',
      guild: { id: GUILD_ID, locale: 'en-US', features: [] },
      channel_id: channelId,
      channel: { ...guildChannels.find((c) => c.id === channelId), permissions: String(o.permissions ?? EVERYONE_PERMISSIONS) },
      member: { user, roles: [], permissions: String(o.permissions ?? EVERYONE_PERMISSIONS), nick: null, avatar: null, joined_at: '2026-02-01T00:00:00.000Z', premium_since: null, deaf: false, mute: false, flags: 0, pending: false, communication_disabled_until: null },
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
        const sessionId = `session-${snowflake()}`;
        dispatchTo(ws, 'READY', {
          v: 10,
          user: botUser,
          guilds: [{ id: GUILD_ID, unavailable: true }],
          session_id: sessionId,
          resume_gateway_url: gatewayUrl,
          shard: [0, 1],
          application: { id: APP_ID, flags: 0 },
        });
        dispatchTo(ws, 'GUILD_CREATE', guild);
        ready.add(ws);
        sessions += 1;
        events.emit('session');
      } else if (payload.op === 6) {
        standIn.resumes += 1;
        dispatchTo(ws, 'RESUMED', null);
        ready.add(ws);
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
