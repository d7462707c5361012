CREATE TABLE `classifications` (
	`hash` text NOT NULL,
	`classifier_version` text NOT NULL,
	`access` text NOT NULL,
	`destructive` integer NOT NULL,
	`financial` integer NOT NULL,
	`category` text NOT NULL,
	`risk` text NOT NULL,
	`confidence` real NOT NULL,
	`signals` text NOT NULL,
	`flags` text NOT NULL,
	`source` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	PRIMARY KEY(`hash`, `classifier_version`)
);
--> statement-breakpoint
CREATE INDEX `classifications_cat` ON `classifications` (`category`,`risk`);--> statement-breakpoint
CREATE TABLE `crawl_checkpoints` (
	`source_id` text PRIMARY KEY NOT NULL,
	`cursor` text,
	`state` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `crawl_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text,
	`mode` text NOT NULL,
	`status` text NOT NULL,
	`stats` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `probes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`server_id` integer NOT NULL,
	`started_at` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`transport` text NOT NULL,
	`launch` text NOT NULL,
	`outcome` text NOT NULL,
	`error` text,
	`stderr_tail` text,
	`timings` text NOT NULL,
	`server_info` text,
	`protocol_version` text,
	`capabilities` text,
	`instructions` text,
	`placeholders` text NOT NULL,
	`warnings` text NOT NULL,
	`auth` text,
	`tool_count` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `probes_server` ON `probes` (`server_id`,`started_at`);--> statement-breakpoint
CREATE INDEX `probes_outcome` ON `probes` (`outcome`);--> statement-breakpoint
CREATE TABLE `reported_tools` (
	`source_id` text NOT NULL,
	`server_id` integer NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`raw` text NOT NULL,
	PRIMARY KEY(`source_id`, `server_id`, `name`),
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `server_items` (
	`server_id` integer NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`raw` text NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`server_id`, `kind`, `name`),
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `server_keys` (
	`key` text NOT NULL,
	`server_id` integer NOT NULL,
	PRIMARY KEY(`key`, `server_id`),
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `server_keys_server` ON `server_keys` (`server_id`);--> statement-breakpoint
CREATE TABLE `servers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`title` text,
	`description` text,
	`version` text,
	`repository_url` text,
	`website_url` text,
	`packages` text DEFAULT '[]' NOT NULL,
	`remotes` text DEFAULT '[]' NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`first_seen` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`last_seen` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`last_probe_id` integer,
	`last_ok_probe_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `servers_slug` ON `servers` (`slug`);--> statement-breakpoint
CREATE UNIQUE INDEX `servers_name` ON `servers` (`name`);--> statement-breakpoint
CREATE TABLE `source_errors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer,
	`source_id` text NOT NULL,
	`at` text NOT NULL,
	`error` text NOT NULL,
	`raw` text
);
--> statement-breakpoint
CREATE INDEX `source_errors_source` ON `source_errors` (`source_id`,`at`);--> statement-breakpoint
CREATE TABLE `sources` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` text NOT NULL,
	`source_key` text NOT NULL,
	`server_id` integer NOT NULL,
	`raw` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`upstream_updated_at` text,
	`popularity` real,
	`first_seen` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	`last_seen` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL,
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sources_key` ON `sources` (`source_id`,`source_key`);--> statement-breakpoint
CREATE INDEX `sources_server` ON `sources` (`server_id`);--> statement-breakpoint
CREATE TABLE `tool_versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`server_id` integer NOT NULL,
	`tool_name` text NOT NULL,
	`hash` text NOT NULL,
	`raw` text NOT NULL,
	`first_seen` text NOT NULL,
	`last_seen` text NOT NULL,
	`first_probe_id` integer,
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tool_versions_key` ON `tool_versions` (`server_id`,`tool_name`,`hash`);--> statement-breakpoint
CREATE TABLE `tools` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`server_id` integer NOT NULL,
	`name` text NOT NULL,
	`slug` text NOT NULL,
	`title` text,
	`description` text,
	`input_schema` text,
	`output_schema` text,
	`annotations` text,
	`raw` text NOT NULL,
	`hash` text NOT NULL,
	`first_seen` text NOT NULL,
	`last_seen` text NOT NULL,
	`removed_at` text,
	FOREIGN KEY (`server_id`) REFERENCES `servers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tools_server_name` ON `tools` (`server_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `tools_server_slug` ON `tools` (`server_id`,`slug`);--> statement-breakpoint
CREATE INDEX `tools_hash` ON `tools` (`hash`);