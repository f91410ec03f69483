import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** A fresh folder removed when the current test ends. */
export function tempDir(prefix = 'opg-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A path for a real SQLite file in a fresh folder. */
export function tempDbPath(): string {
  return join(tempDir(), 'opg-bot.sqlite');
}
