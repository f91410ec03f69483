/**
 * Running a resolved command, and the one translation from errors to replies that every adapter's catch
 * site uses. A person sees a short reason, never a stack trace; the log gets the cause.
 */
import type { CommandContext, ParsedText } from './command.js';
import { commandPath } from './command.js';
import { UserInputError } from './errors.js';
import type { Core } from './core.js';
import { age } from './format.js';
import type { Logger } from './logger.js';
import { reply, type Reply } from './reply.js';
import type { CommandOutcome } from './telemetry.js';

/**
 * The one error boundary every front end runs a command through: `resolve` parses or validates the
 * platform's input (throwing `UserInputError` for bad input), then access is checked and the command runs.
 * Whatever is thrown becomes a reply, so this always resolves and a person never sees a stack trace.
 */
export async function runCommand(resolve: () => ParsedText | Promise<ParsedText>, ctx: CommandContext, logger: Logger): Promise<Reply> {
  try {
    return await execute(await resolve(), ctx);
  } catch (err) {
    return errorReply(err, ctx.core, logger);
  }
}

/** Checks access, makes sure there is a snapshot (one shared refresh on a cold start), then runs. */
export async function execute(parsed: ParsedText, ctx: CommandContext): Promise<Reply> {
  const telemetry = ctx.services.telemetry;
  if (!telemetry) return run(parsed, ctx);
  const startedAt = performance.now();
  let outcome: CommandOutcome = 'error';
  try {
    const answer = await run(parsed, ctx);
    outcome = answer.kind === 'info' ? 'ok' : answer.kind;
    return answer;
  } catch (err) {
    if (err instanceof UserInputError) outcome = 'usage';
    throw err;
  } finally {
    telemetry.commandRan(ctx.chat.platform, commandPath(parsed.def), outcome, performance.now() - startedAt);
  }
}

async function run(parsed: ParsedText, ctx: CommandContext): Promise<Reply> {
  const { def, args } = parsed;
  if (def.access === 'moderator' && !(await ctx.actor.isModerator())) {
    return reply({
      kind: 'refused',
      title: 'Moderators only',
      lines: [`/opg ${commandPath(def)} can only be used by ${moderatorWord(ctx.chat.platform)}.`],
    });
  }
  await ctx.core.ready();
  return def.run(args, ctx);
}

function moderatorWord(platform: string): string {
  if (platform === 'discord') return 'members with Manage Server or Administrator';
  if (platform === 'telegram') return "the chat's creator and administrators";
  return 'moderators';
}

/** The reply for anything a command threw. Logs what is not the user's fault. */
export function errorReply(err: unknown, core: Core | null, logger: Logger): Reply {
  if (err instanceof UserInputError) {
    return reply({ kind: 'usage', title: err.message, lines: err.usage ? [`Usage: ${err.usage}`] : [] });
  }
  logger.error({ err }, 'command failed');
  const market = core?.snapshot().market;
  const lastGood =
    market?.fetchedAtMs != null && core ? `; last good figures from ${age(market.fetchedAtMs, core.clock.now())}` : '';
  return reply({ kind: 'error', title: 'OPG data is unavailable right now', lines: [`Please try again shortly${lastGood}.`] });
}
