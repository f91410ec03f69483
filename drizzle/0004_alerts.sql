CREATE TABLE `alert_cooldowns` (
	`subscription_id` integer PRIMARY KEY NOT NULL,
	`cooldown_minutes` integer DEFAULT 60 NOT NULL,
	`last_alert_at_ms` integer,
	`pending_id` integer,
	FOREIGN KEY (`subscription_id`) REFERENCES `alert_subscriptions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `alert_levels` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ratio` real NOT NULL,
	`side` text,
	`last_crossed_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `alert_levels_side_ratio` ON `alert_levels` (`side`,`ratio`);--> statement-breakpoint
CREATE UNIQUE INDEX `alert_levels_unseen` ON `alert_levels` (`ratio`) WHERE side is null;--> statement-breakpoint
CREATE TABLE `alert_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subscription_id` integer NOT NULL,
	`kind` text NOT NULL,
	`payload_id` integer NOT NULL,
	`created_at_ms` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at_ms` integer NOT NULL,
	`sent_at_ms` integer,
	`failed_at_ms` integer,
	`last_error` text,
	FOREIGN KEY (`subscription_id`) REFERENCES `alert_subscriptions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`payload_id`) REFERENCES `alert_payloads`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `alert_outbox_unsent` ON `alert_outbox` (`subscription_id`,`id`) WHERE sent_at_ms is null and failed_at_ms is null;--> statement-breakpoint
CREATE INDEX `alert_outbox_created` ON `alert_outbox` (`created_at_ms`);--> statement-breakpoint
CREATE TABLE `alert_payloads` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`reply_json` text NOT NULL,
	`crossings_json` text DEFAULT '[]' NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_pending` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`crossings_json` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_subscriptions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`platform` text NOT NULL,
	`chat_id` text NOT NULL,
	`thread_id` text,
	`guild_id` text,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`status` text NOT NULL,
	`pause_reason` text,
	`paused_at_ms` integer,
	`digest_minute` integer,
	`last_digest_at_ms` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_subscriptions_chat` ON `alert_subscriptions` (`platform`,`chat_id`);--> statement-breakpoint
CREATE INDEX `alert_subscriptions_digest` ON `alert_subscriptions` (`digest_minute`) WHERE digest_minute is not null;--> statement-breakpoint
CREATE TABLE `alert_thresholds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subscription_id` integer NOT NULL,
	`ratio` real NOT NULL,
	`level_id` integer,
	FOREIGN KEY (`subscription_id`) REFERENCES `alert_subscriptions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_thresholds_sub_ratio` ON `alert_thresholds` (`subscription_id`,`ratio`);--> statement-breakpoint
CREATE INDEX `alert_thresholds_level` ON `alert_thresholds` (`level_id`,`subscription_id`);