/**
 * The command contract. One definition serves every front end: the Discord adapter derives slash-command
 * JSON from it, the Telegram adapter a `/opg …` parser and `setMyCommands`, the console its help text.
 * Option specs are `as const` data, so `run` receives arguments typed from them, and every front end
 * validates through the same `coerceOption`, so `-5` or `1e309` is refused the same way everywhere.
 */
import type { ChatRef } from './chat.js';
import type { Core } from './core.js';
import { UserInputError } from './errors.js';
import type { Reply } from './reply.js';
import type { Services } from './services.js';

interface OptionBase {
  description: string;
  required?: boolean;
}

export interface StringOption extends OptionBase {
  type: 'string';
  maxLength?: number;
}

export interface NumberOption extends OptionBase {
  type: 'number';
  min?: number;
  max?: number;
  integer?: boolean;
  /** A unit people may type after the number, such as `x` in `5x`; stripped before parsing. */
  unit?: string;
  /** Most digits after the decimal point; more is refused, never rounded away. */
  maxDecimals?: number;
}

export interface ChoiceOption extends OptionBase {
  type: 'choice';
  choices: readonly string[];
}

/** A channel picked on Discord; text front ends always mean "this chat" and never parse one. */
export interface ChannelOption extends OptionBase {
  type: 'channel';
}

export type OptionSpec = StringOption | NumberOption | ChoiceOption | ChannelOption;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<O extends OptionSpec> = O extends NumberOption
  ? number
  : O extends { type: 'choice'; choices: readonly (infer C)[] }
    ? C
    : string;

