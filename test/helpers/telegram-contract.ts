/**
 * What the Telegram Bot API refuses, checked on every call the stand-ins receive: the method's fields
 * (required, types) from the published machine-readable spec (test/fixtures/platform-specs, see its
 * SOURCES.md), plus the limits its documentation states only in prose: text 1–4,096 and captions at most
 * 1,024 characters after entity parsing; HTML parse mode with Telegram's own tags only, balanced, and `&`,
 * `<`, `>` escaped elsewhere, `<tg-emoji>` with its `emoji-id`, nothing nested in `<pre>` or `<code>` but a
 * `<code>` in a `<pre>`; an inline button with exactly one action field; callback data 1–64 bytes; commands
 * `[a-z0-9_]{1,32}` with descriptions 1–256; an `attach://<name>` in a field the spec types String but documents
 * as taking one (`InputMedia*.media`, a thumbnail) names an uploaded part; an edit names its message (`chat_id`
 * and `message_id`, or `inline_message_id`). MarkdownV2 and Markdown are refused as not modelled here (their
 * escaping rules are not checked), so a switch away from HTML fails loudly until they are.
 * A refusal is what Telegram answers: 400 with `Bad Request: …`. No vitest import: benchmarks use it too.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface FieldSpec {
  name: string;
  types: string[];
  required: boolean;
  description?: string;
}
interface Spec {
  methods: Record<string, { fields?: FieldSpec[] }>;
  types: Record<string, { fields?: FieldSpec[]; subtypes?: string[] }>;
}

let cached: Spec | undefined;
function spec(): Spec {
  cached ??= JSON.parse(
    readFileSync(fileURLToPath(new URL('../fixtures/platform-specs/telegram-bot-api.json', import.meta.url)), 'utf8'),
  ) as Spec;
  return cached;
}

export interface TelegramCallInput {
  method: string;
  params: Record<string, unknown>;
  /** Names of uploaded file parts (multipart), for `InputFile` fields and `attach://` references. */
  fileParts: readonly string[];
  /** Parameters came as form fields (multipart or urlencoded): scalars are text and objects are JSON text. */
  form: boolean;
}

/**
 * A multipart or urlencoded field's value as the Bot API reads it: JSON for a field that takes an object or
 * an array, a number for digits where the field takes an integer, the text otherwise (a caption `[1]` stays
 * text). JSON that does not parse stays text, so the check refuses it naming the field instead of the
 * stand-in failing on it.
 */
