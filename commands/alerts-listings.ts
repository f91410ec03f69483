/** `alerts listings on|off`: whether this chat's subscription gets an alert when OPG trades on a new venue. */
import { defineCommand } from '../src/core/command.js';
import { UserInputError } from '../src/core/errors.js';
import { reply } from '../src/core/reply.js';

export const alertsListings = defineCommand({
  name: 'listings',
  group: 'alerts',
  description: 'New-listing alerts (OPG trading on a new venue) on or off for this chat',
  options: { state: { type: 'choice', choices: ['on', 'off'] as const, description: 'on or off', required: true } },
  access: 'moderator',
  async run({ state }, { services, chat }) {
    const on = state === 'on';
    if (!(await services.listings.setListings(chat, on))) {
      throw new UserInputError('Alerts are off in this chat. A moderator can start them with /opg alerts subscribe.');
    }
    return reply({
      title: on ? 'Listing alerts on' : 'Listing alerts off',
      lines: [
        on
          ? 'This chat gets an alert when OPG starts trading on a venue CoinGecko did not list before (checked at ' +
            "each reading of CoinGecko's tickers: hourly unless the operator chose otherwise)."
          : 'This chat no longer gets new-listing alerts; volume / market cap alerts are unchanged.',
      ],
    });
  },
});
