import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { createHttpServer, type HttpServer, type HttpServerOptions } from '../../src/ops/http-server.js';

async function serve(
  options: Partial<HttpServerOptions> = {},
  mount: (s: HttpServer) => void = () => {},
): Promise<string> {
  const server = createHttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger, ...options });
  server.route('GET', '/healthz', () => ({ status: 200, body: { status: 'ok' } }));
  mount(server);
  const { port } = await server.listen();
  onTestFinished(() => server.close());
  return `http://127.0.0.1:${port}`;
}

/** Writes raw bytes on a fresh connection and resolves with everything the server sent before it closed. */
async function raw(base: string, request: string, waitMs = 5_000): Promise<{ text: string; closedAfterMs: number }> {
  const { port } = new URL(base);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  onTestFinished(() => void socket.destroy());
  await once(socket, 'connect');
  const started = performance.now();
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.write(request);
  const closed = once(socket, 'close');
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`the server kept the socket open: ${text}`)), waitMs),
  );
  await Promise.race([closed, timeout]);
  return { text, closedAfterMs: performance.now() - started };
}

describe('the operations HTTP server', () => {
  it('answers an unknown path 404 and another method on a known path 405 with Allow', async () => {
    const base = await serve();
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found' });
    const post = await fetch(`${base}/healthz`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const del = await fetch(`${base}/healthz`, { method: 'DELETE' });
    expect(del.status).toBe(405);
  });

  it('answers HEAD like GET without a body, and ignores a query string', async () => {
    const base = await serve();
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${base}/healthz?verbose=1`)).status).toBe(200);
  });

  it('answers a GET that carries a body without reading it, then closes that connection', async () => {
    let handled = 0;
    const base = await serve({}, (s) =>
      s.route('GET', '/probe', () => ((handled += 1), { status: 200, body: 'fine' })),
    );
    // Announces 1 MB and sends 5 bytes: an answer that waited for the body would never come.
    const { text } = await raw(base, 'GET /probe HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\nhello');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text.endsWith('fine')).toBe(true);
    expect(handled).toBe(1);
  });

  it('cuts off a client that is too slow to send its headers', async () => {
    const base = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 100 });
    const { text, closedAfterMs } = await raw(base, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeGreaterThanOrEqual(250);
  });

  it('answers headers too large with 431 and its own reason phrase, then closes', async () => {
    const base = await serve();
    const { text } = await raw(base, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  });

  it('ends only the request whose answer cannot be written, and keeps serving', async () => {
    const base = await serve({}, (s) =>
      // JSON.stringify throws on a bigint: after the handler returned, outside its try.
      s.route('GET', '/bigint', () => ({ status: 200, body: { n: 1n } as unknown as Record<string, unknown> })),
    );
    await expect(fetch(`${base}/bigint`)).rejects.toThrow();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('turns a handler that throws into a 500 with no detail, and keeps serving', async () => {
    const base = await serve({}, (s) =>
      s.route('GET', '/boom', () => {
        throw new Error('secret detail');
      }),
    );
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret detail');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('serves another route mounted beside the operations ones, such as a webhook that reads its body', async () => {
    const seen: string[] = [];
    const base = await serve({}, (s) =>
      s.route(
        'POST',
        '/telegram/webhook',
        async (req) => {
          let body = '';
          for await (const chunk of req) body += String(chunk);
          seen.push(body);
          return { status: 200, body: { ok: true } };
        },
        { readsBody: true },
      ),
    );
    const res = await fetch(`${base}/telegram/webhook`, { method: 'POST', body: '{"update_id":1}' });
    expect(res.status).toBe(200);
    expect(seen).toEqual(['{"update_id":1}']);
    expect((await fetch(`${base}/telegram/webhook`)).status).toBe(405);
  });

  it('refuses to mount one method and path twice', () => {
    const server = createHttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    server.route('GET', '/metrics', () => ({ status: 200, body: '' }));
    expect(() => server.route('GET', '/metrics', () => ({ status: 200, body: '' }))).toThrow(
      'GET /metrics is already mounted',
    );
  });
});
