CREATE TABLE "alert_evaluated" (
	"id" integer PRIMARY KEY NOT NULL,
	"fetched_at_ms" bigint NOT NULL
);
