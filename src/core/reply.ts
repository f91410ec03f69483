/**
 * The neutral reply every command returns and every front end renders. Text here is plain: renderers
 * escape it for their platform (HTML on Telegram, markdown-safe on Discord). Size limits are the
 * renderers' job, so a command never needs to know where it is shown.
 */

export interface ReplyField {
  label: string;
  value: string;
  /** Discord may lay inline fields side by side; other renderers ignore it. */
  inline?: boolean;
}

export interface ReplyImage {
  png: Uint8Array;
  filename: string;
  /** Describes the picture for screen readers and for front ends that cannot show it. */
  alt: string;
}

export interface ReplyButton {
  /** Stable id the adapter routes back, such as `refresh:stats`. */
  id: string;
  label: string;
}

export type ReplyKind = 'info' | 'usage' | 'refused' | 'error';

export interface Reply {
  kind: ReplyKind;
  title: string;
  /** Paragraphs shown under the title, before fields. */
  lines: string[];
  fields: ReplyField[];
  /** Warnings a reader must not miss: stale or missing figures. */
  notices: string[];
  /** Sources and as-of time. */
  footer?: string;
  image?: ReplyImage;
  buttons: ReplyButton[];
  /** Discord shows it to the caller only; Telegram replies to the message instead. */
  ephemeral: boolean;
}

export type ReplyInit = Partial<Omit<Reply, 'title'>> & { title: string };

export function reply(init: ReplyInit): Reply {
  return {
    kind: init.kind ?? 'info',
    title: init.title,
    lines: init.lines ?? [],
    fields: init.fields ?? [],
    notices: init.notices ?? [],
    footer: init.footer,
    image: init.image,
    buttons: init.buttons ?? [],
    ephemeral: init.ephemeral ?? (init.kind !== undefined && init.kind !== 'info'),
  };
}

/** Every string a reply shows, for checks that no `NaN` or `undefined` reached a person. */
export function replyText(r: Reply): string {
  return [
    r.title,
    ...r.lines,
    ...r.fields.flatMap((f) => [f.label, f.value]),
    ...r.notices,
    r.footer ?? '',
    ...r.buttons.map((b) => b.label),
  ].join('\n');
}

/**
 * The reply as plain lines (title, lines, fields as `label: value`, notices, footer; no image, no buttons):
 * what a front end sends when the platform refused the rendered message, so a person still gets the figures.
 * `empty` stands in for a reply with no text at all.
 */
export function plainReplyText(r: Reply, empty: string): string {
  const text = [
    r.title,
    ...r.lines,
    ...r.fields.map((f) => `${f.label}: ${f.value}`),
    ...r.notices,
    ...(r.footer ? [r.footer] : []),
  ]
    .filter((line) => line.trim() !== '')
    .join('\n');
  return text.trim() === '' ? empty : text;
}
