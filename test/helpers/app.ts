import { createApp, type App, type AppInstruments } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/open.js';
import type { Actor, ChatRef } from '../../src/core/command.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import type { TestClock } from './clock.js';
import { createTestClock } from './clock.js';
import { tempDbPath } from './temp-dir.js';
import { onTestFinished } from 'vitest';

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: TestClock;
  databasePath?: string;
  httpTimeoutMs?: number;
  /** Silent by default. */
  logger?: Logger;
  /** The operator's metrics hooks, as main.ts passes them when the operations endpoint is on. */
  instruments?: AppInstruments;
}

/** The real app (real SQLite file, real migrations, real sources) with a test clock, closed after the test. */
export function createTestApp(options: TestAppOptions = {}): App & { clock: TestClock; database: Database } {
  const clock = options.clock ?? createTestClock();
  // The OpenGradient node and explorer default to a closed loopback port: `sync` never reaches the internet.
  const offline = { OG_RPC_URL: 'http://127.0.0.1:9', OG_EXPLORER_API_URL: 'http://127.0.0.1:9/api/v2' };
  const config = loadConfig({ DATABASE_PATH: options.databasePath ?? tempDbPath(), ...offline, ...options.env });
  const app = createApp({
    config,
    logger: options.logger ?? silentLogger,
    clock,
    httpTimeoutMs: options.httpTimeoutMs ?? 2_000,
    instruments: options.instruments,
  });
  onTestFinished(() => app.close());
  // Without a store given, createApp opens the SQLite file at DATABASE_PATH.
  return Object.assign(app, { clock, database: app.database! });
}

export const testChat: ChatRef = { platform: 'console', chatId: 'test-chat', kind: 'private' };
export const member: Actor = { id: 'u1', name: 'member', isModerator: async () => false };
export const moderator: Actor = { id: 'u2', name: 'moderator', isModerator: async () => true };
