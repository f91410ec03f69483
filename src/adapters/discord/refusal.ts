/**
 * Which Discord 400s refuse the body itself, so that the same reply as plain text may be taken. Other 400s
 * are about the request's state, not its content (40060 the interaction was already acknowledged, 10062 it is
 * unknown, 50008 not a text channel, …): plain text would be refused the same way, so they are not retried.
 */
import { DiscordAPIError } from 'discord.js';

/** Discord's JSON error codes for a body it could not take as sent. */
const BODY_CODES: ReadonlySet<number> = new Set([
  50035, // Invalid Form Body: a field broke a rule (length, type, shape)
  50006, // Cannot send an empty message
  50109, // The request body contains invalid JSON
  50045, // File uploaded exceeds the maximum size
  50146, // Uploaded file not found
]);

export function isBodyRefusal(err: unknown): err is DiscordAPIError {
  if (!(err instanceof DiscordAPIError) || err.status !== 400) return false;
  return BODY_CODES.has(typeof err.code === 'number' ? err.code : Number(err.code));
}
