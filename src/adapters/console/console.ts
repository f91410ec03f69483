/**
 * The console front end: a prompt in a terminal that takes the same words as Telegram (`/opg stats` or
 * just `stats`). The person at the keyboard owns the bot, so they count as a moderator.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Actor, ChatRef } from '../../core/command.js';
import type { Reply } from '../../core/reply.js';
import type { Sink } from '../../core/sink.js';
import { renderPlain } from './render.js';

export const CONSOLE_CHAT: ChatRef = { platform: 'console', chatId: 'console', kind: 'private', title: 'console' };
export const CONSOLE_ACTOR: Actor = { id: 'console', name: 'console', isModerator: async () => true };

export interface ConsoleOptions {
  runText(text: string, chat: ChatRef, actor: Actor): Promise<Reply>;
  input: Readable;
  output: Writable;
  /** Renders a reply; replies with an image may write a file first. */
  render?: (reply: Reply) => Promise<string> | string;
}

/** Runs the prompt until the input closes or the person types `exit`. */
export async function runConsole(options: ConsoleOptions): Promise<void> {
  const render = options.render ?? renderPlain;
  const rl = createInterface({
    input: options.input,
    output: options.output,
    prompt: 'opg> ',
    terminal: (options.input as { isTTY?: boolean }).isTTY === true,
  });
  options.output.write('opg-bot console. Type /opg help (or just help); exit to quit.\n');
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === 'exit' || text === 'quit') break;
    if (text !== '') {
      const r = await options.runText(text, CONSOLE_CHAT, CONSOLE_ACTOR);
      options.output.write(`${await render(r)}\n\n`);
    }
    rl.prompt();
  }
  rl.close();
}

/**
 * Alerts for a subscription made at the console prompt: printed between prompts. Without a running prompt
 * (the one-shot CLI) no console sink exists, and such alerts wait in the outbox for the next session.
 */
export function createConsoleSink(
  output: Writable,
  render: (reply: Reply) => Promise<string> | string = renderPlain,
): Sink {
  return {
    platform: 'console',
    async deliver(_target, reply) {
      output.write(`\n${await render(reply)}\n\n`);
      return { status: 'delivered' };
    },
  };
}