export function formValue(method: string, name: string, text: string): unknown {
  const types = spec().methods[method]?.fields?.find((f) => f.name === name)?.types;
  const takesText = types?.includes('String') ?? false;
  if (!takesText && /^[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  if (/^-?\d+$/.test(text) && (types === undefined || types.includes('Integer'))) return Number(text);
  return text;
}

/** The `description` Telegram would answer (`Bad Request: …`), or null when the call is acceptable. */
export function telegramRefusal(input: TelegramCallInput): string | null {
  const problems = telegramProblems(input);
  return problems.length === 0 ? null : `Bad Request: ${problems.join('; ')}`;
}

export function telegramProblems({ method, params, fileParts, form }: TelegramCallInput): string[] {
  const def = spec().methods[method];
  if (!def) return [`method "${method}" not found`];
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const field of def.fields ?? []) {
    let value = params[field.name];
    if (value === undefined || value === null) {
      if (field.required) problems.push(`parameter "${field.name}" is required`);
      continue;
    }
    if (form && typeof value === 'string' && !field.types.includes('String') && /^[[{]/.test(value)) {
      try {
        value = JSON.parse(value);
      } catch {
        problems.push(`can't parse ${field.name} JSON object`);
        continue;
      }
    }
    values[field.name] = value;
    const error =
      checkTypes(value, field.types, field.name, { fileParts, form }) ??
      attachProblem(value, field, field.name, fileParts);
    if (error) problems.push(error);
  }
  if (problems.length > 0) return problems;
  return [...problems, ...limitProblems(method, values)];
}

interface Ctx {
  fileParts: readonly string[];
  form: boolean;
}

/**
 * A String field that the spec documents as taking `attach://<file_attach_name>` (`InputMediaPhoto.media`, a
 * video's `thumbnail` or `cover`): the type check alone passes any text, but Telegram reads `attach://` there
 * as an uploaded part and refuses the request when no part has that name.
 */
function attachProblem(value: unknown, field: FieldSpec, path: string, fileParts: readonly string[]): string | null {
  if (typeof value !== 'string' || !value.startsWith('attach://')) return null;
  if (field.types.includes('InputFile') || !field.description?.includes('attach://')) return null;
  const name = value.slice('attach://'.length);
  return fileParts.includes(name) ? null : `file part "${name}" for field "${path}" was not uploaded`;
}

function checkTypes(value: unknown, types: readonly string[], path: string, ctx: Ctx): string | null {
  // `attach://name` is never a file id or URL: it must name an uploaded part.
  if (types.includes('InputFile') && typeof value === 'string' && value.startsWith('attach://'))
    return checkType(value, 'InputFile', path, ctx);
  let first: string | null = null;
  for (const type of types) {
    const error = checkType(value, type, path, ctx);
    if (error === null) return null;
    first ??= error;
  }
  return first;
}

function checkType(value: unknown, type: string, path: string, ctx: Ctx): string | null {
  const bad = `field "${path}" must be of type ${type}`;
  if (type.startsWith('Array of ')) {
    if (!Array.isArray(value)) return bad;
    const inner = type.slice('Array of '.length);
    for (const [i, item] of value.entries()) {
      const error = checkType(item, inner, `${path}[${i}]`, ctx);
      if (error) return error;
    }
    return null;
  }
  switch (type) {
    case 'Integer':
      return Number.isSafeInteger(value) || (ctx.form && typeof value === 'string' && /^-?\d+$/.test(value))
        ? null
        : bad;
    case 'Float':
      return typeof value === 'number' || (ctx.form && typeof value === 'string' && Number.isFinite(Number(value)))
        ? null
        : bad;
    case 'Boolean':
      return typeof value === 'boolean' || (ctx.form && (value === 'true' || value === 'false')) ? null : bad;
    case 'String':
      return typeof value === 'string' || (ctx.form && typeof value === 'number') ? null : bad;
    case 'InputFile': {
      if (typeof value !== 'string') return bad;
      const name = value.startsWith('attach://') ? value.slice('attach://'.length) : path;
      return ctx.fileParts.includes(name) ? null : `file part "${name}" for field "${path}" was not uploaded`;
    }
    default:
      return checkObject(value, type, path, ctx);
  }
}

function checkObject(value: unknown, type: string, path: string, ctx: Ctx): string | null {
  const def = spec().types[type];
  if (!def) return `unknown type ${type} for field "${path}"`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `field "${path}" must be an object of type ${type}`;
  if (def.subtypes) {
    let first: string | null = null;
    for (const sub of def.subtypes) {
      const error = checkObject(value, sub, path, ctx);
      if (error === null) return null;
      first ??= error;
    }
    return first;
  }
  const object = value as Record<string, unknown>;
  for (const field of def.fields ?? []) {
    const v = object[field.name];
    if (v === undefined || v === null) {
      if (field.required) return `field "${path}.${field.name}" is required`;
      continue;
    }
    const at = `${path}.${field.name}`;
    const error = checkTypes(v, field.types, at, { ...ctx, form: false }) ?? attachProblem(v, field, at, ctx.fileParts);
    if (error) return error;
  }
  return null;
}

const TEXT_METHODS: Record<
  string,
  { field: string; max: number; min: number; modeField: string; entitiesField: string; what: string }
> = {
  sendMessage: {
    field: 'text',
    min: 1,
    max: 4096,
    modeField: 'parse_mode',
    entitiesField: 'entities',
    what: 'message text',
  },
  editMessageText: {
    field: 'text',
    min: 1,
    max: 4096,
    modeField: 'parse_mode',
    entitiesField: 'entities',
    what: 'message text',
  },
  sendPhoto: {
    field: 'caption',
    min: 0,
    max: 1024,
    modeField: 'parse_mode',
    entitiesField: 'caption_entities',
    what: 'message caption',
  },
  editMessageCaption: {
    field: 'caption',
    min: 0,
    max: 1024,
    modeField: 'parse_mode',
    entitiesField: 'caption_entities',
    what: 'message caption',
  },
};

/** Methods that edit a message: sent by the bot (`chat_id` and `message_id`) or inline (`inline_message_id`). */
const EDIT_METHODS = new Set(['editMessageText', 'editMessageMedia', 'editMessageCaption', 'editMessageReplyMarkup']);

function limitProblems(method: string, values: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (EDIT_METHODS.has(method) && values.inline_message_id === undefined) {
    const missing = ['chat_id', 'message_id'].filter((name) => values[name] === undefined);
    if (missing.length > 0)
      problems.push(
        `message identifier is not specified: "${missing.join('" and "')}" ` +
          '(or "inline_message_id" for an inline message) is required',
      );
  }
  const text = TEXT_METHODS[method];
  if (text) problems.push(...textProblems(values[text.field], values[text.modeField], text.min, text.max, text.what));
  if (method === 'editMessageMedia' && typeof values.media === 'object' && values.media) {
    const media = values.media as Record<string, unknown>;
    problems.push(...textProblems(media.caption, media.parse_mode, 0, 1024, 'message caption'));
  }
  if (method === 'answerCallbackQuery' && typeof values.text === 'string' && [...values.text].length > 200) {
    problems.push('callback query answer text is too long');
  }
  const markup = values.reply_markup as { inline_keyboard?: Array<Array<Record<string, unknown>>> } | undefined;
  const actions = buttonActionFields();
  for (const row of markup?.inline_keyboard ?? []) {
    for (const button of row) {
      if (typeof button.text !== 'string' || button.text.length === 0) problems.push('BUTTON_TEXT_EMPTY');
      const used = actions.filter((field) => button[field] !== undefined && button[field] !== null);
      if (used.length !== 1)
        problems.push(
          used.length === 0
            ? "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            : "can't parse inline keyboard button: exactly one of " +
                `${actions.join(', ')} must be used (got ${used.join(', ')})`,
        );
      if (typeof button.callback_data === 'string') {
        const bytes = Buffer.byteLength(button.callback_data, 'utf8');
        if (bytes < 1 || bytes > 64)
          problems.push(`BUTTON_DATA_INVALID (callback_data is ${bytes} bytes; 1-64 allowed)`);
      }
    }
  }
  if (method === 'setMyCommands') {
    const commands = values.commands as Array<{ command: string; description: string }>;
    if (commands.length > 100) problems.push('too many commands (at most 100)');
    for (const c of commands) {
      if (!/^[a-z0-9_]{1,32}$/.test(c.command)) problems.push(`BOT_COMMAND_INVALID: "${c.command}"`);
      const length = [...c.description].length;
      if (length < 1 || length > 256)
        problems.push(`BOT_COMMAND_DESCRIPTION_INVALID: "${c.command}" has ${length} characters`);
    }
  }
  return problems;
}

/** The fields of an inline button that say what it does: all but its text and looks, per the spec. */
const BUTTON_LOOKS = new Set(['text', 'icon_custom_emoji_id', 'style']);
function buttonActionFields(): string[] {
  return (spec().types.InlineKeyboardButton?.fields ?? []).map((f) => f.name).filter((name) => !BUTTON_LOOKS.has(name));
}

function textProblems(value: unknown, mode: unknown, min: number, max: number, what: string): string[] {
  if (value === undefined) return min > 0 ? [`${what} is empty`] : [];
  if (typeof value !== 'string') return [];
  let visible = value;
  if (mode === 'HTML') {
    const parsed = parseTelegramHtml(value);
    if (typeof parsed !== 'string') return [parsed.error];
    visible = parsed;
  } else if (mode === 'MarkdownV2' || mode === 'Markdown') {
    // Telegram takes them, but this contract does not check their escaping: refused until it is modelled.
    return [`parse_mode "${mode}" is not modelled by the stand-in's contract (telegram-contract.ts); model it first`];
  } else if (mode !== undefined) {
    return [`unsupported parse_mode "${String(mode)}"`];
  }
  // Telegram counts UTF-16 code units after trimming surrounding whitespace.
  const length = visible.trim().length;
  if (length < min || (min > 0 && length === 0)) return [`${what} is empty`];
  if (length > max) return [`${what} is too long (${length} characters after entity parsing; at most ${max})`];
  return [];
}

/** Telegram's HTML tags; `span` and `tg-emoji` only with their one attribute. */
const TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'tg-emoji',
  'code',
  'pre',
  'blockquote',
]);
const ENTITY = /^&(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-f]{1,6});/i;

