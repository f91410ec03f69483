/**
 * The one `/opg` slash command, derived from the definitions. Discord allows one level of groups, 25
 * subcommands or groups per level, 25 options each, 100-character descriptions, and cannot invoke a group
 * alone: a group's default definition (`/opg alerts` on Telegram) becomes a subcommand such as `alerts status`.
 * Required options come first, as Discord demands.
 */
import { createHash } from 'node:crypto';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  InteractionContextType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandGroupOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { AnyCommand, OptionSpec } from '../../core/command.js';

export const ROOT_COMMAND = 'opg';
export const ROOT_DESCRIPTION = 'OPG token metrics: price, volume, supply, inferences and alerts';

/** Where an alert may be posted: ordinary text and announcement channels. */
export const POSTABLE_CHANNEL_TYPES = [ChannelType.GuildText, ChannelType.GuildAnnouncement] as const;

/** The subcommand name a definition has on Discord: its own name, or `status` for a group's default. */
export function subcommandName(def: AnyCommand): string {
  if (def.group && def.groupDefault) return def.name === def.group ? 'status' : def.name;
  return def.name;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function optionJson(name: string, spec: OptionSpec): APIApplicationCommandBasicOption {
  const base = { name, description: clip(spec.description, 100), required: spec.required === true };
  switch (spec.type) {
    case 'number': {
      const range = {
        ...(spec.min !== undefined ? { min_value: spec.min } : {}),
        ...(spec.max !== undefined ? { max_value: spec.max } : {}),
      };
      return spec.integer
        ? { ...base, type: ApplicationCommandOptionType.Integer, ...range }
        : { ...base, type: ApplicationCommandOptionType.Number, ...range };
    }
    case 'choice':
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        choices: spec.choices.slice(0, 25).map((c) => ({ name: c, value: c })),
      };
    case 'channel':
      return { ...base, type: ApplicationCommandOptionType.Channel, channel_types: [...POSTABLE_CHANNEL_TYPES] };
    case 'string':
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        ...(spec.maxLength !== undefined ? { max_length: Math.min(spec.maxLength, 6000) } : {}),
      };
  }
}

function subcommandJson(def: AnyCommand): APIApplicationCommandSubcommandOption {
  const options = Object.entries(def.options).map(([name, spec]) => optionJson(name, spec));
  options.sort((a, b) => Number(b.required) - Number(a.required));
  return {
    type: ApplicationCommandOptionType.Subcommand,
    name: subcommandName(def),
    description: clip(def.description, 100),
    options,
  };
}

/**
 * The body for a bulk overwrite (`PUT …/commands`): one `/opg` command holding every definition. `contexts`
 * (servers and the bot's DMs) only applies to global commands; guild commands live in their guild.
 */
export function slashCommandBody(
  commands: readonly AnyCommand[],
  scope: 'global' | 'guild' = 'global',
): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const options: Array<APIApplicationCommandSubcommandOption | APIApplicationCommandSubcommandGroupOption> = [];
  const groups = new Map<string, APIApplicationCommandSubcommandOption[]>();
  for (const def of commands) {
    if (!def.group) {
      options.push(subcommandJson(def));
      continue;
    }
    let members = groups.get(def.group);
    if (!members) {
      members = [];
      groups.set(def.group, members);
      options.push({
        type: ApplicationCommandOptionType.SubcommandGroup,
        name: def.group,
        description: clip(`/opg ${def.group} commands`, 100),
        options: members,
      });
    }
    members.push(subcommandJson(def));
  }
  const root: RESTPostAPIChatInputApplicationCommandsJSONBody = {
    type: ApplicationCommandType.ChatInput,
    name: ROOT_COMMAND,
    description: ROOT_DESCRIPTION,
    ...(scope === 'global' ? { contexts: [InteractionContextType.Guild, InteractionContextType.BotDM] } : {}),
    options,
  };
  return [root];
}

/** A stable hash of a body, to register only when it changed. */
export function bodyHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** The definition an `/opg` invocation names, by subcommand group and subcommand. */
export function findDefinition(
  commands: readonly AnyCommand[],
  group: string | null,
  subcommand: string | null,
): AnyCommand | undefined {
  return commands.find((def) => (def.group ?? null) === group && subcommandName(def) === subcommand);
}
