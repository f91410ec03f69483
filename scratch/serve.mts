import { startLoopbackServer, sendJson } from '../test/helpers/http-server.js';
import { startOgNode } from '../test/helpers/og-rpc-server.js';
import { testChain, expectedTotals } from '../test/helpers/og-chain.js';
const node = await startOgNode(testChain(70_000), { maxRangeBlocks: 2_000, blockTimestamps: false });
const explorer = await startLoopbackServer((req, res) => sendJson(res, 200, { total_transactions: '1234567', transactions_today: '3456' }));
const cg = await startLoopbackServer((req, res) => sendJson(res, 200, [{ id: 'opengradient', symbol: 'opg', name: 'OpenGradient', current_price: 0.04123, market_cap: 41700000, fully_diluted_valuation: 412300000, total_volume: 196000000, circulating_supply: 137000000, total_supply: 1e9, max_supply: 1e9, price_change_percentage_24h: 3.41, last_updated: new Date().toISOString() }]));
console.log(JSON.stringify({ rpc: node.url, explorer: `${explorer.url}/api/v2`, cg: cg.url, expected: expectedTotals(60_000, 69_988), expected24h: 'n/a' }));
