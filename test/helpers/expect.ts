import { expect } from 'vitest';
import { replyText, type Reply } from '../../src/core/reply.js';

/** What must never reach a person: a number that failed to compute, a missing value printed as is. */
export const BAD_TEXT = /NaN|Infinity|undefined|\bnull\b|\[object/;

/** Fails naming the text when a reply (or text a platform was sent) shows `NaN`, `undefined`, `null` and the like. */
export function expectNoBadText(shown: unknown, where = 'text shown to a person'): void {
  const text = typeof shown === 'string' ? shown : isReply(shown) ? replyText(shown) : JSON.stringify(shown);
  expect(text, where).not.toMatch(BAD_TEXT);
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'title' in value && 'fields' in value && 'lines' in value;
}