/** The text as Telegram shows it, or the error Telegram gives (`can't parse entities: …`). */
export function parseTelegramHtml(html: string): string | { error: string } {
  const open: string[] = [];
  let out = '';
  let i = 0;
  const fail = (what: string) => ({
    error: `can't parse entities: ${what} at byte offset ${Buffer.byteLength(html.slice(0, i))}`,
  });
  while (i < html.length) {
    const c = html[i]!;
    if (c === '&') {
      const m = ENTITY.exec(html.slice(i));
      if (!m) return fail('Unsupported character entity; escape "&" as "&amp;"');
      const e = m[0].toLowerCase();
      out += e === '&lt;' ? '<' : e === '&gt;' ? '>' : e === '&amp;' ? '&' : e === '&quot;' ? '"' : 'x';
      i += m[0].length;
      continue;
    }
    if (c === '>') return fail('Unescaped ">"; escape it as "&gt;"');
    if (c !== '<') {
      out += c;
      i += 1;
      continue;
    }
    const end = html.indexOf('>', i);
    if (end < 0) return fail('Unclosed start tag');
    const inner = html.slice(i + 1, end);
    const closing = inner.startsWith('/');
    const name = (closing ? inner.slice(1) : inner).split(/\s/)[0]!.toLowerCase();
    if (!TAGS.has(name)) return fail(`Unsupported start tag "${name}"`);
    if (closing) {
      if (open.pop() !== name) return fail(`Unmatched end tag "${name}"`);
    } else {
      // Entities in pre and code are not parsed: only a code block's language (`<pre><code class=…>`) is.
      const enclosing = open[open.length - 1];
      if (open.includes('code') || (open.includes('pre') && !(name === 'code' && enclosing === 'pre')))
        return fail(`Tag "${name}" can't be nested in "${open.includes('code') ? 'code' : 'pre'}"`);
      const attributes = inner.slice(name.length).trim();
      if (name === 'tg-emoji' && !/^emoji-id\s*=\s*"\d+"$/.test(attributes))
        return fail('Tag "tg-emoji" needs one emoji-id="…" attribute with a custom emoji id');
      if (name === 'a' && !/^href\s*=\s*"[^"]*"$/.test(attributes)) return fail('Tag "a" needs one href="…" attribute');
      if (name === 'span' && attributes !== 'class="tg-spoiler"')
        return fail('Tag "span" must have class "tg-spoiler"');
      if (!['a', 'span', 'tg-emoji', 'pre', 'code', 'blockquote'].includes(name) && attributes !== '')
        return fail(`Tag "${name}" takes no attributes`);
      open.push(name);
    }
    i = end + 1;
  }
  if (open.length > 0)
    return { error: `can't parse entities: Can't find end tag corresponding to start tag "${open[open.length - 1]}"` };
  return out;
}
