/**
 * Telegram's side of the chat grammar. Platform rule: a command is 1 to 32 of `a-z0-9_`, so `/opg stats`
 * is the command `opg` with the argument `stats`; a phone user taps commands from the menu rather than
 * typing arguments, so everyday definitions (`menuAlias`) also get a tap-friendly `/opg_stats`. In groups a
 * command may be addressed to one bot (`/opg@other_bot`); those for another bot are not ours.
 */
import { commandPath, type AnyCommand } from '../../core/command.js';

export interface BotCommandEntry {
  command: string;
  description: string;
}

/** Telegram's limits for `setMyCommands`. */
const MAX_COMMANDS = 100;
const MAX_DESCRIPTION = 256;

function aliasOf(def: AnyCommand): string {
  return `opg_${commandPath(def).replace(/ /g, '_')}`;
}

/** `/opg` first, then one `/opg_<path>` per definition with `menuAlias`, for `setMyCommands`. */
export function telegramCommandList(commands: readonly AnyCommand[]): BotCommandEntry[] {
  const names = commands
    .filter((c) => !c.group)
    .map((c) => c.name)
    .slice(0, 6);
  const main: BotCommandEntry = { command: 'opg', description: `OPG token metrics: /opg ${names.join(', ')}` };
  const aliases = commands
    .filter((c) => c.menuAlias)
    .map((c) => ({ command: aliasOf(c), description: c.description }))
    .filter((e) => /^[a-z0-9_]{1,32}$/.test(e.command));
  return [main, ...aliases]
    .slice(0, MAX_COMMANDS)
    .map((e) => ({ ...e, description: e.description.slice(0, MAX_DESCRIPTION) }));
}

/**
 * Which Telegram command runs which words, for grammY's `bot.command()` (it matches the `bot_command`
 * entity at the start of a message, `/opg@this_bot` included and another bot's command excluded, and hands
 * over the rest as `ctx.match`): `opg` runs the rest as typed, `start` runs `help`, and each `opg_<path>`
 * alias runs its path followed by the rest. Telegram commands are lowercase by the platform's rule, and
 * grammY matches them as such: `/OPG` is not a command here (the menu always inserts the lowercase form).
 */
export function telegramCommandRoutes(commands: readonly AnyCommand[]): Map<string, (rest: string) => string> {
  const routes = new Map<string, (rest: string) => string>([
    ['opg', (rest) => rest],
    ['start', () => 'help'],
  ]);
  for (const alias of commands.filter((c) => c.menuAlias)) {
    routes.set(aliasOf(alias), (rest) => `${commandPath(alias)} ${rest}`.trim());
  }
  return routes;
}
