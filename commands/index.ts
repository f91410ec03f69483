/** Every command, in the order help lists them. Front ends derive their registration from this list. */
import type { AnyCommand } from '../src/core/command.js';
import chart from './chart.js';
import { alertsCommands } from './alerts.js';
import { alertsListings } from './alerts-listings.js';
import help from './help.js';
import inferences from './inferences.js';
import network from './network.js';
import markets from './markets.js';
import stats from './stats.js';
import supply from './supply.js';
import volume from './volume.js';

export const commands: readonly AnyCommand[] = [
  stats,
  volume,
  supply,
  inferences,
  markets,
  network,
  chart,
  ...alertsCommands,
  alertsListings,
  help,
];
