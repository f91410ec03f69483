CREATE TABLE `alert_listing_prefs` (
	`subscription_id` integer PRIMARY KEY NOT NULL,
	`listings_on` integer NOT NULL,
	FOREIGN KEY (`subscription_id`) REFERENCES `alert_subscriptions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `market_ticker_readings` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`coin_id` text NOT NULL,
	`fetched_at_ms` integer NOT NULL,
	`source` text NOT NULL,
	`pages` integer NOT NULL,
	`truncated` integer NOT NULL,
	`markets` integer NOT NULL,
	`venues` integer NOT NULL,
	`volume_usd` real NOT NULL,
	`busiest_share_pct` real,
	`herfindahl` real,
	`depth_usd` real NOT NULL,
	`turnover` real,
	`spread_median_pct` real,
	`excluded_tickers` integer NOT NULL,
	`excluded_volume_usd` real NOT NULL,
	`tickers_json` text
);
--> statement-breakpoint
CREATE INDEX `market_ticker_readings_coin_time` ON `market_ticker_readings` (`coin_id`,`fetched_at_ms`);--> statement-breakpoint
CREATE TABLE `market_venue_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`coin_id` text NOT NULL,
	`venue_id` text NOT NULL,
	`venue_name` text NOT NULL,
	`kind` text NOT NULL,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `market_venue_events_coin_time` ON `market_venue_events` (`coin_id`,`at_ms`);--> statement-breakpoint
CREATE TABLE `market_venue_volumes` (
	`reading_id` integer NOT NULL,
	`coin_id` text NOT NULL,
	`at_ms` integer NOT NULL,
	`venue_id` text NOT NULL,
	`venue_name` text NOT NULL,
	`markets` integer NOT NULL,
	`volume_usd` real,
	`depth_usd` real,
	PRIMARY KEY(`reading_id`, `venue_id`),
	FOREIGN KEY (`reading_id`) REFERENCES `market_ticker_readings`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `market_venue_volumes_coin_time` ON `market_venue_volumes` (`coin_id`,`at_ms`);--> statement-breakpoint
CREATE TABLE `market_venues` (
	`coin_id` text NOT NULL,
	`venue_id` text NOT NULL,
	`venue_name` text NOT NULL,
	`first_seen_at_ms` integer NOT NULL,
	`last_seen_at_ms` integer NOT NULL,
	PRIMARY KEY(`coin_id`, `venue_id`)
);
