/**
 * The import rules `npm run depcheck` enforces (.dependency-cruiser.cjs), run by dependency-cruiser itself
 * against a small tree laid out like this repository: the real tree passes, and each kind of breach fails.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/temp-dir.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** A tree that keeps every rule: a core leaf and a port, a store and a source implementing it, an adapter. */
const CLEAN: Record<string, string> = {
  'src/core/chat.ts': `export type Platform = 'telegram';\n`,
  'src/core/ports.ts':
    "import type { Platform } from './chat.js';\n" + 'export interface Store { get(p: Platform): Promise<number>; }\n',
  'src/db/store.ts':
    "import type { Store } from '../core/ports.js';\n" + 'export const store: Store = { get: async () => 1 };\n',
  'src/sources/source.ts':
    "import type { Platform } from '../core/chat.js';\n" + "export const name: Platform = 'telegram';\n",
  'commands/stats.ts': `import type { Store } from '../src/core/ports.js';\nexport type S = Store;\n`,
  'src/adapters/telegram/adapter.ts': `import type { S } from '../../../commands/stats.js';\nexport type A = S;\n`,
  'src/app.ts':
    "import { store } from './db/store.js';\n" +
    "import { name } from './sources/source.js';\n" +
    'export const app = { store, name };\n',
};

function depcheck(files: Record<string, string>): { status: number | null; output: string } {
  const dir = tempDir('opg-depcheck-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  const run = spawnSync(process.execPath, [DEPCRUISE, 'src', 'commands', '--config', '.dependency-cruiser.cjs'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('import rules (npm run depcheck)', () => {
  it('passes the repository as it is', () => {
    const run = spawnSync(process.execPath, [DEPCRUISE, 'src', 'commands', '--config', '.dependency-cruiser.cjs'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.stdout).toContain('no dependency violations found');
    expect(run.status).toBe(0);
  });

  it('passes a tree whose imports point one way', () => {
    const run = depcheck(CLEAN);
    expect(run.output).toContain('no dependency violations found');
    expect(run.status).toBe(0);
  });

  it('fails on a cycle made of type-only imports', () => {
    const run = depcheck({
      ...CLEAN,
      'src/core/chat.ts':
        "import type { Store } from './ports.js';\n" +
        "export type Platform = 'telegram';\n" +
        'export type S = Store;\n',
    });
    expect(run.output).toMatch(/no-cycles: src\/core\/(chat|ports)\.ts/);
    expect(run.status).not.toBe(0);
  });

  it('fails when the core imports a store, even for a type', () => {
    const run = depcheck({
      ...CLEAN,
      'src/core/uses-db.ts': `import type { store } from '../db/store.js';\nexport type T = typeof store;\n`,
    });
    expect(run.output).toContain('core-imports-only-core: src/core/uses-db.ts → src/db/store.ts');
    expect(run.status).not.toBe(0);
  });

  it('fails when a source imports a store, or a store a source', () => {
    const run = depcheck({
      ...CLEAN,
      'src/sources/uses-db.ts': `import { store } from '../db/store.js';\nexport const s = store;\n`,
      'src/db/uses-source.ts': `import { name } from '../sources/source.js';\nexport const n = name;\n`,
    });
    expect(run.output).toContain('sources-implement-core-only: src/sources/uses-db.ts → src/db/store.ts');
    expect(run.output).toContain('db-implements-core-only: src/db/uses-source.ts → src/sources/source.ts');
    expect(run.status).not.toBe(0);
  });

  it('fails when a command reaches past the core, or an adapter into another adapter or a store', () => {
    const run = depcheck({
      ...CLEAN,
      'commands/uses-db.ts': `import { store } from '../src/db/store.js';\nexport const s = store;\n`,
      'src/adapters/discord/adapter.ts':
        "import type { A } from '../telegram/adapter.js';\n" +
        "import { store } from '../../db/store.js';\n" +
        'export const d: A | typeof store = store;\n',
    });
    expect(run.output).toContain('commands-use-only-core: commands/uses-db.ts → src/db/store.ts');
    expect(run.output).toContain(
      'adapters-never-import-each-other: src/adapters/discord/adapter.ts → src/adapters/telegram/adapter.ts',
    );
    expect(run.output).toContain(
      'adapters-reach-core-through-commands: src/adapters/discord/adapter.ts → src/db/store.ts',
    );
    expect(run.status).not.toBe(0);
  });
});
