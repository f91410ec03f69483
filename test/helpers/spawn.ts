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

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the bot's entry points as a real process (with `npm start`'s node arguments), with only the
 * given environment plus PATH, and optional input on stdin.
 */
export function runEntry(
  entry: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
  timeoutMs = 15_000,
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, resolve(ROOT, entry), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DOTENV_PATH: '/nonexistent/.env', ...env },
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
