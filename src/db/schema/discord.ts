/** Discord: the last slash-command body registered per scope, so a restart re-registers only on change. */
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const discordCommandRegistrations = sqliteTable('discord_command_registrations', {
  /** `<application id>:global` or `<application id>:guild:<guild id>`. */
  scope: text('scope').primaryKey(),
  /** sha256 of the JSON body last accepted by Discord for this scope. */
  hash: text('hash').notNull(),
  registeredAtMs: integer('registered_at_ms').notNull(),
});
