/** A loopback Blockscout: `/api/v2/stats` with counters as strings, as Blockscout sends them. */
import { onTestFinished } from 'vitest';
import { sendJson, startLoopbackServer, type LoopbackServer } from './http-server.js';

export async function startExplorer(
  stats: Record<string, unknown> = {
    total_transactions: '1234567',
    transactions_today: '3456',
    total_blocks: '70000',
    average_block_time: 2000,
  },
): Promise<LoopbackServer & { apiUrl: string }> {
  const server = await startLoopbackServer((req, res) => {
    if (req.url === '/api/v2/stats') return sendJson(res, 200, stats);
    sendJson(res, 404, { message: 'Not found' });
  });
  onTestFinished(() => server.close());
  return { ...server, apiUrl: `${server.url}/api/v2` };
}
