/**
 * What commands may use beyond the core's market snapshot. Each feature adds its service here and
 * `src/main.ts` provides it; commands reach it through `ctx.services`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Services {}
