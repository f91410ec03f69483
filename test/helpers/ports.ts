import { createServer } from 'node:net';

/** A loopback port nobody listens on right now, so a process's own URL can name it before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The role the instance on `port` reports on /readyz (`leader`, `standby`), or null when it does not answer. */
export async function roleOn(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
    return ((await res.json()) as { role?: string }).role ?? null;
  } catch {
    return null;
  }
}
