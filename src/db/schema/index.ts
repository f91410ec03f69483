/** Every table, one file per area. drizzle-kit reads this folder to generate migrations into `drizzle/`. */
export * from './market.js';
export * from './charts.js';
export * from './inferences.js';
export * from './discord.js';
export * from './alerts.js';
export * from './markets.js';
export * from './participants.js';
