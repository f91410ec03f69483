/**
 * The bot's HTTP endpoint: a small router over `node:http`, with the limits a server next to other
 * services needs. Routes are mounted by method and exact path, so the operations routes and, later, the
 * Telegram webhook share one listener without knowing about each other.
 *
 * Bad input: an unknown path is 404, a known path with another method 405 (with `Allow`), a client that
 * is slow to send its headers or its request is cut off, and a body sent to a route that does not read it
 * is never buffered (the connection is closed after the answer instead of draining it).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';

export type Method = 'GET' | 'POST';

export interface RouteAnswer {
  status: number;
  /** Sent as is with `contentType`, or as JSON when an object. */
  body: string | object;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Answers one request. Only handlers that declare `readsBody` may read `req`; the others never see a body. */
export type RouteHandler = (req: IncomingMessage) => Promise<RouteAnswer> | RouteAnswer;

export interface RouteOptions {
  /** The handler consumes the request body itself (a webhook); otherwise a body is ignored. */
  readsBody?: boolean;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Most time to receive a request's headers. Default 10 s. */
  headersTimeoutMs?: number;
  /** Most time to receive a whole request. Default 15 s. */
  requestTimeoutMs?: number;
  /** An idle kept-alive connection is closed after this. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** How often the timeouts above are checked. Default 1 s. */
  checkIntervalMs?: number;
}

export interface HttpServer {
  /** Mounts a handler; mounting the same method and path twice is a programming error. */
  route(method: Method, path: string, handler: RouteHandler, options?: RouteOptions): void;
  /** Starts listening; resolves with the address actually bound (port 0 picks a free one). */
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting, closes idle connections, and resolves once in-flight answers are done (at most 2 s). */
  close(): Promise<void>;
}

/** Answers in flight get this long to finish when the server closes. */
const CLOSE_GRACE_MS = 2_000;

interface Route {
  handler: RouteHandler;
  readsBody: boolean;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { logger } = options;
  const routes = new Map<string, Map<Method, Route>>();
  const server: Server = createServer({
    headersTimeout: options.headersTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 15_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    connectionsCheckingInterval: options.checkIntervalMs ?? 1_000,
    maxHeaderSize: 8 * 1024,
  });
  server.maxHeadersCount = 50;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Timeouts, oversized or malformed requests: answer if the socket can still take it, then close.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    if (socket.writable)
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` + 'Connection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // Whatever escapes the handler's own boundary (writing the answer) ends this request, never the process.
    answer(req, res).catch((err: unknown) => {
      logger.error({ err }, 'operations endpoint failed to write an answer');
      res.destroy();
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const byMethod = routes.get(path);
    const method = req.method === 'HEAD' ? 'GET' : (req.method as Method);
    const route = byMethod?.get(method);
    if (!route?.readsBody && hasBody(req)) res.shouldKeepAlive = false;
    let result: RouteAnswer;
    if (!byMethod) result = { status: 404, body: { error: 'not found' } };
    else if (!route) {
      const allow = [...byMethod.keys()].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
      result = { status: 405, body: { error: 'method not allowed' }, headers: { allow } };
    } else {
      try {
        result = await route.handler(req);
      } catch (err) {
        logger.error({ err, path }, 'operations endpoint failed to answer');
        result = { status: 500, body: { error: 'internal error' } };
      }
    }
    const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
    res.writeHead(result.status, {
      'content-type':
        result.contentType ??
        (typeof result.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8'),
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      ...result.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return {
    route(method, path, handler, routeOptions) {
      const byMethod = routes.get(path) ?? new Map<Method, Route>();
      if (byMethod.has(method)) throw new Error(`${method} ${path} is already mounted`);
      byMethod.set(method, { handler, readsBody: routeOptions?.readsBody ?? false });
      routes.set(path, byMethod);
    },
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          resolve({ host: address.address, port: address.port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
        // A stop must not wait out a client that keeps a request open.
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      });
    },
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
