import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/** PostgreSQL mirror of `schema/discord.ts`. */
export const discordCommandRegistrations = pgTable('discord_command_registrations', {
  scope: text('scope').primaryKey(),
  hash: text('hash').notNull(),
  registeredAtMs: bigint('registered_at_ms', { mode: 'number' }).notNull(),
});
