/**
 * What Discord's HTTP API refuses, checked on every request the Discord stand-in receives: the JSON body
 * (or the `payload_json` part of a multipart body) against the operation's request schema in Discord's
 * published OpenAPI 3.1 spec (test/fixtures/platform-specs, see its SOURCES.md), with ajv; plus the
 * documented rules the schema lacks: content at most 2,000 characters, a message's embeds at most 6,000
 * characters in all, no empty message (50006, an empty body and content of whitespace alone included; an edit
 * that leaves a message with nothing to show too), at most 10 files, attachment ids that name a file part,
 * `allowed_mentions` that do not both parse a kind and list ids of it,
 * no empty embed (`{}`: LIST_ITEM_VALUE_REQUIRED), embed fields with a non-blank `name` and `value`
 * (BASE_TYPE_REQUIRED), `custom_id`s unique within a message (COMPONENT_CUSTOM_ID_DUPLICATED), at most 5
 * action rows of at most 5 buttons (without the components-v2 flag), buttons with a label or an emoji and
 * with the one action field their style takes (a link its `url`, every other style a `custom_id`), an
 * interaction answer (type 4) with its `data`; and slash commands with names unique among those of their type
 * in one bulk overwrite, a 1-100 character description, option names unique within their list, required
 * options before optional ones, subcommands (and groups) never beside plain options in one list, and
 * `min_value` / `min_length` no greater than `max_value` / `max_length`. A refusal
 * is Discord's own answer: 400 `{"code":50035,"message":"Invalid Form Body","errors":{…}}` (or 50006); a
 * path or method the spec does not have is refused as Discord answers it (404 or 405, code 0).
 * No vitest import: benchmarks use it too.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { multipartBoundary, parseMultipart } from './multipart.js';

// ajv-formats is CommonJS with a default export that tsx and tsc see differently.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;

interface Operation {
  requestBody?: { content: Record<string, { schema: unknown }> };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

export interface DiscordRefusal {
  /** 400 for a body Discord refuses; 404 or 405 for a route it does not have. */
  status: 400 | 404 | 405;
  body: { code: number; message: string; errors?: Record<string, unknown> };
  /** One line per problem, naming the field: `embeds[0].title: Must be 256 or fewer in length.` */
  problems: string[];
}

const SPEC_ID = 'discord-openapi';

interface Compiled {
  ajv: Ajv2020;
  routes: Array<{ pattern: RegExp; template: string; operations: Record<string, Operation> }>;
  validators: Map<string, ValidateFunction>;
}

