CREATE TABLE `discord_command_registrations` (
	`scope` text PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`registered_at_ms` integer NOT NULL
);
