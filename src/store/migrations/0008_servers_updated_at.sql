-- Issue 20: when anything a server's answers show last changed, as the official registry's updatedAt, so mirrors can
-- sync with `updated_since`. Follows `rev` (migration 0004: the server's columns, its listings, its change events).
ALTER TABLE `servers` ADD `updated_at` text;--> statement-breakpoint
UPDATE `servers` SET `updated_at` = `last_seen`;--> statement-breakpoint
CREATE INDEX `servers_updated_at` ON `servers` (`updated_at`);--> statement-breakpoint
CREATE TRIGGER `servers_updated_at_ai` AFTER INSERT ON `servers` WHEN new.updated_at IS NULL BEGIN
  UPDATE `servers` SET `updated_at` = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE `id` = new.id;
END;--> statement-breakpoint
CREATE TRIGGER `servers_updated_at_au` AFTER UPDATE OF rev ON `servers` WHEN new.rev IS NOT old.rev BEGIN
  UPDATE `servers` SET `updated_at` = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE `id` = new.id;
END;
