ALTER TABLE `telegram_updates` ADD `claimed_at_ms` integer;--> statement-breakpoint
ALTER TABLE `telegram_updates` ADD `finished_at_ms` integer;--> statement-breakpoint
-- Rows from before claims were recorded belong to updates already taken: they count as finished.
UPDATE `telegram_updates` SET `claimed_at_ms` = `received_at_ms`, `finished_at_ms` = `received_at_ms`;
