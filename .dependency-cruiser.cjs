/**
 * The import rules of ../shared/ARCHITECTURE.md, checked by `npm run depcheck` (and .ci/run before the tests):
 * adapters → commands → core ← sources, db; ops → core (and the sources it instruments), imported only by the
 * composition roots; adapters never import each other; no cycles, type-only imports
 * included. main.ts, cli.ts, app.ts and the Discord deploy script are composition roots and may wire anything.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment:
        'The core declares ports; db/, sources/, adapters and commands implement or use them, never the other way.',
      from: { path: '^src/core/' },
      to: { path: '^(src/(db|sources|adapters|ops)/|src/[^/]+\\.ts$|commands/)' },
    },
    {
      name: 'core-no-platform-libraries',
      severity: 'error',
      comment: 'Nothing platform-specific lives in the core.',
      from: { path: '^src/core/' },
      to: { path: 'node_modules/(discord\\.js|@discordjs|grammy|@grammyjs|better-sqlite3|drizzle-orm|undici)/' },
    },
    {
      name: 'commands-use-only-core',
      severity: 'error',
      comment: 'Commands are platform-neutral: they read the core and nothing else.',
      from: { path: '^commands/' },
      to: { path: '^src/(?!core/)' },
    },
    {
      name: 'db-implements-core-only',
      severity: 'error',
      comment: "db/ implements the core's ports; it knows no source, adapter or command.",
      from: { path: '^src/db/' },
      to: { path: '^(src/(sources|adapters|ops)/|src/[^/]+\\.ts$|commands/)' },
    },
    {
      name: 'sources-implement-core-only',
      severity: 'error',
      comment: "sources/ implement the core's ports; they know no store, adapter or command.",
      from: { path: '^src/sources/' },
      to: { path: '^(src/(db|adapters|ops)/|src/[^/]+\\.ts$|commands/)' },
    },
    {
      name: 'adapters-reach-core-through-commands',
      severity: 'error',
      comment: 'Adapters use commands and the core; they never open a store or call a source themselves.',
      from: { path: '^src/adapters/', pathNot: '^src/adapters/discord/deploy\\.ts$' },
      to: { path: '^(src/(db|sources|ops)/|src/[^/]+\\.ts$)' },
    },
    {
      name: 'ops-observes-through-ports',
      severity: 'error',
      comment:
        "The operations endpoint watches the core's ports and the sources it instruments; it opens no store, " +
        'drives no front end and runs no command itself (main.ts hands it what it reports on).',
      from: { path: '^src/ops/' },
      to: { path: '^(src/(db|adapters)/|commands/)' },
    },
    {
      name: 'adapters-never-import-each-other',
      severity: 'error',
      comment: 'Each front end stands alone.',
      from: { path: '^src/adapters/([^/]+)/' },
      to: { path: '^src/adapters/([^/]+)/', pathNot: '^src/adapters/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js'],
    },
  },
};
