/**
 * Reply → Telegram HTML. Platform rules: parse mode HTML with `&`, `<`, `>` escaped in every dynamic
 * value (MarkdownV2 would need every `.` and `-` of every number escaped); a message holds at most 4,096
 * characters and a photo caption 1,024. Every rendered line is self-contained (no tag spans a line break),
 * so a long reply splits or trims between lines and never leaves a tag open. Lengths are counted on the
 * HTML source in UTF-16 units, which is never less than what Telegram counts after parsing.
 */
import { plainReplyText, type Reply } from '../../core/reply.js';

export const TELEGRAM_TEXT_LIMIT = 4096;
export const TELEGRAM_CAPTION_LIMIT = 1024;
/** Telegram's limit on `callback_data`, in bytes. */
export const CALLBACK_DATA_LIMIT = 64;

const ELLIPSIS = '…';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One output line: fixed markup around plain text that is escaped, and cut if it must be. */
interface Line {
  open: string;
  text: string;
  close: string;
  /** Plain text after the cut-able part (already short): a field's value after its label. */
  tail?: string;
}

function lineHtml(line: Line): string {
  return `${line.open}${escapeHtml(line.text)}${line.close}${escapeHtml(line.tail ?? '')}`;
}

/** The line, cut to at most `max` characters of HTML with an ellipsis, never inside an entity or a pair. */
function cutLine(line: Line, max: number): string {
  const full = lineHtml(line);
  if (full.length <= max) return full;
  const plain = line.text + (line.tail ?? '');
  const budget = max - line.open.length - line.close.length - ELLIPSIS.length;
  let out = '';
  for (const ch of plain) {
    const piece = escapeHtml(ch);
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return `${line.open}${out}${ELLIPSIS}${line.close}`;
}

function linesOf(r: Reply): Line[] {
  const out: Line[] = [{ open: '<b>', text: r.title, close: '</b>' }];
  for (const notice of r.notices) out.push({ open: '⚠️ <i>', text: notice, close: '</i>' });
  const body: Line[] = [];
  for (const text of r.lines) {
    body.push(
      text.startsWith('Usage: ')
        ? { open: 'Usage: <code>', text: text.slice(7), close: '</code>' }
        : { open: '', text, close: '' },
    );
  }
  for (const field of r.fields) {
    const [first = '', ...rest] = field.value.split('\n');
    body.push({ open: '<b>', text: `${field.label}:`, close: '</b> ', tail: first });
    for (const more of rest) body.push({ open: '    ', text: more, close: '' });
  }
  if (body.length > 0) out.push({ open: '', text: '', close: '' }, ...body);
  if (r.footer) {
    out.push({ open: '', text: '', close: '' });
    for (const f of r.footer.split('\n')) out.push({ open: '<i>', text: f, close: '</i>' });
  }
  return out;
}

export interface RenderOptions {
  /** Characters per message: 4,096 for text, 1,024 for a caption. */
  limit?: number;
  /**
   * `split` returns as many messages as the reply needs; `trim` returns exactly one, cut between lines
   * with an ellipsis (for captions, and for replies with a Refresh button, which edits one message).
   */
  mode?: 'split' | 'trim';
}

/**
 * Renders a reply as one or more HTML messages, each within `limit`. Pure: the same reply always gives
 * the same text, which lets a Refresh edit be skipped when nothing changed.
 */
export function renderTelegramHtml(r: Reply, options: RenderOptions = {}): string[] {
  const limit = options.limit ?? TELEGRAM_TEXT_LIMIT;
  const mode = options.mode ?? 'split';
  const html = linesOf(r).map((line) => cutLine(line, limit));
  const chunks: string[] = [];
  let current = '';
  for (const line of html) {
    const next = current === '' ? line : `${current}\n${line}`;
    if (next.length <= limit) {
      current = next;
      continue;
    }
    if (mode === 'trim') {
      const room = `${current}\n${ELLIPSIS}`;
      return [room.length <= limit ? room : current];
    }
    chunks.push(current);
    current = line;
  }
  // A chunk that ends on blank separator lines would be sent with trailing whitespace; Telegram trims it.
  if (current.trim() !== '') chunks.push(current);
  return chunks.map((c) => c.replace(/\n+$/, ''));
}

export interface InlineKeyboard {
  inline_keyboard: Array<Array<{ text: string; callback_data: string }>>;
}

/** Reply buttons as one row of callback buttons; ids too long for Telegram are left out. */
export function telegramKeyboard(r: Reply): InlineKeyboard | undefined {
  const row = r.buttons
    .filter((b) => Buffer.byteLength(b.id, 'utf8') <= CALLBACK_DATA_LIMIT)
    .map((b) => ({ text: b.label, callback_data: b.id }));
  return row.length > 0 ? { inline_keyboard: [row] } : undefined;
}

/**
 * What to send for a reply, decided once for replies, edits and alerts: a photo with its text trimmed to a
 * caption, or HTML messages (split when long, unless `single`: a message with a button, or an edit, is one).
 */
export type TelegramMessage =
  | { kind: 'photo'; png: Uint8Array; filename: string; caption: string; keyboard?: InlineKeyboard }
  | { kind: 'text'; parts: string[]; keyboard?: InlineKeyboard };

export function telegramMessage(r: Reply, options: { single?: boolean } = {}): TelegramMessage {
  const keyboard = telegramKeyboard(r);
  if (r.image) {
    const [caption = ''] = renderTelegramHtml(r, { limit: TELEGRAM_CAPTION_LIMIT, mode: 'trim' });
    return { kind: 'photo', png: r.image.png, filename: r.image.filename, caption, keyboard };
  }
  const single = options.single === true || keyboard !== undefined;
  return { kind: 'text', parts: renderTelegramHtml(r, { mode: single ? 'trim' : 'split' }), keyboard };
}

/**
 * The reply as plain text, sent without a parse mode (no entity to break) and clipped to one message (or to
 * a caption, with `limit`): what goes when Telegram refused the HTML one. Telegram counts UTF-16 code units,
 * as `length` does; a surrogate pair is never split at the cut.
 */
export function plainTelegramText(r: Reply, empty = 'OPG', limit = TELEGRAM_TEXT_LIMIT): string {
  const plain = plainReplyText(r, empty);
  if (plain.length <= limit) return plain;
  const cut = plain.slice(0, limit - 1).replace(/[\ud800-\udbff]$/, '');
  return `${cut}${ELLIPSIS}`;
}
