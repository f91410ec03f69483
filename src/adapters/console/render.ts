/** Reply → plain text for a terminal. Pure; no colours, so output can be piped or logged as is. */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Reply } from '../../core/reply.js';

export function renderPlain(r: Reply): string {
  const out: string[] = [r.title, '='.repeat(Math.min(r.title.length, 60))];
  for (const notice of r.notices) out.push(`! ${notice}`);
  if (r.notices.length > 0) out.push('');
  out.push(...r.lines);
  if (r.fields.length > 0) {
    const width = Math.min(24, Math.max(...r.fields.map((f) => f.label.length)));
    const indent = ' '.repeat(width + 2);
    for (const f of r.fields) {
      const [first = '', ...rest] = f.value.split('\n');
      // A label wider than the column gets its own line, so every value starts in the same column.
      if (f.label.length > width) out.push(f.label, `${indent}${first}`);
      else out.push(`${f.label.padEnd(width)}  ${first}`);
      for (const more of rest) out.push(`${indent}${more}`);
    }
  }
  if (r.image) out.push(`[image: ${r.image.alt}]`);
  if (r.footer) out.push('', r.footer);
  return out.join('\n');
}

/**
 * A renderer that writes a reply's image to `dir` (created when needed) and prints its path after the
 * text, since a terminal cannot show a picture. Only the file name's last segment is used, so a reply
 * cannot write outside `dir`.
 */
export function createFileRender(dir: string): (r: Reply) => Promise<string> {
  return async (r) => {
    const text = renderPlain(r);
    if (!r.image) return text;
    await mkdir(dir, { recursive: true });
    const path = join(dir, basename(r.image.filename) || 'chart.png');
    await writeFile(path, r.image.png);
    return `${text}\nChart written to ${path}`;
  };
}
