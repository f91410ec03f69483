/**
 * Reads a `multipart/form-data` body as the platforms do: text fields by name, file parts with their file
 * name, content type and bytes. No vitest import: the stand-ins and benchmarks use it.
 */
export interface MultipartFile {
  filename: string;
  contentType: string | null;
  bytes: Buffer;
}

export interface Multipart {
  fields: Record<string, string>;
  files: Record<string, MultipartFile>;
}

/** The boundary of a multipart content type, or null when the body is not multipart. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType?.startsWith('multipart/form-data')) return null;
  return /boundary=("?)([^";]+)\1/.exec(contentType)?.[2] ?? null;
}

/** Splits a multipart body into parts (headers as text, body as bytes); tolerant of header spacing. */
export function splitMultipart(raw: Buffer, boundary: string): Array<{ headers: string; body: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: string; body: Buffer }> = [];
  let start = raw.indexOf(delimiter);
  while (start !== -1) {
    const from = start + delimiter.length;
    if (raw.subarray(from, from + 2).toString() === '--') break;
    const next = raw.indexOf(delimiter, from);
    if (next === -1) break;
    const chunk = raw.subarray(from + 2, next - 2);
    const split = chunk.indexOf('\r\n\r\n');
    parts.push({ headers: chunk.subarray(0, split).toString('utf8'), body: chunk.subarray(split + 4) });
    start = next;
  }
  return parts;
}

export function parseMultipart(raw: Buffer, boundary: string): Multipart {
  const fields: Record<string, string> = {};
  const files: Record<string, MultipartFile> = {};
  for (const part of splitMultipart(raw, boundary)) {
    const name = /name="([^"]*)"/i.exec(part.headers)?.[1] ?? /name=([^;\r\n]+)/i.exec(part.headers)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(part.headers)?.[1] ?? /filename=([^;\r\n]+)/i.exec(part.headers)?.[1];
    if (filename !== undefined) {
      files[name] = {
        filename,
        contentType: /content-type:\s*([^\r\n]+)/i.exec(part.headers)?.[1] ?? null,
        bytes: part.body,
      };
    } else {
      fields[name] = part.body.toString('utf8');
    }
  }
  return { fields, files };
}
