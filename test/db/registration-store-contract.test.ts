/** The command registration store's contract on every backend (SQLite file, PGlite, the real server when set). */
import { describe, expect, it } from 'vitest';
import { STORE_BACKENDS, storesOn } from '../helpers/store-backends.js';

// The first PGlite of a worker compiles and migrates PostgreSQL: seconds, more on a busy machine.
describe.each(STORE_BACKENDS)('command registration store on %s', { timeout: 60_000 }, (backend) => {
  it('keeps the last hash registered per scope', async ({ skip }) => {
    const { registrations } = await storesOn(backend, skip);
    expect(await registrations.commandHash('app:global')).toBeNull();
    await registrations.saveCommandHash('app:global', 'a'.repeat(64), 1_000);
    await registrations.saveCommandHash('app:guild:1', 'b'.repeat(64), 1_000);
    await registrations.saveCommandHash('app:global', 'c'.repeat(64), 2_000);
    expect(await registrations.commandHash('app:global')).toBe('c'.repeat(64));
    expect(await registrations.commandHash('app:guild:1')).toBe('b'.repeat(64));
  });
});
