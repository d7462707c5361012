ALTER TABLE `tools` ADD `category` text;--> statement-breakpoint
ALTER TABLE `tools` ADD `risk` text;--> statement-breakpoint
CREATE INDEX `tools_category` ON `tools` (`category`,`server_id`,`name`);--> statement-breakpoint
CREATE INDEX `tools_risk` ON `tools` (`risk`,`server_id`,`name`);--> statement-breakpoint
UPDATE `tools` SET
  `category` = (SELECT c.category FROM classifications c WHERE c.hash = tools.hash ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1),
  `risk` = (SELECT c.risk FROM classifications c WHERE c.hash = tools.hash ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1);
