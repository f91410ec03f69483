CREATE INDEX `alert_thresholds_sub_level` ON `alert_thresholds` (`subscription_id`,`level_id`);--> statement-breakpoint
-- Evaluation no longer reads each chat's status to find waiting crossings that are due: it relies on a
-- paused chat holding none, as pausing and resubscribing ensure. Drop any a paused chat still holds, and
-- the waiting lists no chat points at any more.
UPDATE `alert_cooldowns` SET `pending_id` = NULL
WHERE `pending_id` IS NOT NULL AND `subscription_id` IN (SELECT `id` FROM `alert_subscriptions` WHERE `status` <> 'active');
--> statement-breakpoint
DELETE FROM `alert_pending` WHERE `id` NOT IN (SELECT `pending_id` FROM `alert_cooldowns` WHERE `pending_id` IS NOT NULL);
