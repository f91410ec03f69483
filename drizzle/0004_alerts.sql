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
CREATE INDEX `alert_outbox_sub_created` ON `alert_outbox` (`subscription_id`,`created_at_ms`);--> statement-breakpoint
CREATE TABLE `alert_payloads` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`reply_json` text NOT NULL,
	`crossings_json` text DEFAULT '[]' NOT NULL,
	`created_at_ms` integer NOT NULL
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
	`cooldown_minutes` integer DEFAULT 60 NOT NULL,
	`digest_minute` integer,
	`last_digest_at_ms` integer,
	`last_alert_at_ms` integer,
	`pending_json` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_subscriptions_chat` ON `alert_subscriptions` (`platform`,`chat_id`);--> statement-breakpoint
CREATE INDEX `alert_subscriptions_digest` ON `alert_subscriptions` (`digest_minute`) WHERE digest_minute is not null;--> statement-breakpoint
CREATE INDEX `alert_subscriptions_pending` ON `alert_subscriptions` (`id`) WHERE pending_json is not null;--> statement-breakpoint
CREATE TABLE `alert_thresholds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subscription_id` integer NOT NULL,
	`ratio` real NOT NULL,
	`side` text,
	`last_crossed_at_ms` integer,
	FOREIGN KEY (`subscription_id`) REFERENCES `alert_subscriptions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_thresholds_sub_ratio` ON `alert_thresholds` (`subscription_id`,`ratio`);--> statement-breakpoint
CREATE INDEX `alert_thresholds_side_ratio` ON `alert_thresholds` (`side`,`ratio`,`subscription_id`);