/**
 * How discord.js's REST reaches Discord: through the project's own undici and a dispatcher we hand it,
 * never through whichever undici owns the process-wide global dispatcher.
 *
 * Why: `@discordjs/rest` ships its own undici (6) and, by default, sends with its `request()` and the
 * global dispatcher. Both undici majors keep that dispatcher under one global symbol, and importing the
 * project's undici (7) installs its Agent there, so discord.js's multipart bodies (every message with a
 * file: charts) were written by the other major's client and failed with `TypeError: action is not a
 * function` (discord.js issue 10946). Pinning one major to the other breaks on the next upgrade of either.
 * This strategy relies only on public contracts: REST's `makeRequest(url, init) → ResponseLike` option and
 * the WHATWG `Response`, which turns any body discord.js builds (its `FormData` is the runtime's global)
 * into bytes and a content type that any HTTP client can send.
 */
import type { RESTOptions } from 'discord.js';
import { request, type Dispatcher } from 'undici';

type MakeRequest = RESTOptions['makeRequest'];
type Init = Parameters<MakeRequest>[1];
type ResponseLike = Awaited<ReturnType<MakeRequest>>;

/** Discord's global rate limit: requests a second for one bot token, every route together. */
export const DISCORD_GLOBAL_REQUESTS_PER_SECOND = 50;
/**
 * The alert sink's share of it (its own REST, see sink.ts); the front end's REST takes the rest, so both
 * together stay inside the global limit. The dispatcher paces Discord alerts at 20 a second (DISCORD_LIMITS),
 * which leaves the sink room for a plain retry of a refused message without meeting its own cap.
 */
export const DISCORD_SINK_REQUESTS_PER_SECOND = 25;

/** Statuses whose `Response` may not carry a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `makeRequest` for discord.js's REST that sends through `dispatcher` with the project's undici.
 * Answers are read whole (Discord's are small JSON) and returned as a standard `Response`.
 */
export function createDiscordRequest(dispatcher: Dispatcher): MakeRequest {
  return async (url, init) => {
    const headers = headerRecord(init.headers);
    const body = await encodeBody(init.body, headers);
    const res = await request(url, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body,
      signal: init.signal ?? undefined,
      dispatcher,
    });
    const bytes = await res.body.arrayBuffer();
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
    }
    const response = new Response(NULL_BODY_STATUSES.has(res.statusCode) ? null : bytes, {
      status: res.statusCode,
      headers: responseHeaders,
    });
    // The DOM and node:stream/web typings of ReadableStream differ only in their generics.
    return response as unknown as ResponseLike;
  };
}

function headerRecord(headers: Init['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  new Headers(headers as HeadersInit).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** Strings and bytes go as they are; anything else (FormData, Blob, streams) through `Response`. */
async function encodeBody(body: Init['body'], headers: Record<string, string>): Promise<string | Uint8Array | null> {
  if (body == null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  const encoded = new Response(body as BodyInit);
  const type = encoded.headers.get('content-type');
  if (type && !headers['content-type']) headers['content-type'] = type;
  return new Uint8Array(await encoded.arrayBuffer());
}
