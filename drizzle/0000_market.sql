CREATE TABLE `market_snapshots` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`coin_id` text NOT NULL,
	`fetched_at_ms` integer NOT NULL,
	`source` text NOT NULL,
	`symbol` text NOT NULL,
	`name` text NOT NULL,
	`price_usd` real,
	`price_change_24h_pct` real,
	`market_cap_usd` real,
	`market_cap_rank` integer,
	`fdv_usd` real,
	`volume_24h_usd` real,
	`high_24h_usd` real,
	`low_24h_usd` real,
	`circulating_supply` real,
	`total_supply` real,
	`max_supply` real,
	`source_updated_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `market_snapshots_coin_time` ON `market_snapshots` (`coin_id`,`fetched_at_ms`);--> statement-breakpoint
CREATE TABLE `source_status` (
	`source` text PRIMARY KEY NOT NULL,
	`error` text,
	`failed_at_ms` integer
);
