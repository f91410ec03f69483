/**
 * Button ids, built and read in one place. A button re-runs a read-only command: its id is
 * `refresh:<command words>` (Telegram's callback data holds at most 64 bytes, Discord's custom id 100
 * characters, so the words are short), and the policy for when a click fetches anew lives here too.
 * Ids come back from the platform's client and can be forged: callers must still check the command.
 */
import { parseText, tokenize, type AnyCommand, type ParsedText } from './command.js';
import type { Core } from './core.js';
import type { ReplyButton } from './reply.js';

const REFRESH = 'refresh:';

/** The Refresh button for a reply of `words` (such as `stats`). */
export function refreshButton(words: string): ReplyButton {
  return { id: `${REFRESH}${words}`, label: 'Refresh' };
}

/** The command words a button id asks to re-run, or null when it is not a refresh button. */
export function refreshWords(id: string): string | null {
  return id.startsWith(REFRESH) && id.length > REFRESH.length ? id.slice(REFRESH.length) : null;
}

/** Matches refresh button ids, capturing the words; for frameworks that route by pattern. */
export const REFRESH_BUTTON_PATTERN = new RegExp(`^${REFRESH}(.+)$`, 's');

/**
 * The command a button id re-runs, parsed, or null: not a refresh button, words that no longer parse, or a
 * command a button may not run. Ids come from the client and can be forged, so only read-only commands
 * (`access: 'everyone'`) are ever run from one.
 */
export function refreshCommand(id: string, commands: readonly AnyCommand[]): ParsedText | null {
  const words = refreshWords(id);
  if (words === null) return null;
  try {
    const parsed = parseText(tokenize(words), commands);
    return parsed.def.access === 'everyone' ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * A click on Refresh fetches anew only when the figures are at least `minAgeMs` old; concurrent clicks
 * share the core's one refresh. Default for every front end: five minutes, the default refresh interval,
 * so taps fetch only when the scheduled refresh is late or failing and CoinGecko's monthly budget (the
 * README counts it) holds however much people tap; otherwise a tap shows the stored figures again.
 */
export const DEFAULT_REFRESH_MIN_AGE_MS = 5 * 60_000;

export async function refreshIfOlderThan(core: Core, minAgeMs: number): Promise<void> {
  const { fetchedAtMs } = core.snapshot().market;
  if (fetchedAtMs == null || core.clock.now() - fetchedAtMs >= minAgeMs) await core.refresh();
}
