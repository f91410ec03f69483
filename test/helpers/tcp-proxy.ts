import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface TcpProxy {
  /** Where clients connect: `127.0.0.1:<port>`. */
  host: string;
  port: number;
  /**
   * Stops passing bytes either way while keeping every socket open: to the client, the server has gone silent
   * (a query gets no answer). A side that closes its socket is still passed on.
   */
  freeze(): void;
  /**
   * The server is gone: every connection through the proxy is closed, and new ones are closed as soon as they
   * open (the port stays bound, so `restore()` brings the same address back).
   */
  cut(): void;
  /** Connections are passed on again (after `cut()`). */
  restore(): void;
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` (on `port`, or a free one), closed when the test ends. */
export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  let frozen = false;
  let cut = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    return closing;
  };
  onTestFinished(close);
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    cut: () => {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      cut = false;
    },
    close,
  };
}

/**
 * A proxy in front of the PostgreSQL server of `url` (on `port`, or a free one), and the same database's URL
 * through it: the test can then freeze or cut the server for one client while the others reach it directly.
 */
export async function proxyToDatabase(url: string, port = 0): Promise<{ proxy: TcpProxy; url: string }> {
  const server = new URL(url);
  const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) }, port);
  const through = new URL(url);
  through.hostname = proxy.host;
  through.port = String(proxy.port);
  return { proxy, url: through.toString() };
}
