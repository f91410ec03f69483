/**
 * Checks on the JSON lines pino writes. `JSON.parse` keeps the last of two equal keys without a word, so a
 * line like `{"part":"alerts","part":"dispatcher"}` (a child logger made from a child) parses as if it were
 * fine; these read the text itself.
 */

/** The keys that occur more than once in one object of a JSON text (any depth), each named once. */
export function repeatedKeys(json: string): string[] {
  const repeated = new Set<string>();
  // One set of keys per open object; null for an array.
  const open: Array<Set<string> | null> = [];
  let i = 0;
  while (i < json.length) {
    const ch = json[i]!;
    if (ch === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const text = json.slice(i, end + 1);
      let next = end + 1;
      while (next < json.length && /\s/.test(json[next]!)) next++;
      const keys = open.at(-1);
      // A string followed by a colon is a key of the innermost object.
      if (json[next] === ':' && keys) {
        const key = JSON.parse(text) as string;
        if (keys.has(key)) repeated.add(key);
        keys.add(key);
      }
      i = end + 1;
      continue;
    }
    if (ch === '{') open.push(new Set());
    else if (ch === '[') open.push(null);
    else if (ch === '}' || ch === ']') open.pop();
    i++;
  }
  return [...repeated];
}

/** The JSON lines of a process's output that repeat a key, with the keys they repeat. */
export function linesWithRepeatedKeys(output: string): Array<{ line: string; keys: string[] }> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => ({ line, keys: repeatedKeys(line) }))
    .filter((l) => l.keys.length > 0);
}
