/**
 * Running a resolved command, and the one translation from errors to replies that every adapter's catch
 * site uses. A person sees a short reason, never a stack trace; the log gets the cause.
 */
import type { CommandContext, ParsedText } from './command.js';
import { commandPath, parseText, tokenize } from './command.js';
import { UserInputError } from './errors.js';
import type { Core } from './core.js';
import { age } from './format.js';
import type { Logger } from './logger.js';
import { reply, type Reply } from './reply.js';

/**
 * The one error boundary every front end runs a command through: `resolve` parses or validates the
 * platform's input (throwing `UserInputError` for bad input), then access is checked and the command runs.
 * Whatever is thrown becomes a reply, so this always resolves and a person never sees a stack trace.
 */
export async function runCommand(
  resolve: () => ParsedText | Promise<ParsedText>,
  ctx: CommandContext,
  logger: Logger,
): Promise<Reply> {
  const startedAt = performance.now();
  let command = UNRESOLVED;
  let answer: Reply;
  try {
    const parsed = await resolve();
    command = commandPath(parsed.def);
    answer = await execute(parsed, ctx);
  } catch (err) {
    answer = errorReply(err, ctx.core, logger);
  }
  ctx.services.telemetry.commandRan(
    ctx.chat.platform,
    command,
    answer.kind === 'info' ? 'ok' : answer.kind,
    performance.now() - startedAt,
  );
  return answer;
}

/** The command label of input that named no command (an unknown word, a malformed slash command). */
export const UNRESOLVED = '(unresolved)';

/**
 * Checks access, makes sure there is a snapshot (one shared refresh on a cold start) and that the stored
 * tickers reading was read, then runs.
 */
export async function execute(parsed: ParsedText, ctx: CommandContext): Promise<Reply> {
  const { def, args } = parsed;
  if (def.access === 'moderator' && !(await ctx.actor.isModerator())) {
    return reply({
      kind: 'refused',
      title: 'Moderators only',
      lines: [`/opg ${commandPath(def)} can only be used by ${moderatorWord(ctx.chat.platform)}.`],
    });
  }
  await Promise.all([ctx.core.ready(), ctx.services.markets.restored()]);
  return def.run(args, ctx);
}

function moderatorWord(platform: string): string {
  if (platform === 'discord') return 'members with Manage Server or Administrator';
  if (platform === 'telegram') return "the chat's creator and administrators";
  return 'moderators';
}

/** Runs what a person typed (`stats`, `alerts add 5`) through `runCommand`: the text front ends' entry. */
export function runText(text: string, ctx: CommandContext, logger: Logger): Promise<Reply> {
  return runCommand(() => parseText(tokenize(text), ctx.commands), ctx, logger);
}

/** The reply for anything a command threw. Logs what is not the user's fault. */
export function errorReply(err: unknown, core: Core, logger: Logger): Reply {
  if (err instanceof UserInputError) {
    return reply({ kind: 'usage', title: err.message, lines: err.usage ? [`Usage: ${err.usage}`] : [] });
  }
  logger.error({ err }, 'command failed');
  const market = core.snapshot().market;
  const lastGood =
    market.fetchedAtMs != null ? `; last good figures from ${age(market.fetchedAtMs, core.clock.now())}` : '';
  return reply({
    kind: 'error',
    title: 'OPG data is unavailable right now',
    lines: [`Please try again shortly${lastGood}.`],
  });
}
