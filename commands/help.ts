import { defineCommand, usageOf } from '../src/core/command.js';
import { reply } from '../src/core/reply.js';

export default defineCommand({
  name: 'help',
  description: 'What the bot can answer, and who may change alerts',
  options: {},
  access: 'everyone',
  menuAlias: true,
  async run(_args, { commands }) {
    const everyone = commands.filter((c) => c.access === 'everyone');
    const moderators = commands.filter((c) => c.access === 'moderator');
    const line = (c: (typeof commands)[number]) => `/opg ${usageOf(c)} — ${c.description}`;
    return reply({
      title: 'opg-bot commands',
      lines: [...everyone.map(line), ...(moderators.length > 0 ? ['', 'Moderators:', ...moderators.map(line)] : [])],
      footer: 'Figures from CoinGecko and the OpenGradient chain; every reply says how old its figures are.',
    });
  },
});
