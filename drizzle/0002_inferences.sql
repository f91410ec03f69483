CREATE TABLE `indexer_state` (
	`network` text PRIMARY KEY NOT NULL,
	`from_block` integer NOT NULL,
	`next_block` integer NOT NULL,
	`indexed_block_time_ms` integer,
	`head_block` integer,
	`head_seen_at_ms` integer,
	`undecodable_logs` integer DEFAULT 0 NOT NULL,
	`last_run_at_ms` integer,
	`last_error` text,
	`last_error_at_ms` integer
);
--> statement-breakpoint
CREATE TABLE `inference_hours` (
	`hour_ms` integer NOT NULL,
	`mode` text NOT NULL,
	`kind` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`hour_ms`, `mode`, `kind`)
);
--> statement-breakpoint
CREATE TABLE `network_activity` (
	`network` text PRIMARY KEY NOT NULL,
	`total_transactions` integer NOT NULL,
	`transactions_today` integer NOT NULL,
	`fetched_at_ms` integer NOT NULL
);
