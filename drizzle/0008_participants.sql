-- Hand edit: caller_days and tee_days are WITHOUT ROWID (drizzle-kit cannot say so), so a window's rows are read
-- from the primary key alone; the /opg network bench reads up to a million caller-days.
CREATE TABLE `caller_days` (
	`day_ms` integer NOT NULL,
	`caller_id` integer NOT NULL,
	`inferences` integer NOT NULL,
	PRIMARY KEY(`day_ms`, `caller_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `callers` (
	`id` integer PRIMARY KEY NOT NULL,
	`address` text NOT NULL,
	`first_day_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `callers_address_unique` ON `callers` (`address`);--> statement-breakpoint
CREATE INDEX `callers_first_day` ON `callers` (`first_day_ms`);--> statement-breakpoint
CREATE TABLE `participant_coverage` (
	`network` text PRIMARY KEY NOT NULL,
	`from_block` integer NOT NULL,
	`from_block_time_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tee_days` (
	`day_ms` integer NOT NULL,
	`tee_id` text NOT NULL,
	`settlements` integer NOT NULL,
	PRIMARY KEY(`day_ms`, `tee_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `tees` (
	`registry` text NOT NULL,
	`tee_id` text NOT NULL,
	`tee_type` integer,
	`owner` text,
	`registered_at_ms` integer,
	`enabled` integer NOT NULL,
	`last_heartbeat_ms` integer,
	PRIMARY KEY(`registry`, `tee_id`)
);
--> statement-breakpoint
CREATE TABLE `workflow_tasks` (
	`user` text NOT NULL,
	`contract_address` text NOT NULL,
	`end_time_sec` integer NOT NULL,
	`frequency` integer NOT NULL,
	`registered` integer NOT NULL,
	`stopped` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`user`, `contract_address`)
);
