/**
 * The load side of `discord.bench.ts`, run in a child process so the loopback gateway and REST do not share
 * the bot's event loop: the figures then measure the bot, not the stand-ins. Messages: it posts `{ apiUrl }`,
 * waits for `'go'`, posts one `{ line }` per figure and `{ done: true }` at the end.
 */
import { performance } from 'node:perf_hooks';
import { startDiscordStandIn } from '../test/helpers/discord-server.js';

const port = {
  postMessage: (m: unknown) => process.send!(m),
  once: (e: 'message', f: (m: unknown) => void) => process.once(e, f),
};
const discord = await startDiscordStandIn();
// Answers past Discord's 3 s are a figure here, reported below, not a crash of the benchmark.
discord.allowRefusals();
const sentAt = new Map<string, number>();
const latencies: number[] = [];
let waiting: (() => void) | null = null;
discord.onRequest((req) => {
  const id = /\/interactions\/(\d+)\//.exec(req.url)?.[1];
  const t0 = id ? sentAt.get(id) : undefined;
  if (t0 === undefined) return;
  latencies.push(performance.now() - t0);
  sentAt.delete(id!);
  discord.rest.requests.length = 0;
  waiting?.();
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const figures = (l: number[]) => `p50 ${percentile(l, 50).toFixed(2)} ms, p99 ${percentile(l, 99).toFixed(2)} ms`;

function send(): void {
  const p = discord.slash({ subcommand: 'stats' });
  sentAt.set(p.id as string, performance.now());
  discord.interact(p);
}

/** Keeps `window` interactions unanswered at most until `total` are answered (a closed loop). */
async function drive(total: number, window: number) {
  latencies.length = 0;
  const start = performance.now();
  let sent = 0;
  while (latencies.length < total) {
    while (sent < total && sent - latencies.length < window) {
      send();
      sent += 1;
    }
    await new Promise<void>((resolve) => (waiting = resolve));
  }
  return { elapsedMs: performance.now() - start, latencies: [...latencies].sort((a, b) => a - b) };
}

/** Sends `total` at `perSecond` whatever the answers do (an open loop, as real traffic is). */
async function pace(total: number, perSecond: number) {
  latencies.length = 0;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000) + 1);
    for (; sent < due; sent += 1) send();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  while (latencies.length < total) await new Promise<void>((resolve) => (waiting = resolve));
  return { elapsedMs: performance.now() - start, latencies: [...latencies].sort((a, b) => a - b) };
}

port.postMessage({ apiUrl: discord.apiUrl });
await new Promise((resolve) => port.once('message', resolve));
await discord.waitForSession();

await drive(1_000, 16); // warm-up: JIT, caches, keep-alive connections
const single = await drive(1_000, 1);
port.postMessage({
  line:
    `one at a time: ${figures(single.latencies)} from dispatch to callback ` +
    `(${single.latencies.length} interactions)`,
});
for (const rate of [500, 1_000]) {
  const paced = await pace(rate * 4, rate);
  port.postMessage({ line: `offered ${rate}/s for 4 s: ${figures(paced.latencies)} from dispatch to callback` });
}
const saturated = await drive(10_000, 64);
port.postMessage({
  line:
    `saturated (64 in flight): ` +
    `${Math.round((saturated.latencies.length / saturated.elapsedMs) * 1000)} interactions/s answered`,
});
const late = discord.refusals.filter((r) => r.problems.some((p) => p.includes('after its dispatch'))).length;
port.postMessage({
  line:
    `answers Discord would refuse as later than 3 s after the dispatch: ${late}; ` +
    `other refusals: ${discord.refusals.length - late}`,
});
await discord.close();
port.postMessage({ done: true });
process.disconnect();
