/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line) and prints their
 * figures. Each module's default export is `async (log) => void`; figures are ratios within one run on a
 * noisy machine, never pass/fail gates.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type BenchLog = (line: string) => void;
export type Bench = (log: BenchLog) => Promise<void>;

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
  console.log(`\n## ${file.replace('.bench.ts', '')}`);
  await mod.default((line) => console.log(`  ${line}`));
}
