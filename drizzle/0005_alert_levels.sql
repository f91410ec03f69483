-- Threshold state moves from each threshold row to shared levels (alert_levels), and a chat's cooldown
-- state to the narrow alert_cooldowns. Written by hand (drizzle-kit would rebuild the tables, and a DROP
-- TABLE inside the migration's transaction cascades to thresholds and outbox rows): every subscription
-- keeps its thresholds, their sides, its cooldown, its last alert and the crossings waiting for it.
CREATE TABLE `alert_levels` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ratio` real NOT NULL,
	`side` text,
	`last_crossed_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `alert_levels_side_ratio` ON `alert_levels` (`side`,`ratio`);--> statement-breakpoint
CREATE UNIQUE INDEX `alert_levels_unseen` ON `alert_levels` (`ratio`) WHERE side is null;--> statement-breakpoint
CREATE TABLE `alert_pending` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`crossings_json` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_cooldowns` (
	`subscription_id` integer PRIMARY KEY NOT NULL,
	`cooldown_minutes` integer DEFAULT 60 NOT NULL,
	`last_alert_at_ms` integer,
	`pending_id` integer,
	FOREIGN KEY (`subscription_id`) REFERENCES `alert_subscriptions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- One level per (ratio, side) among the thresholds of active chats; paused chats hold no level.
INSERT INTO `alert_levels` (`ratio`, `side`, `last_crossed_at_ms`)
SELECT t.`ratio`, t.`side`, max(t.`last_crossed_at_ms`)
FROM `alert_thresholds` t JOIN `alert_subscriptions` s ON s.`id` = t.`subscription_id`
WHERE s.`status` = 'active'
GROUP BY t.`ratio`, t.`side`;
--> statement-breakpoint
ALTER TABLE `alert_thresholds` ADD `level_id` integer;--> statement-breakpoint
UPDATE `alert_thresholds` SET `level_id` = (
	SELECT l.`id` FROM `alert_levels` l
	WHERE l.`ratio` = `alert_thresholds`.`ratio` AND l.`side` IS `alert_thresholds`.`side`
)
WHERE `subscription_id` IN (SELECT `id` FROM `alert_subscriptions` WHERE `status` = 'active');
--> statement-breakpoint
DROP INDEX `alert_thresholds_side_ratio`;--> statement-breakpoint
ALTER TABLE `alert_thresholds` DROP COLUMN `side`;--> statement-breakpoint
ALTER TABLE `alert_thresholds` DROP COLUMN `last_crossed_at_ms`;--> statement-breakpoint
CREATE INDEX `alert_thresholds_level` ON `alert_thresholds` (`level_id`,`subscription_id`);--> statement-breakpoint
-- Waiting crossings keep their subscription's id as their row id, which is free in a new table.
INSERT INTO `alert_pending` (`id`, `crossings_json`)
SELECT `id`, `pending_json` FROM `alert_subscriptions` WHERE `pending_json` IS NOT NULL;
--> statement-breakpoint
INSERT INTO `alert_cooldowns` (`subscription_id`, `cooldown_minutes`, `last_alert_at_ms`, `pending_id`)
SELECT `id`, `cooldown_minutes`, `last_alert_at_ms`, CASE WHEN `pending_json` IS NOT NULL THEN `id` END
FROM `alert_subscriptions`;
--> statement-breakpoint
DROP INDEX `alert_subscriptions_pending`;--> statement-breakpoint
ALTER TABLE `alert_subscriptions` DROP COLUMN `cooldown_minutes`;--> statement-breakpoint
ALTER TABLE `alert_subscriptions` DROP COLUMN `last_alert_at_ms`;--> statement-breakpoint
ALTER TABLE `alert_subscriptions` DROP COLUMN `pending_json`;--> statement-breakpoint
DROP INDEX `alert_outbox_sub_created`;--> statement-breakpoint
CREATE INDEX `alert_outbox_created` ON `alert_outbox` (`created_at_ms`);
