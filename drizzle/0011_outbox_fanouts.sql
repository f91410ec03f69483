CREATE TABLE `alert_outbox_fanouts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`payload_id` integer NOT NULL,
	`created_at_ms` integer NOT NULL,
	`recipients_json` text NOT NULL,
	FOREIGN KEY (`payload_id`) REFERENCES `alert_payloads`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
DROP INDEX `alert_outbox_unsent`;--> statement-breakpoint
CREATE INDEX `alert_outbox_unsent` ON `alert_outbox` (`subscription_id`,`payload_id`) WHERE sent_at_ms is null and failed_at_ms is null;