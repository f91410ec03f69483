/**
 * What a front end keeps between restarts about the commands it registered with its platform: the hash of
 * the registered body per scope, so a restart with unchanged definitions costs no registration call.
 * `src/db/discord-store.ts` implements it; the Discord front end uses it.
 */
export interface CommandRegistrationStore {
  /** The hash registered in `scope`, or null when nothing was registered there yet. */
  commandHash(scope: string): Promise<string | null>;
  saveCommandHash(scope: string, hash: string, registeredAtMs: number): Promise<void>;
}
