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

/** The part of a Telegram `MessageEntity` this module reads. */
export interface EntityLike {
  type: string;
  offset: number;
  length: number;
}

/**
 * The words to run for a message, without the leading `/opg`: `/opg stats` → `stats`,
 * `/opg_stats@my_bot` → `stats`, `/start` → `help`. Null when the message is not a command for this bot:
 * no `bot_command` entity at its start, another bot's command, or a command that is not ours.
 */
export function commandText(
  text: string,
  entities: readonly EntityLike[] | undefined,
  botUsername: string,
  commands: readonly AnyCommand[],
): string | null {
  const entity = entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (!entity) return null;
  const [name = '', target] = text.slice(1, entity.length).toLowerCase().split('@');
  if (target !== undefined && target !== botUsername.toLowerCase()) return null;
  const rest = text.slice(entity.length).trim();
  if (name === 'opg') return rest;
  if (name === 'start') return 'help';
  const alias = commands.find((c) => c.menuAlias && aliasOf(c) === name);
  if (alias) return `${commandPath(alias)} ${rest}`.trim();
  return null;
}
