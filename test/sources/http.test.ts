import type { ServerResponse } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NetworkError, RateLimitedError, UpstreamError } from '../../src/core/errors.js';
import { requestJsonItems } from '../../src/sources/http.js';
import { startLoopbackServer, type Handler, loopbackAgent } from '../helpers/http-server.js';

async function serve(handler: Handler) {
  const server = await startLoopbackServer(handler);
  onTestFinished(() => server.close());
  return server;
}

const req = (url: string) => ({
  source: 'Test node',
  url: `${url}/rpc?key=secret`,
  method: 'POST' as const,
  body: '{}',
});

/** How every request here is sent: the loopback agent, 2 s to answer. */
const HTTP = { dispatcher: loopbackAgent, timeoutMs: 2_000 };

describe('requestJsonItems', () => {
  it('hands over each item as it arrives, before the body has ended', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const server = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"jsonrpc":"2.0","id":7,"result":[{"n":1},{"n"');
      res.write(':2},');
      await held;
      res.end('{"n":3}]}');
    });
    const seen: unknown[] = [];
    const answer = requestJsonItems(HTTP, req(server.url), 'result', (item) => {
      seen.push(item);
      if (seen.length === 2) release();
    });
    await expect(answer).resolves.toEqual({ value: { jsonrpc: '2.0', id: 7, result: [] }, items: 3, streamed: true });
    expect(seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('reports a connection closed mid-body as a NetworkError', async () => {
    const server = await serve((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"result":[{"n":1},{"n":2');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const err = await requestJsonItems(HTTP, req(server.url), 'result', () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(/body cut off/);
    expect((err as Error).message).not.toMatch(/secret/);
  });

  it('reports a whole body that is not JSON as an UpstreamError naming its type', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>502</html>');
    });
    const err = await requestJsonItems(HTTP, req(server.url), 'result', () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/answered text\/html that is not JSON/);
  });

  it('reports a body that ends inside the array as an UpstreamError', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"result":[{"n":1},');
    });
    await expect(requestJsonItems(HTTP, req(server.url), 'result', () => {})).rejects.toThrow(UpstreamError);
  });

  it('sorts error statuses as requestJson does', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(429, { 'retry-after': '3' });
      res.end('slow down');
    });
    const limited = await requestJsonItems(HTTP, req(server.url), 'result', () => {}).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect((limited as RateLimitedError).retryAfterMs).toBe(3_000);
    server.setHandler((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":"node syncing"}');
    });
    const down = await requestJsonItems(HTTP, req(server.url), 'result', () => {}).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(UpstreamError);
    expect(down).toMatchObject({ status: 503 });
    expect((down as Error).message).toMatch(/HTTP 503 .*: node syncing/);
  });

  it('abandons the answer with the error onItem throws', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"result":[${Array.from({ length: 1_000 }, (_, n) => `{"n":${n}}`).join(',')}]}`);
    });
    let seen = 0;
    const err = await requestJsonItems(HTTP, req(server.url), 'result', () => {
      if (++seen === 3) throw new RangeError('bad item');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(seen).toBe(3);
  });

  it('gives up on a body that stops arriving, within the deadline', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"result":[{"n":1},');
    });
    const err = await requestJsonItems(
      { dispatcher: loopbackAgent, timeoutMs: 200 },
      req(server.url),
      'result',
      () => {},
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(/within 200 ms/);
  });
});
