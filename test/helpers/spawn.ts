import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The node arguments `npm start` runs the bot with (heap flags, `--import tsx`), read from package.json so a
 * test's or benchmark's process is the one an operator deploys.
 */
export const NODE_ARGS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = pkg.scripts.start!.trim().split(/\s+/);
  const entry = args.findIndex((a) => a.endsWith('.ts'));
  if (command !== 'node' || entry < 0)
    throw new Error(`package.json's start script is not 'node <flags> <entry>.ts': ${pkg.scripts.start}`);
  return args.slice(0, entry);
})();

const SHIFT_CLOCK = resolve(ROOT, 'test/helpers/shift-clock.mjs');
const DAY_MS = 86_400_000;

/** This process's own shift, when it runs under shift-clock.mjs too (only to prove a test at a chosen time). */
const ownOffsetMs = () => Number(process.env.TEST_CLOCK_OFFSET_MS ?? 0);

/**
 * The environment that makes a spawned process's `Date.now()` and `new Date()` run `offsetMs` ahead of this
 * process's (test/helpers/shift-clock.mjs, test-only). Offsets add up, so parent and child always agree.
 */
export function clockEnv(offsetMs: number): Record<string, string> {
  return { NODE_OPTIONS: `--import ${SHIFT_CLOCK}`, TEST_CLOCK_OFFSET_MS: String(ownOffsetMs() + offsetMs) };
}

/** A child runs on this process's clock: shifted like it when it is shifted, else untouched. */
export const inheritedClockEnv = (): Record<string, string> => (ownOffsetMs() ? clockEnv(0) : {});

/**
 * Noon UTC of the current day, and the offset that moves now there. A day-based scenario laid out from it,
 * in processes given `clockEnv(offsetMs)`, is 12 h from any UTC midnight whenever the suite runs.
 */
export function noonToday(): { nowMs: number; offsetMs: number } {
  const real = Date.now();
  const nowMs = Math.floor(real / DAY_MS) * DAY_MS + DAY_MS / 2;
  return { nowMs, offsetMs: nowMs - real };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the bot's entry points as a real process (with `npm start`'s node arguments), with only the
 * given environment plus PATH, and optional input on stdin. Spread `clockEnv(offset)` into `env` to shift its
 * clock (e.g. to `noonToday()`).
 */
export function runEntry(
  entry: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
  timeoutMs = 25_000,
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, resolve(ROOT, entry), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '/nonexistent/.env', ...inheritedClockEnv(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
