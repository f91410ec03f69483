CREATE TABLE `market_chart_fills` (
	`coin_id` text NOT NULL,
	`days` integer NOT NULL,
	`source` text NOT NULL,
	`fetched_at_ms` integer NOT NULL,
	`points` integer NOT NULL,
	PRIMARY KEY(`coin_id`, `days`)
);
--> statement-breakpoint
CREATE TABLE `market_chart_points` (
	`coin_id` text NOT NULL,
	`at_ms` integer NOT NULL,
	`price_usd` real,
	`market_cap_usd` real,
	`volume_24h_usd` real,
	`source` text NOT NULL,
	`fetched_at_ms` integer NOT NULL,
	PRIMARY KEY(`coin_id`, `at_ms`)
);
