/**
 * Reply → Discord message, as a pure function. Discord refuses a whole message when any embed limit is
 * passed (title 256, description 4096, 25 fields, field name 256 and value 1024, footer 2048, 6000 in all),
 * so every text is clipped here, fields past the total are dropped with a note, and mentions are never
 * parsed, so no figure or chat title can ping anyone.
 */
import { ButtonStyle, ComponentType, MessageFlags } from 'discord.js';
import { plainReplyText, type Reply, type ReplyKind } from '../../core/reply.js';

export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
} as const;

/** A message's `content`, in characters. */
export const DISCORD_CONTENT_LIMIT = 2000;

const COLORS: Record<ReplyKind, number> = {
  info: 0x5865f2,
  usage: 0xfee75c,
  refused: 0xed4245,
  error: 0xed4245,
};

export interface DiscordEmbed {
  title: string;
  description?: string;
  color: number;
  fields: Array<{ name: string; value: string; inline: boolean }>;
  footer?: { text: string };
  image?: { url: string };
}

export interface DiscordMessage {
  embeds: DiscordEmbed[];
  components: Array<{
    type: ComponentType.ActionRow;
    components: Array<{ type: ComponentType.Button; style: ButtonStyle; custom_id: string; label: string }>;
  }>;
  files: Array<{ name: string; attachment: Buffer; description: string }>;
  allowedMentions: { parse: [] };
  /** Ephemeral replies go to the caller only. */
  flags?: MessageFlags.Ephemeral;
}

/** Backslash-escapes markdown so a figure or a title is shown exactly as written. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\*_~`|<[]/g, '\\$&')
    .replace(/^(\s*)([#>-])(?=\s)/gm, '$1\\$2')
    .replace(/^(\s*)(\d+)\.(?=\s)/gm, '$1$2\\.')
    .replace(/@/g, '@\u200b');
}

/** Cuts to `max` characters with an ellipsis, never leaving a dangling escape backslash. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const trailing = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (trailing % 2 === 1) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function nonEmpty(text: string): string {
  return text.trim() === '' ? '\u200b' : text;
}

/** Keeps attachment names to what Discord serves back unchanged. */
export function safeFilename(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(-64);
  return /\.png$/i.test(cleaned) ? cleaned : `${cleaned || 'image'}.png`;
}

/** Counts what Discord counts toward the 6000-character limit. */
export function embedLength(embed: DiscordEmbed): number {
  return (
    embed.title.length +
    (embed.description?.length ?? 0) +
    embed.fields.reduce((n, f) => n + f.name.length + f.value.length, 0) +
    (embed.footer?.text.length ?? 0)
  );
}

export function renderDiscord(reply: Reply): DiscordMessage {
  const paragraphs = [...reply.notices.map((n) => `⚠️ ${escapeMarkdown(n)}`), ...reply.lines.map(escapeMarkdown)];
  const embed: DiscordEmbed = {
    title: clip(nonEmpty(escapeMarkdown(reply.title)), EMBED_LIMITS.title),
    color: COLORS[reply.kind],
    fields: reply.fields.slice(0, EMBED_LIMITS.fields).map((f) => ({
      name: clip(nonEmpty(escapeMarkdown(f.label)), EMBED_LIMITS.fieldName),
      value: clip(nonEmpty(escapeMarkdown(f.value)), EMBED_LIMITS.fieldValue),
      inline: f.inline === true,
    })),
  };
  if (paragraphs.length > 0) embed.description = clip(paragraphs.join('\n'), EMBED_LIMITS.description);
  if (reply.footer) embed.footer = { text: clip(reply.footer, EMBED_LIMITS.footer) };

  let dropped = reply.fields.length - embed.fields.length;
  while (embedLength(embed) > EMBED_LIMITS.total && embed.fields.length > 0) {
    embed.fields.pop();
    dropped += 1;
  }
  if (dropped > 0) {
    const note = `\n(${dropped} more not shown: too long for Discord)`;
    const room = EMBED_LIMITS.total - embedLength(embed) - note.length;
    const base = embed.description ?? '';
    if (room >= 0)
      embed.description = clip(base, Math.min(EMBED_LIMITS.description - note.length, base.length + room)) + note;
  }
  if (embedLength(embed) > EMBED_LIMITS.total && embed.description) {
    const over = embedLength(embed) - EMBED_LIMITS.total;
    embed.description = clip(embed.description, Math.max(1, embed.description.length - over));
  }

  const files: DiscordMessage['files'] = [];
  if (reply.image) {
    const name = safeFilename(reply.image.filename);
    files.push({ name, attachment: Buffer.from(reply.image.png), description: clip(reply.image.alt, 1024) });
    embed.image = { url: `attachment://${name}` };
  }

  const buttons = reply.buttons.slice(0, 5).map((b) => ({
    type: ComponentType.Button as const,
    style: ButtonStyle.Secondary,
    custom_id: b.id.slice(0, 100),
    label: clip(b.label, 80),
  }));
  return {
    embeds: [embed],
    components: buttons.length > 0 ? [{ type: ComponentType.ActionRow, components: buttons }] : [],
    files,
    allowedMentions: { parse: [] },
    ...(reply.ephemeral ? { flags: MessageFlags.Ephemeral } : {}),
  };
}

/**
 * The reply as plain `content` (markdown escaped, clipped to 2,000 characters) with no embed, component or
 * file, the parts a rendering bug can break: what goes when Discord refused the rendered answer.
 */
export function plainDiscordText(reply: Reply): string {
  return clip(escapeMarkdown(plainReplyText(reply, 'OPG')), DISCORD_CONTENT_LIMIT);
}