let compiled: Compiled | undefined;
function load(): Compiled {
  if (compiled) return compiled;
  const spec = JSON.parse(
    readFileSync(fileURLToPath(new URL('../fixtures/platform-specs/discord-openapi.json', import.meta.url)), 'utf8'),
  ) as Spec;
  const ajv = new Ajv2020({ strict: false, allowUnionTypes: true, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('snowflake', /^(0|[1-9][0-9]{0,19})$/);
  ajv.addFormat('nonce', /^.{0,25}$/);
  ajv.addKeyword('x-discord-union');
  ajv.addSchema({ $id: SPEC_ID, components: spec.components });
  const routes = Object.entries(spec.paths).map(([template, operations]) => ({
    template,
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    operations,
  }));
  // Literal segments first, so `/messages/@original` is not taken for `/messages/{message_id}`.
  routes.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  compiled = { ajv, routes, validators: new Map() };
  return compiled;
}

/** Rewrites the spec's local `#/components/...` references to the registered document. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${SPEC_ID}${value}` : rebase(value);
  }
  return out;
}

function validatorFor(method: string, template: string, operation: Operation): ValidateFunction | null {
  const c = load();
  const key = `${method} ${template}`;
  const known = c.validators.get(key);
  if (known) return known;
  const schema = operation.requestBody?.content['application/json']?.schema;
  if (!schema) return null;
  const validate = c.ajv.compile(rebase(schema) as object);
  c.validators.set(key, validate);
  return validate;
}

/** The operations the bot sends bodies to, compiled ahead so a first request is not slowed by ajv. */
const BOT_OPERATIONS: ReadonlyArray<readonly [string, string]> = [
  ['put', '/applications/{application_id}/commands'],
  ['put', '/applications/{application_id}/guilds/{guild_id}/commands'],
  ['post', '/interactions/{interaction_id}/{interaction_token}/callback'],
  ['patch', '/webhooks/{webhook_id}/{webhook_token}/messages/@original'],
  ['post', '/webhooks/{webhook_id}/{webhook_token}'],
  ['post', '/channels/{channel_id}/messages'],
];

/** Compiles the request schemas of every operation the bot uses (once per process). */
export function prepareDiscordContract(): void {
  const c = load();
  for (const [method, template] of BOT_OPERATIONS) {
    const route = c.routes.find((r) => r.template === template);
    const operation = route?.operations[method];
    if (!operation) throw new Error(`Discord's spec has no ${method.toUpperCase()} ${template}`);
    validatorFor(method, template, operation);
  }
}

export interface DiscordRequestInput {
  method: string;
  /** The request path after the API root and version, such as `/channels/1/messages`. */
  path: string;
  contentType: string | undefined;
  raw: Buffer;
  /**
   * The message an edit applies to, when the caller knows it (a deferred interaction's `@original` has nothing
   * yet): fields the edit leaves out keep their values, so an edit can leave the message empty. Unknown when
   * undefined: then only fields the edit sets are judged.
   */
  current?: MessageLike;
}

/** Discord's 400 for this request, or null when Discord would accept it. */
export function discordRefusal({
  method,
  path,
  contentType,
  raw,
  current,
}: DiscordRequestInput): DiscordRefusal | null {
  const c = load();
  const route = c.routes.find((r) => r.pattern.test(path) && r.operations[method.toLowerCase()]);
  if (!route) {
    const known = c.routes.some((r) => r.pattern.test(path));
    const status = known ? 405 : 404;
    return {
      status,
      body: { code: 0, message: known ? '405: Method Not Allowed' : '404: Not Found' },
      problems: [known ? `Discord's API has no ${method} on this route` : "Discord's API has no such route"],
    };
  }
  const operation = route.operations[method.toLowerCase()]!;
  if (!operation.requestBody) return null;

  let body: unknown;
  let fileParts: Record<string, { filename: string }> = {};
  const boundary = multipartBoundary(contentType);
  try {
    if (boundary) {
      const form = parseMultipart(raw, boundary);
      fileParts = form.files;
      body = form.fields.payload_json === undefined ? {} : JSON.parse(form.fields.payload_json);
    } else {
      // An empty body is read as `{}`: a message post without one is an empty message (50006).
      body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    }
  } catch {
    return invalid([{ path: '', message: 'The request body contains invalid JSON.', code: 50109 }]);
  }
  if (body === null) return null;

  const validate = validatorFor(method.toLowerCase(), route.template, operation);
  const problems: Problem[] = [];
  if (validate && !validate(normalize(body))) problems.push(...fromAjv(validate.errors ?? []));
  problems.push(...documentedRules(method, route.template, body, fileParts, current));
  if (problems.some((p) => p.code === 50006)) {
    return {
      status: 400,
      body: { code: 50006, message: 'Cannot send an empty message' },
      problems: ['Cannot send an empty message'],
    };
  }
  return problems.length === 0 ? null : invalid(problems);
}

interface Problem {
  path: string;
  message: string;
  code?: number | string;
}

function invalid(problems: Problem[]): DiscordRefusal {
  const errors: Record<string, unknown> = {};
  for (const p of problems) {
    let node = errors;
    for (const segment of p.path.split(/[.[\]]+/).filter(Boolean))
      node = (node[segment] ??= {}) as Record<string, unknown>;
    ((node._errors ??= []) as unknown[]).push({ code: String(p.code ?? 'BASE_TYPE_INVALID'), message: p.message });
  }
  return {
    status: 400,
    body: { code: 50035, message: 'Invalid Form Body', errors },
    problems: problems.map((p) => `${p.path || '(body)'}: ${p.message}`),
  };
}

/**
 * discord.js sends a few integer fields as strings (permissions, flags): Discord accepts them, the spec
 * types them integer, and ajv's `coerceTypes` would break `oneOf [null, integer]`; convert them instead.
 */
function normalize(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(normalize);
  if (body === null || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    out[key] =
      (key === 'default_member_permissions' || key === 'flags') && typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : normalize(value);
  }
  return out;
}

/** ajv's errors as fields; of an `anyOf`, the branch that got furthest. */
function fromAjv(errors: readonly ErrorObject[]): Problem[] {
  const leaves = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'allOf');
  const deepest = Math.max(0, ...leaves.map((e) => e.instancePath.split('/').length));
  const chosen = leaves.filter((e) => e.instancePath.split('/').length === deepest);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const e of chosen.length > 0 ? chosen : errors) {
    const path = e.instancePath.split('/').filter(Boolean).join('.');
    const field =
      e.keyword === 'additionalProperties' ? `${path ? `${path}.` : ''}${String(e.params.additionalProperty)}` : path;
    const message =
      e.keyword === 'maxLength'
        ? `Must be ${String(e.params.limit)} or fewer in length.`
        : e.keyword === 'additionalProperties'
          ? 'Unknown field.'
          : (e.message ?? 'invalid');
    const key = `${field}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({
      path: field,
      message,
      code: e.keyword === 'maxLength' ? 'BASE_TYPE_MAX_LENGTH' : 'BASE_TYPE_INVALID',
    });
  }
  return problems;
}

/** The parts of a message Discord's message rules look at. */
export interface MessageLike {
  content?: unknown;
  embeds?: Array<Record<string, unknown>>;
  components?: unknown[];
  attachments?: Array<{ id?: unknown; filename?: unknown }>;
  sticker_ids?: unknown[];
  poll?: unknown;
  flags?: unknown;
  allowed_mentions?: { parse?: unknown; users?: unknown; roles?: unknown } | null;
}

/** Content Discord shows: it trims whitespace, so content of spaces and newlines alone is none. */
function showsContent(content: unknown): boolean {
  return typeof content === 'string' && content.trim().length > 0;
}

/** The message a request carries, where `prefix` names it in error paths. */
function messageOf(
  method: string,
  template: string,
  body: Record<string, unknown>,
): { message: MessageLike; prefix: string; create: boolean } | null {
  if (template.endsWith('/callback')) {
    const type = body.type;
    if ((type === 4 || type === 7) && body.data && typeof body.data === 'object')
      return { message: body.data as MessageLike, prefix: 'data.', create: type === 4 };
    return null;
  }
  if (template === '/channels/{channel_id}/messages' && method === 'POST')
    return { message: body, prefix: '', create: true };
  if (template === '/webhooks/{webhook_id}/{webhook_token}' && method === 'POST')
    return { message: body, prefix: '', create: true };
  if (template.startsWith('/webhooks/{webhook_id}/{webhook_token}/messages/'))
    return { message: body, prefix: '', create: false };
  if (template.startsWith('/channels/{channel_id}/messages/') && method === 'PATCH')
    return { message: body, prefix: '', create: false };
  return null;
}

/** Application command and option names: 1-32 of letters, digits, `-`, `_`, `'`, lower-case where a case exists. */
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function commandNameProblems(options: unknown, path: string): Problem[] {
  if (!Array.isArray(options)) return [];
  const problems: Problem[] = [];
  for (const [i, o] of options.entries()) {
    const option = o as { name?: unknown; type?: unknown; options?: unknown };
    const name = String(option.name ?? '');
    // Chat-input commands and every option: user and message commands may have spaces and capitals.
    const chatInput = option.type === undefined || option.type === 1 || path !== '';
    if (chatInput && (!COMMAND_NAME.test(name) || name !== name.toLowerCase())) {
      problems.push({
        path: `${path}${i}.name`,
        message: `Command name is invalid: ${name}`,
        code: 'APPLICATION_COMMAND_INVALID_NAME',
      });
    }
    problems.push(...commandNameProblems(option.options, `${path}${i}.options.`));
  }
  return problems;
}

function documentedRules(
  method: string,
  template: string,
  body: unknown,
  fileParts: Record<string, { filename: string }>,
  current: MessageLike | undefined,
): Problem[] {
  if (template.endsWith('/commands') && method.toUpperCase() === 'PUT')
    return [...commandNameProblems(body, ''), ...commandShapeProblems(body)];
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const callbackType = template.endsWith('/callback') ? (body as { type?: unknown }).type : undefined;
  if (callbackType === 4 && (body as { data?: unknown }).data == null)
    return [{ path: 'data', message: 'This field is required', code: 'BASE_TYPE_REQUIRED' }];
  const found = messageOf(method.toUpperCase(), template, body as Record<string, unknown>);
  if (!found) return [];
  const { message, prefix, create } = found;
  const problems: Problem[] = [];
  if (typeof message.content === 'string' && [...message.content].length > 2000) {
    problems.push({
      path: `${prefix}content`,
      message: 'Must be 2000 or fewer in length.',
      code: 'BASE_TYPE_MAX_LENGTH',
    });
  }
  const embeds = Array.isArray(message.embeds) ? message.embeds : [];
  const total = embeds.reduce((sum, e) => sum + embedCharacters(e), 0);
  if (total > 6000)
    problems.push({
      path: `${prefix}embeds`,
      message: `Embed size exceeds maximum size of 6000 (${total}).`,
      code: 'MAX_EMBED_SIZE_EXCEEDED',
    });
  const uploaded = Object.keys(fileParts);
  if (uploaded.length > 10)
    problems.push({ path: 'files', message: 'Must be 10 or fewer in length.', code: 'BASE_TYPE_MAX_LENGTH' });
  problems.push(...allowedMentionsProblems(message.allowed_mentions, `${prefix}allowed_mentions`));
  const attachments = Array.isArray(message.attachments) ? message.attachments : [];
  for (const [i, a] of attachments.entries()) {
    const id = String(a.id);
    const isNewUpload = /^\d{1,2}$/.test(id);
    if (isNewUpload && !fileParts[`files[${id}]`]) {
      problems.push({
        path: `${prefix}attachments.${i}.id`,
        message: `Attachment id ${id} names no uploaded file part (files[${id}]).`,
        code: 'ATTACHMENT_NOT_FOUND',
      });
    }
  }
  for (const [i, e] of embeds.entries()) problems.push(...embedProblems(e, `${prefix}embeds.${i}`));
  problems.push(...duplicateCustomIds(message.components, `${prefix}components`));
  problems.push(...componentProblems(message.components, message.flags, `${prefix}components`));
  const filenames = new Set([
    ...Object.values(fileParts).map((f) => f.filename),
    ...attachments.map((a) => String(a.filename ?? '')),
  ]);
  for (const [i, e] of embeds.entries()) {
    for (const slot of ['image', 'thumbnail'] as const) {
      const url = (e[slot] as { url?: unknown } | undefined)?.url;
      if (
        typeof url === 'string' &&
        url.startsWith('attachment://') &&
        !filenames.has(url.slice('attachment://'.length))
      ) {
        problems.push({
          path: `${prefix}embeds.${i}.${slot}.url`,
          message: `No attachment named ${url.slice('attachment://'.length)}.`,
          code: 'ATTACHMENT_NOT_FOUND',
        });
      }
    }
  }
  const empty =
    !showsContent(message.content) &&
    embeds.length === 0 &&
    uploaded.length === 0 &&
    !(Array.isArray(message.components) && message.components.length > 0) &&
    !(Array.isArray(message.sticker_ids) && message.sticker_ids.length > 0) &&
    message.poll === undefined;
  if (create && empty) problems.push({ path: '', message: 'Cannot send an empty message', code: 50006 });
  if (!create && uploaded.length === 0 && editLeavesNothing(current, message))
    problems.push({ path: '', message: 'Cannot send an empty message', code: 50006 });
  return problems;
}

/** `parse: ["users"]` beside a `users` list (or the same for roles): Discord takes one or the other. */
function allowedMentionsProblems(allowed: MessageLike['allowed_mentions'], path: string): Problem[] {
  if (allowed === null || typeof allowed !== 'object' || !Array.isArray(allowed.parse)) return [];
  const problems: Problem[] = [];
  for (const kind of ['users', 'roles'] as const) {
    const ids = allowed[kind];
    if (allowed.parse.includes(kind) && Array.isArray(ids) && ids.length > 0) {
      problems.push({
        path,
        message: `parse:["${kind}"] and ${kind}: [ids...] are mutually exclusive.`,
        code: 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
      });
    }
  }
  return problems;
}

/** The fields an edit can empty; one it leaves out keeps its value. */
const EDITABLE = ['content', 'embeds', 'components', 'attachments'] as const;

/** The message after `edit` (an edit body, or an update callback's `data`). */
export function messageAfterEdit(current: MessageLike, edit: MessageLike): MessageLike {
  const after: Record<string, unknown> = { ...current };
  for (const key of EDITABLE) if (key in edit) after[key] = edit[key];
  return after as MessageLike;
}

/**
 * Whether an edit leaves the message with nothing to show: Discord's rule for a new message (content, embeds,
 * files, components, stickers or a poll) applied to the result, which Discord answers with the same 50006.
 * Without `current`, a field the edit leaves out may show something, so only an edit that sets them all is judged.
 */
function editLeavesNothing(current: MessageLike | undefined, edit: MessageLike): boolean {
  if (current === undefined && EDITABLE.some((key) => !(key in edit))) return false;
  const m = messageAfterEdit(current ?? {}, edit);
  const nonEmpty = (v: unknown) => Array.isArray(v) && v.length > 0;
  return !(
    showsContent(m.content) ||
    nonEmpty(m.embeds) ||
    nonEmpty(m.components) ||
    nonEmpty(m.attachments) ||
    nonEmpty(m.sticker_ids) ||
    m.poll !== undefined
  );
}

/** What an embed carries that Discord shows; an embed with none of it is `{}` to Discord. */
const EMBED_CONTENT = [
  'title',
  'description',
  'url',
  'fields',
  'image',
  'thumbnail',
  'author',
  'footer',
  'video',
  'provider',
  'timestamp',
] as const;

/**
 * An empty embed is refused at `embeds.N` (LIST_ITEM_VALUE_REQUIRED, as Discord answers `embeds: [{}]`).
 * A field's `name` and `value` must be non-blank. Stricter than today's Discord on purpose: its spec has no
 * minLength there and it has taken `""` since 2024 (discord.js issue 10744), but a label without a value
 * is a figure that silently went missing, which this bot must never show; Discord answered such a field
 * with BASE_TYPE_REQUIRED for years, and that is the answer given here.
 */
function embedProblems(embed: Record<string, unknown>, path: string): Problem[] {
  if (embed === null || typeof embed !== 'object') return [];
  const shows = EMBED_CONTENT.some((key) => {
    const v = embed[key];
    return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
  });
  if (!shows)
    return [{ path, message: 'List item values of ModelType are required', code: 'LIST_ITEM_VALUE_REQUIRED' }];
  const fields = Array.isArray(embed.fields) ? (embed.fields as Array<Record<string, unknown>>) : [];
  const problems: Problem[] = [];
  for (const [i, f] of fields.entries()) {
    for (const key of ['name', 'value'] as const) {
      // Whitespace alone shows nothing either, and Discord refused it the same way (Discord.Net PR 1132).
      if (typeof f?.[key] === 'string' && (f[key] as string).trim() === '') {
        problems.push({
          path: `${path}.fields.${i}.${key}`,
          message: 'This field is required',
          code: 'BASE_TYPE_REQUIRED',
        });
      }
    }
  }
  return problems;
}

/** A `custom_id` used twice in one message (action rows and their children): the second is refused. */
function duplicateCustomIds(components: unknown, path: string): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  const walk = (list: unknown, at: string) => {
    if (!Array.isArray(list)) return;
    for (const [i, c] of list.entries()) {
      if (c === null || typeof c !== 'object') continue;
      const { custom_id: id, components: children } = c as { custom_id?: unknown; components?: unknown };
      if (typeof id === 'string') {
        if (seen.has(id))
          problems.push({
            path: `${at}.${i}.custom_id`,
            message: 'Component custom id was already specified',
            code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
          });
        seen.add(id);
      }
      walk(children, `${at}.${i}.components`);
    }
  };
  walk(components, path);
  return problems;
}

/** `flags` bit of a message laid out with components v2 (sections, containers, up to 40 components). */
const IS_COMPONENTS_V2 = 1 << 15;
const ACTION_ROW = 1;
const BUTTON = 2;
const LINK = 5;
const PREMIUM = 6;

/**
 * Discord's layout rules the spec does not state: without the components-v2 flag a message has at most 5
 * components, each an action row; a row holds at most 5 buttons; a button shows a label or an emoji (a
 * premium button shows its SKU) and carries the one action field its style takes: a link its `url`, a
 * premium button its `sku_id`, every other style a `custom_id`.
 */
function componentProblems(components: unknown, flags: unknown, path: string): Problem[] {
  if (!Array.isArray(components)) return [];
  const problems: Problem[] = [];
  const v2 = typeof flags === 'number' && (flags & IS_COMPONENTS_V2) !== 0;
  if (!v2 && components.length > 5)
    problems.push({ path, message: 'Must be 5 or fewer in length.', code: 'BASE_TYPE_MAX_LENGTH' });
  const walk = (list: unknown[], at: string) => {
    for (const [i, c] of list.entries()) {
      if (c === null || typeof c !== 'object') continue;
      const component = c as Record<string, unknown>;
      const here = `${at}.${i}`;
      if (component.type === ACTION_ROW && Array.isArray(component.components) && component.components.length > 5) {
        problems.push({
          path: `${here}.components`,
          message: 'Must be 5 or fewer in length.',
          code: 'BASE_TYPE_MAX_LENGTH',
        });
      }
      if (component.type === BUTTON) problems.push(...buttonProblems(component, here));
      if (Array.isArray(component.components)) walk(component.components, `${here}.components`);
      if (component.accessory && typeof component.accessory === 'object')
        walk([component.accessory], `${here}.accessory`);
    }
  };
  walk(components, path);
  return problems;
}

function buttonProblems(button: Record<string, unknown>, path: string): Problem[] {
  const has = (key: string) => button[key] !== undefined && button[key] !== null && button[key] !== '';
  const problems: Problem[] = [];
  const required = (key: string, message: string) =>
    problems.push({ path: `${path}.${key}`, message, code: 'BASE_TYPE_REQUIRED' });
  const forbidden = (key: string, message: string) =>
    problems.push({ path: `${path}.${key}`, message, code: 'COMPONENT_INVALID' });
  if (button.style === PREMIUM) {
    if (!has('sku_id')) required('sku_id', 'A sku id is required');
    for (const key of ['custom_id', 'url', 'label', 'emoji'])
      if (has(key)) forbidden(key, `A premium button cannot have a ${key.replace('_', ' ')}`);
    return problems;
  }
  if (!has('label') && !has('emoji')) required('label', 'A label or an emoji is required');
  if (button.style === LINK) {
    if (!has('url')) required('url', 'A url is required');
    if (has('custom_id')) forbidden('custom_id', 'A custom id and url cannot both be specified');
  } else {
    if (!has('custom_id')) required('custom_id', 'A custom id is required');
    if (has('url')) forbidden('url', 'A custom id and url cannot both be specified');
  }
  return problems;
}

const SUBCOMMAND = 1;
const SUBCOMMAND_GROUP = 2;

/**
 * A chat-input command (and every option) has a description of 1-100 characters (the spec allows none and
 * `""`); within one list of options the names are unique, and required options come before optional ones.
 */
function commandShapeProblems(commands: unknown): Problem[] {
  if (!Array.isArray(commands)) return [];
  const problems: Problem[] = [];
  const description = (d: unknown, at: string) => {
    const n = typeof d === 'string' ? [...d].length : 0;
    if (n < 1 || n > 100)
      problems.push({
        path: `${at}.description`,
        message: 'Must be between 1 and 100 in length.',
        code: 'BASE_TYPE_BAD_LENGTH',
      });
  };
  const options = (list: unknown, at: string) => {
    if (!Array.isArray(list)) return;
    const names = new Set<string>();
    let optionalSeen = false;
    const nesting: number[] = [];
    const plain: number[] = [];
    for (const [i, o] of list.entries()) {
      if (o === null || typeof o !== 'object') continue;
      const option = o as {
        name?: unknown;
        type?: unknown;
        required?: unknown;
        description?: unknown;
        options?: unknown;
        min_value?: unknown;
        max_value?: unknown;
        min_length?: unknown;
        max_length?: unknown;
      };
      const here = `${at}.${i}`;
      const name = String(option.name ?? '');
      if (names.has(name))
        problems.push({
          path: `${here}.name`,
          message: `Option name ${name} is already used in these options`,
          code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
        });
      names.add(name);
      description(option.description, here);
      const nests = option.type === SUBCOMMAND || option.type === SUBCOMMAND_GROUP;
      (nests ? nesting : plain).push(i);
      for (const [min, max] of [
        ['min_value', 'max_value'],
        ['min_length', 'max_length'],
      ] as const) {
        const low = option[min];
        const high = option[max];
        // Discord refuses it (an option no one could fill); its field error's code is not documented, so the
        // generic one is given here, at the minimum.
        if (typeof low === 'number' && typeof high === 'number' && low > high)
          problems.push({
            path: `${here}.${min}`,
            message: `${min} must be less than or equal to ${max}`,
            code: 'BASE_TYPE_INVALID',
          });
      }
      if (!nests) {
        if (option.required === true && optionalSeen)
          problems.push({
            path: `${here}.required`,
            message: 'Required options must be placed before non-required options',
            code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
          });
        if (option.required !== true) optionalSeen = true;
      }
      options(option.options, `${here}.options`);
    }
    if (nesting.length > 0 && plain.length > 0)
      problems.push({
        path: at,
        message: 'Sub-command and sub-command group option types are mutually exclusive to all other types',
        code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
      });
  };
  // One bulk overwrite holds each name once per command type (a chat-input and a user command may share one).
  const seen = new Set<string>();
  for (const [i, c] of commands.entries()) {
    if (c === null || typeof c !== 'object') continue;
    const { name, type } = c as { name?: unknown; type?: unknown };
    const key = `${String(type ?? 1)}:${String(name)}`;
    if (seen.has(key))
      problems.push({
        path: String(i),
        message: 'Application command names must be unique',
        code: 'APPLICATION_COMMANDS_DUPLICATE_NAME',
      });
    seen.add(key);
  }
  for (const [i, c] of commands.entries()) {
    if (c === null || typeof c !== 'object') continue;
    const command = c as { type?: unknown; description?: unknown; options?: unknown };
    // User and message commands take no description; chat-input ones (type 1, the default) need one.
    if (command.type !== undefined && command.type !== 1) continue;
    description(command.description, String(i));
    options(command.options, `${i}.options`);
  }
  return problems;
}

/** Characters that count toward an embed's 6,000: title, description, field names and values, footer, author. */
export function embedCharacters(embed: Record<string, unknown>): number {
  const len = (v: unknown) => (typeof v === 'string' ? [...v].length : 0);
  const fields = Array.isArray(embed.fields) ? (embed.fields as Array<{ name?: unknown; value?: unknown }>) : [];
  return (
    len(embed.title) +
    len(embed.description) +
    fields.reduce((sum, f) => sum + len(f.name) + len(f.value), 0) +
    len((embed.footer as { text?: unknown } | undefined)?.text) +
    len((embed.author as { name?: unknown } | undefined)?.name)
  );
}