/** The typed arguments `run` receives for a given option spec. */
export type ArgsOf<O extends OptionSpecs> = {
  -readonly [K in keyof O]: O[K] extends { required: true } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

export type { ChatRef, Platform } from './chat.js';

export interface Actor {
  id: string;
  name: string;
  /** Checked only for moderator commands, so ordinary commands never cost a platform call. */
  isModerator(): Promise<boolean>;
}

/** What a front end can answer about its own platform, for commands that need it. */
export interface PlatformHooks {
  /**
   * Whether the bot can post alerts in `channelId` (Discord: view, send, embed links, attach files).
   * Resolves null when it can, or a short reason naming what is missing.
   */
  checkPostable?(channelId: string): Promise<string | null>;
}

export interface CommandContext {
  core: Core;
  services: Services;
  chat: ChatRef;
  actor: Actor;
  /** Platform-specific checks; absent on the console. */
  platform?: PlatformHooks;
  /** Every definition, for `help`. */
  commands: readonly AnyCommand[];
}

export type Access = 'everyone' | 'moderator';

export interface CommandDefinition<O extends OptionSpecs = OptionSpecs> {
  /** Lower-case word: `stats`, or `add` inside the `alerts` group. */
  name: string;
  /** The group this is a subcommand of (`alerts`), if any. */
  group?: string;
  /** Runs when the group is typed alone (`/opg alerts`). At most one per group. */
  groupDefault?: boolean;
  /** One line, at most 100 characters (Discord's limit). */
  description: string;
  /** Options in the order a text front end reads them positionally. */
  options: O;
  access: Access;
  /** Shown in Telegram's command menu as `/opg_<name>`, for phones that tap rather than type. */
  menuAlias?: boolean;
  /**
   * Draws an image or may wait for a history fill: front ends with an answer deadline acknowledge first
   * (Discord defers at once, so the upload never races its 3-second limit).
   */
  slow?: boolean;
  /** Reads the core and services only; never the network. */
  run(args: ArgsOf<O>, ctx: CommandContext): Promise<Reply>;
}

/** Any definition, whatever its options: `run` is a method, so every `CommandDefinition<O>` is one of these. */
export type AnyCommand = CommandDefinition<OptionSpecs>;

/** Keeps the option types so `run` gets typed arguments. */
export function defineCommand<const O extends OptionSpecs>(definition: CommandDefinition<O>): CommandDefinition<O> {
  return definition;
}

/** `alerts add` or `stats`. */
export function commandPath(def: AnyCommand): string {
  return def.group ? (def.groupDefault ? def.group : `${def.group} ${def.name}`) : def.name;
}

/** `alerts add <ratio>` / `chart [metric] [range]`. */
export function usageOf(def: AnyCommand): string {
  const args = Object.entries(def.options)
    .filter(([, spec]) => spec.type !== 'channel')
    .map(([name, spec]) => {
      const label = spec.type === 'choice' ? spec.choices.join('|') : name;
      return spec.required ? `<${label}>` : `[${label}]`;
    });
  return [commandPath(def), ...args].join(' ');
}

const NUMBER_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A number as a person types it. A single comma is a decimal comma (`5,5` is 5.5, as much of the world
 * writes it), except where it could be a thousands separator (`1,000`: refused, asking for one form);
 * grouping such as `1,000.5` or `1.000,5` is refused rather than guessed. NaN when it is not a number.
 */
function parseTypedNumber(name: string, raw: string, spec: NumberOption): number {
  let text = raw.trim();
  if (spec.unit && text.toLowerCase().endsWith(spec.unit.toLowerCase()))
    text = text.slice(0, -spec.unit.length).trimEnd();
  const commas = text.split(',').length - 1;
  if (commas > 0) {
    const example = `1000.5${spec.unit ?? ''}`;
    if (commas > 1 || text.includes('.'))
      throw new UserInputError(
        `${name}: leave out thousands separators and write one plain number, such as ${example}.`,
      );
    const [whole = '', fraction = ''] = text.split(',');
    // A decimal comma takes plain digits after it: `1,000e0` is neither 1,000 nor 1.000 to a person.
    if (!/^\d*$/.test(fraction)) return Number.NaN;
    if (fraction.length === 3 && /^[+-]?\d+$/.test(fraction) && !/^[+-]?0*$/.test(whole)) {
      throw new UserInputError(
        `${name}: ${text} could mean ${whole}${fraction} or ${whole}.${fraction}; write it as one of those.`,
      );
    }
    text = `${whole}.${fraction}`;
  }
  return NUMBER_PATTERN.test(text) ? Number(text) : Number.NaN;
}

/** Turns one raw value (typed text, or a platform's already-typed value) into a valid argument. */
export function coerceOption(name: string, spec: OptionSpec, raw: unknown): string | number {
  switch (spec.type) {
    case 'number': {
      const value = typeof raw === 'number' ? raw : parseTypedNumber(name, String(raw), spec);
      const range = rangeText(spec);
      if (!Number.isFinite(value)) throw new UserInputError(`${name} must be a number${range}.`);
      if (spec.integer && !Number.isInteger(value)) throw new UserInputError(`${name} must be a whole number${range}.`);
      if (spec.maxDecimals !== undefined && Number(value.toFixed(spec.maxDecimals)) !== value) {
        throw new UserInputError(`${name} takes at most ${spec.maxDecimals} digits after the decimal point${range}.`);
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        throw new UserInputError(`${name} must be${range}.`);
      }
      return value;
    }
    case 'choice': {
      const text = String(raw).trim().toLowerCase();
      const match = spec.choices.find((c) => c.toLowerCase() === text);
      if (match === undefined) throw new UserInputError(`${name} must be one of: ${spec.choices.join(', ')}.`);
      return match;
    }
    case 'string':
    case 'channel': {
      const text = String(raw).trim();
      if (text === '') throw new UserInputError(`${name} must not be empty.`);
      if (spec.type === 'string' && spec.maxLength !== undefined && text.length > spec.maxLength) {
        throw new UserInputError(`${name} must be at most ${spec.maxLength} characters.`);
      }
      return text;
    }
  }
}

function rangeText(spec: NumberOption): string {
  const unit = spec.unit ?? '';
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min}${unit} to ${spec.max}${unit}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}${unit}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}${unit}`;
  return '';
}

/** Validates a record of raw values (from Discord options, or parsed text) against a definition. */
export function validateArgs(
  def: AnyCommand,
  raw: Record<string, unknown>,
): Record<string, string | number | undefined> {
  const out: Record<string, string | number | undefined> = {};
  for (const [name, spec] of Object.entries(def.options)) {
    const value = raw[name];
    if (value === undefined || value === null || value === '') {
      if (spec.required) throw new UserInputError(`Missing ${name}.`);
      out[name] = undefined;
      continue;
    }
    out[name] = coerceOption(name, spec, value);
  }
  return out;
}

export interface ParsedText {
  def: AnyCommand;
  args: Record<string, string | number | undefined>;
}

/** Splits command text on whitespace; the bot's arguments never contain spaces. */
export function tokenize(text: string): string[] {
  return text
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

/**
 * Resolves words such as `alerts add 5` against the definitions and validates the arguments.
 * A leading `/opg` or `opg` is accepted, so the console takes the same words as Telegram.
 * @throws UserInputError with the command's usage for unknown commands, stray or bad arguments.
 */
export function parseText(tokens: readonly string[], commands: readonly AnyCommand[]): ParsedText {
  let words = [...tokens];
  if (words[0] !== undefined && /^\/?opg(@\w+)?$/i.test(words[0])) words = words.slice(1);
  const first = (words[0] ?? 'help').toLowerCase();
  let def: AnyCommand | undefined;
  let rest: string[];
  const inGroup = commands.filter((c) => c.group === first);
  if (inGroup.length > 0) {
    const second = words[1]?.toLowerCase();
    def =
      second === undefined
        ? inGroup.find((c) => c.groupDefault)
        : inGroup.find((c) => c.name === second && !c.groupDefault);
    rest = words.slice(second === undefined ? 1 : 2);
    if (!def) {
      const known = inGroup.map((c) => `  /opg ${usageOf(c)}`).join('\n');
      throw new UserInputError(`Unknown command: ${first} ${second ?? ''}`.trim() + `.`, known);
    }
  } else {
    def = commands.find((c) => !c.group && c.name === first);
    rest = words.slice(1);
    if (!def) throw new UserInputError(`Unknown command: ${first.slice(0, 32)}. Try /opg help.`);
  }
  const specs = Object.entries(def.options).filter(([, spec]) => spec.type !== 'channel');
  if (rest.length > specs.length) {
    throw new UserInputError(`Too many arguments for ${commandPath(def)}.`, `/opg ${usageOf(def)}`);
  }
  const raw: Record<string, unknown> = {};
  specs.forEach(([name], i) => {
    raw[name] = rest[i];
  });
  try {
    return { def, args: validateArgs(def, raw) };
  } catch (err) {
    if (err instanceof UserInputError && err.usage === undefined)
      throw new UserInputError(err.message, `/opg ${usageOf(def)}`);
    throw err;
  }
}
