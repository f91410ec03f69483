/** Reply → plain text for a terminal. Pure; no colours, so output can be piped or logged as is. */
import type { Reply } from '../../core/reply.js';

export function renderPlain(r: Reply): string {
  const out: string[] = [r.title, '='.repeat(Math.min(r.title.length, 60))];
  for (const notice of r.notices) out.push(`! ${notice}`);
  if (r.notices.length > 0) out.push('');
  out.push(...r.lines);
  if (r.fields.length > 0) {
    const width = Math.min(24, Math.max(...r.fields.map((f) => f.label.length)));
    for (const f of r.fields) {
      const [first = '', ...rest] = f.value.split('\n');
      out.push(`${f.label.padEnd(width)}  ${first}`);
      for (const more of rest) out.push(`${' '.repeat(width)}  ${more}`);
    }
  }
  if (r.image) out.push(`[image: ${r.image.alt}]`);
  if (r.footer) out.push('', r.footer);
  return out.join('\n');
}
